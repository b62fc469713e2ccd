"""Improvement plans: their actions, GROW notes, history, and the progress figures
of dashboards. Requests are loaded by the planner; views dumped by the gateway.
"""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from c2p.api.checklists import Coachee
from c2p.api.core import Day, Query, Strict, Timestamp, View
from c2p.api.pages import PageQuery, PageView

# --- vocabulary (the planner's domain uses the same tuples) ---------------------

OPEN = ("todo", "in_progress", "awaiting_review")
CLOSED = ("done", "dropped")
ACTION_STATUSES = OPEN + CLOSED
PLAN_STATUSES = ("draft", "agreed", "in_progress", "completed")
PROGRESS_GROUPS = ("plan", "coachee", "facility", "district")
ACTION_SOURCES = ("gap", "coach")

TEXT = validate.Length(min=1, max=2000)
NOTE = validate.Length(max=5000)
PERSON = validate.Length(min=1, max=64)


# --- requests ----------------------------------------------------------------------

class ActionChange(Strict):
    """A coach rewords an action, moves its due date or gives it to someone else."""
    text_fr = fields.String(validate=TEXT)
    text_en = fields.String(validate=TEXT)
    verification_fr = fields.String(validate=validate.Length(max=2000))
    verification_en = fields.String(validate=validate.Length(max=2000))
    due_date = fields.Date()
    owner_id = fields.String(validate=PERSON, allow_none=True)

    @validates_schema
    def something(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of " + ", ".join(sorted(self.fields)), "_")


class StatusChange(Strict):
    status = fields.String(required=True, validate=validate.OneOf(ACTION_STATUSES))
    comment = fields.String(load_default="", validate=NOTE)
    reason = fields.String(load_default="", validate=NOTE,
                           metadata={"description": "required to drop an action"})


class NewAction(Strict):
    """An action the coach adds; its client-generated id makes a retried sync harmless."""
    id = fields.UUID(required=True)
    text_fr = fields.String(validate=TEXT)
    text_en = fields.String(validate=TEXT)
    verification_fr = fields.String(load_default="", validate=validate.Length(max=2000))
    verification_en = fields.String(load_default="", validate=validate.Length(max=2000))
    responsible_role = fields.String(load_default="", validate=validate.Length(max=64))
    owner_id = fields.String(load_default=None, validate=PERSON, allow_none=True)
    due_date = fields.Date(required=True)
    critical = fields.Boolean(load_default=False)

    @validates_schema
    def some_text(self, data, **kwargs):
        if not data.get("text_fr") and not data.get("text_en"):
            raise ValidationError("text_fr or text_en is required", "text_fr")


class GrowNotes(Strict):
    """The GROW conversation's notes; fields left out are kept."""
    goal = fields.String(validate=NOTE)
    reality = fields.String(validate=NOTE)
    options = fields.String(validate=NOTE)
    will = fields.String(validate=NOTE)

    @validates_schema
    def something(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of goal, reality, options, will", "_")


class PlanFilters(PageQuery):
    """`GET /plans`: the query string, and what the planner's `list_plans` loads."""
    facility_id = fields.String(load_default=None, allow_none=True, validate=PERSON)
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(PLAN_STATUSES))


class ProgressQuery(Query):
    by = fields.String(required=True, validate=validate.OneOf(PROGRESS_GROUPS))
    since = Day(load_default=None, allow_none=True,
                metadata={"description": "actions (by=plan: plans) created from this day"})
    until = Day(load_default=None, allow_none=True,
                metadata={"description": "... up to this day, included"})

    @validates_schema
    def ordered(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError("must not be after until", "since")


class ProgressPageQuery(ProgressQuery, PageQuery):
    """`GET /dashboards/progress`: the progress query, one page of groups."""


class MyActionFilters(PageQuery):
    """`GET /me/actions`: status (one, or open / closed / all), overdue, due window,
    facility."""
    status = fields.String(load_default="open", validate=validate.OneOf(
        list(ACTION_STATUSES) + ["open", "closed", "all"]),
        metadata={"description": "a status, or open (default), closed, all"})
    overdue = fields.Boolean(load_default=None, allow_none=True,
                             metadata={"description": "true: only overdue; false: none"})
    due_before = Day(load_default=None, allow_none=True,
                     metadata={"description": "due on or before this day"})
    due_after = Day(load_default=None, allow_none=True,
                    metadata={"description": "due on or after this day"})
    facility_id = fields.String(load_default=None, allow_none=True, validate=PERSON)


class NewComment(Strict):
    """A comment on an action; its client-generated id makes a retried sync harmless."""
    id = fields.UUID(required=True, metadata={"description": "client-generated"})
    text = fields.String(required=True, validate=TEXT)

    @validates_schema
    def not_blank(self, data, **kwargs):
        if not (data.get("text") or "").strip():
            raise ValidationError("must not be blank", "text")


class CommentQuery(PageQuery):
    """`GET /plans/{id}/actions/{id}/comments`."""


# --- views ---------------------------------------------------------------------------

class ActionView(View):
    id = fields.UUID(required=True)
    position = fields.Integer(required=True)
    item_code = fields.String(required=True, allow_none=True,
                              metadata={"description": "null for a coach's own action"})
    text_fr = fields.String(required=True)
    text_en = fields.String(required=True)
    verification_fr = fields.String(required=True)
    verification_en = fields.String(required=True)
    responsible_role = fields.String(required=True)
    owner_id = fields.String(required=True, allow_none=True)
    due_date = Day(required=True)
    critical = fields.Boolean(required=True)
    points_lost = fields.Float(required=True)
    status = fields.String(required=True, validate=validate.OneOf(ACTION_STATUSES))
    source = fields.String(required=True, validate=validate.OneOf(ACTION_SOURCES))
    recurring = fields.Boolean(required=True)
    carried_over = fields.Boolean(required=True)
    origin_plan_id = fields.UUID(required=True, allow_none=True)
    comment = fields.String(required=True, allow_none=True)
    drop_reason = fields.String(required=True, allow_none=True)
    late = fields.Boolean(required=True)
    overdue = fields.Boolean(required=True)
    created_at = Timestamp(required=True, allow_none=True)
    started_at = Timestamp(required=True, allow_none=True)
    closed_at = Timestamp(required=True, allow_none=True)
    verified_by_submission_id = fields.UUID(required=True, allow_none=True, metadata={
        "description": "the follow-up visit that found the item passing and closed it"})


class MyActionView(View):
    """One line of a person's action list, with the plan and facility it belongs to."""
    id = fields.UUID(required=True)
    plan_id = fields.UUID(required=True)
    plan_status = fields.String(required=True, validate=validate.OneOf(PLAN_STATUSES))
    submission_id = fields.UUID(required=True)
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    item_code = fields.String(required=True, allow_none=True)
    text_fr = fields.String(required=True)
    text_en = fields.String(required=True)
    verification_fr = fields.String(required=True)
    verification_en = fields.String(required=True)
    owner_id = fields.String(required=True, allow_none=True)
    relation = fields.String(required=True, validate=validate.OneOf(["owner", "coach"]),
                             metadata={"description": "why it is on the caller's list"})
    status = fields.String(required=True, validate=validate.OneOf(ACTION_STATUSES))
    due_date = Day(required=True)
    critical = fields.Boolean(required=True)
    overdue = fields.Boolean(required=True)
    days_late = fields.Integer(required=True, allow_none=True,
                               metadata={"description": "overdue actions only"})
    days_left = fields.Integer(required=True, allow_none=True,
                               metadata={"description": "open actions not yet overdue"})
    comments = fields.Integer(required=True, metadata={"description": "how many comments"})
    verified_by_submission_id = fields.UUID(required=True, allow_none=True)
    closed_at = Timestamp(required=True, allow_none=True)


class CommentView(View):
    """One message of the conversation on an action."""
    id = fields.UUID(required=True)
    action_id = fields.UUID(required=True)
    plan_id = fields.UUID(required=True)
    author_id = fields.String(required=True)
    author_role = fields.String(required=True, validate=validate.OneOf(["coach", "coachee"]),
                                metadata={"description": "the side of the conversation"})
    text = fields.String(required=True)
    created_at = Timestamp(required=True)


class CommentPage(PageView):
    """The conversation on an action, oldest first (one page)."""
    action_id = fields.UUID(required=True)
    items = fields.List(fields.Nested(CommentView), required=True)


class Confirmation(View):
    by = fields.String(required=True)
    at = Timestamp(required=True)


class Agreement(View):
    coach = fields.Nested(Confirmation, required=True, allow_none=True)
    coachee = fields.Nested(Confirmation, required=True, allow_none=True)
    agreed_at = Timestamp(required=True, allow_none=True)


class GrowView(View):
    goal = fields.String(required=True)
    reality = fields.String(required=True)
    options = fields.String(required=True)
    will = fields.String(required=True)


class PlanView(View):
    """An improvement plan with its actions."""
    id = fields.UUID(required=True)
    submission_id = fields.UUID(required=True)
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    coach_id = fields.String(required=True)
    coachees = fields.List(fields.Nested(Coachee), required=True)
    status = fields.String(required=True, validate=validate.OneOf(PLAN_STATUSES))
    created_at = Timestamp(required=True)
    visited_at = Timestamp(required=True, allow_none=True)
    agreement = fields.Nested(Agreement, required=True)
    completed_at = Timestamp(required=True, allow_none=True)
    grow = fields.Nested(GrowView, required=True)
    actions = fields.List(fields.Nested(ActionView), required=True)


class ActionCounts(View):
    total = fields.Integer(required=True)
    done = fields.Integer(required=True)
    dropped = fields.Integer(required=True)
    open = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class PlanSummaryView(View):
    """A plan in a list: its action counts instead of its actions."""
    id = fields.UUID(required=True)
    submission_id = fields.UUID(required=True)
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    coach_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(PLAN_STATUSES))
    created_at = Timestamp(required=True)
    visited_at = Timestamp(required=True, allow_none=True)
    actions = fields.Nested(ActionCounts, required=True)


class HistoryEntryView(View):
    at = Timestamp(required=True)
    actor_id = fields.String(required=True, metadata={"description": "an account, or system"})
    change = fields.String(required=True, metadata={
        "description": "plan.created, action.status_changed, grow.updated, ..."})
    action_id = fields.UUID(required=True, allow_none=True)
    plan_id = fields.UUID(required=True)
    details = fields.Dict(required=True, metadata={"description": "what changed (by change)"})


class PlanHistoryView(PageView):
    """What happened to a plan and its actions, oldest first (one page)."""
    plan_id = fields.UUID(required=True)
    items = fields.List(fields.Nested(HistoryEntryView), required=True)


class ProgressRow(View):
    key = fields.String(required=True, metadata={
        "description": "plan id, owner id, facility id or district path (by `by`)"})
    label = fields.String(required=True, allow_none=True)
    facility_path = fields.String(required=True, allow_none=True)
    done = fields.Integer(required=True)
    open = fields.Integer(required=True)
    overdue = fields.Integer(required=True)
    dropped = fields.Integer(required=True)
    total = fields.Integer(required=True)
    percent_done = fields.Float(required=True)
    median_days_to_close = fields.Float(required=True, allow_none=True)
