"""Events published by the planner service."""
from marshmallow import fields, validate

from c2p.contracts.events import Data, contract


class PlannedAction(Data):
    action_id = fields.UUID(required=True)
    item_code = fields.String(required=True, allow_none=True)
    text_fr = fields.String(required=True)
    text_en = fields.String(required=True)
    owner_id = fields.String(required=True, allow_none=True)
    owner_role = fields.String(required=True)
    due_date = fields.Date(required=True)
    critical = fields.Boolean(required=True)
    status = fields.String(required=True)
    # carried over from an earlier visit, still open (same action id as before)
    recurring = fields.Boolean(load_default=False, dump_default=False)


@contract("plan.created", 1)
class PlanCreated(Data):
    plan_id = fields.UUID(required=True)
    submission_id = fields.UUID(required=True)
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    coach_id = fields.String(required=True)
    coachee_ids = fields.List(fields.String(), load_default=list, dump_default=list)
    actions = fields.List(fields.Nested(PlannedAction), required=True)
    # When the visit was made: the plan is drawn up with the team on the day, however
    # late the phone synced it (absent from events published before 1 Dec 2026).
    visited_at = fields.AwareDateTime(load_default=None, dump_default=None, allow_none=True)


class PlanRef(Data):
    """Who and where a plan concerns: in every planner event, for routing alerts."""
    plan_id = fields.UUID(required=True)
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    coach_id = fields.String(required=True)
    coachee_ids = fields.List(fields.String(), load_default=list, dump_default=list)


@contract("plan.agreed", 1)
class PlanAgreed(PlanRef):
    agreed_by = fields.List(fields.String(), required=True)
    agreed_at = fields.AwareDateTime(required=True)


@contract("plan.completed", 1)
class PlanCompleted(PlanRef):
    completed_at = fields.AwareDateTime(required=True)
    actions_done = fields.Integer(required=True)
    actions_dropped = fields.Integer(required=True)


ACTION_STATUSES = ["todo", "in_progress", "awaiting_review", "done", "dropped"]


class ActionRef(PlanRef):
    action_id = fields.UUID(required=True)
    item_code = fields.String(required=True, allow_none=True)
    text_fr = fields.String(required=True)
    text_en = fields.String(required=True)
    owner_id = fields.String(required=True, allow_none=True)
    due_date = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(ACTION_STATUSES))


@contract("action.status_changed", 1)
class ActionStatusChanged(ActionRef):
    from_status = fields.String(required=True, validate=validate.OneOf(ACTION_STATUSES))
    changed_by = fields.String(required=True)
    changed_at = fields.AwareDateTime(required=True)
    comment = fields.String(load_default="", dump_default="")
    late = fields.Boolean(required=True)  # done after its due date
    # Also in an `actions.status_changed`, which C2P's own services consume instead.
    batched = fields.Boolean(load_default=False, dump_default=False)


@contract("actions.status_changed", 1)
class ActionsStatusChanged(Data):
    """Every status change one operation made, in one event: one change when a
    person moves an action, every action a follow-up visit verified when a visit
    closes them. Each change is exactly an `action.status_changed`, which is
    still published for each one: subscribe to either, never to both.

    For services that keep per-action state (evidence, hmis, notify): a visit
    that verifies twelve actions is one message to each of them, not twelve."""
    changes = fields.List(fields.Nested(ActionStatusChanged), required=True,
                          validate=validate.Length(min=1))
    # The follow-up visit that verified these actions (all done); none when a
    # person made the change.
    submission_id = fields.UUID(load_default=None, dump_default=None, allow_none=True)
    visited_at = fields.AwareDateTime(load_default=None, dump_default=None, allow_none=True)


@contract("action.due_soon", 1)
class ActionDueSoon(ActionRef):
    days_left = fields.Integer(required=True)


@contract("action.overdue", 1)
class ActionOverdue(ActionRef):
    days_late = fields.Integer(required=True)


@contract("action.verified", 1)
class ActionVerified(ActionRef):
    """A follow-up visit found the action's item passing: the action is closed
    (done) as verified by that visit."""
    from_status = fields.String(required=True, validate=validate.OneOf(ACTION_STATUSES))
    submission_id = fields.UUID(required=True)  # the visit that verified it
    visited_at = fields.AwareDateTime(required=True)
    verified_by = fields.String(required=True)  # the coach of that visit
    late = fields.Boolean(required=True)
    # Also in an `actions.status_changed`, which C2P's own services consume instead.
    batched = fields.Boolean(load_default=False, dump_default=False)


@contract("action.commented", 1)
class ActionCommented(ActionRef):
    """A message in the conversation on an action (coach and coachees)."""
    comment_id = fields.UUID(required=True)
    author_id = fields.String(required=True)
    author_role = fields.String(required=True)
    text = fields.String(required=True)
    commented_at = fields.AwareDateTime(required=True)
