"""What a follow-up visit verifies: the open actions of earlier visits whose item now
passes are closed as done, verified by the visit, in a few statements.

Per verified action, as any closing: history entries (`action.verified`,
`action.status_changed`), the events `action.status_changed` and `action.verified`,
and the status of every plan it is in brought up to date (`plan.completed` when
that was its last open action). For the whole visit, one `actions.status_changed`
carrying every change: what the services that keep per-action state consume (one
message each per visit; the per-action events are for partners). The rows are read once with SQLAlchemy Core,
changed in memory by the rules of `planner.domain`, and written back in one
statement per table; no ORM object is built or flushed per action.

Locking is `planner.store.lock_action`'s order: the plans concerned, in id order,
then the actions, in id order (FOR NO KEY UPDATE).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, select, text

from planner import domain, schemas, store
from planner.models import Action, ImprovementPlan, PlanEntry

COMMENT = "verified on a follow-up visit"


@dataclass
class LockedPlan:
    id: uuid.UUID
    facility_id: str
    facility_name: str
    facility_path: str
    coach_id: str
    coachees: list
    status: str
    agreed_at: datetime | None
    completed_at: datetime | None
    statuses: dict = field(default_factory=dict)  # action id -> status, of its actions

    @property
    def coachee_ids(self) -> list[str]:
        return [c["id"] for c in self.coachees or [] if c.get("account", True)]


@dataclass
class LockedAction:
    id: uuid.UUID
    plan_id: uuid.UUID
    item_code: str | None
    text_fr: str
    text_en: str
    owner_id: str | None
    due_date: date
    status: str
    comment: str
    started_at: datetime | None
    closed_at: datetime | None
    drop_reason: str
    late: bool
    verified_by_submission_id: uuid.UUID | None


PLAN_COLUMNS = [ImprovementPlan.__table__.c[name] for name in (
    "id", "facility_id", "facility_name", "facility_path", "coach_id", "coachees", "status",
    "agreed_at", "completed_at")]
ACTION_COLUMNS = [Action.__table__.c[name] for name in (
    "id", "plan_id", "item_code", "text_fr", "text_en", "owner_id", "due_date", "status",
    "comment", "started_at", "closed_at", "drop_reason", "late", "verified_by_submission_id")]


# The statements of every follow-up visit, built once (their values go as
# parameters): building them per visit cost more CPU than running them.
_P, _A, _E = ImprovementPlan.__table__.c, Action.__table__.c, PlanEntry.__table__.c
LOCK_PLANS = (
    select(*PLAN_COLUMNS).where(_P.id.in_(
        select(_E.plan_id).where(_E.action_id.in_(bindparam("ids", expanding=True)))))
    .order_by(_P.id).with_for_update(key_share=True))
LOCK_ACTIONS = (
    select(*ACTION_COLUMNS).where(_A.id.in_(bindparam("ids", expanding=True)))
    .order_by(_A.id).with_for_update(key_share=True))
PLAN_STATUSES = (
    select(_E.plan_id, _E.action_id, _A.status).join(Action.__table__, _A.id == _E.action_id)
    .where(_E.plan_id.in_(bindparam("plan_ids", expanding=True))))
# One statement for every action (or plan) whatever their number: an executemany
# UPDATE is one round trip per row with psycopg2.
VERIFY_ACTIONS = text(
    "update actions set status = v.status, closed_at = v.closed_at, late = v.late,"
    " verified_by_submission_id = v.submission_id"
    " from unnest(cast(:ids as uuid[]), cast(:statuses as varchar[]),"
    " cast(:closed_at as timestamptz[]), cast(:late as boolean[]),"
    " cast(:submission_ids as uuid[])) as v(id, status, closed_at, late, submission_id)"
    " where actions.id = v.id")
REFRESH_PLANS = text(
    "update plans set status = v.status, completed_at = v.completed_at"
    " from unnest(cast(:ids as uuid[]), cast(:statuses as varchar[]),"
    " cast(:completed_at as timestamptz[])) as v(id, status, completed_at)"
    " where plans.id = v.id")


def lock(session, action_ids) -> tuple[list[LockedPlan], list[LockedAction]]:
    """The plans holding these actions and the actions, locked in the one safe order,
    with the status of every action of those plans."""
    ids = sorted(set(action_ids))
    plans = [LockedPlan(**row._mapping) for row in session.execute(LOCK_PLANS, {"ids": ids})]
    actions = [LockedAction(**row._mapping)
               for row in session.execute(LOCK_ACTIONS, {"ids": ids})]
    by_id = {plan.id: plan for plan in plans}
    if by_id:
        for plan_id, action_id, status in session.execute(PLAN_STATUSES,
                                                          {"plan_ids": list(by_id)}):
            by_id[plan_id].statuses[action_id] = status
    return plans, actions


def verify_passed(session, emit, plan, visit: dict, now: datetime) -> int:
    """Close what the visit found passing; return how many actions it verified."""
    ids = store.candidates_for(session, plan, visit.get("passed_items") or ())
    if not ids:
        return 0
    plans, actions = lock(session, ids)
    at, actor = visit["visited_at"], visit["coach_id"]
    history, changed_plans, verified, changes = [], {}, [], []

    def record(plan_id, action_id, change, details):
        history.append({"plan_id": plan_id, "action_id": action_id, "actor_id": actor,
                        "change": change, "details": details, "at": now})

    for action in actions:
        if action.status not in domain.OPEN:
            continue  # closed meanwhile
        mine = [p for p in plans if action.id in p.statuses]
        if not mine:
            continue  # in no plan: cannot happen, an action is made with its entry
        previous = domain.verify(action, at, visit["submission_id"])
        verified.append(action)
        current = next((p for p in mine if p.id == action.plan_id), mine[0])
        record(current.id, action.id, "action.verified", {
            "submission_id": str(visit["submission_id"]), "from": previous,
            "visited_at": at.isoformat(), "late": action.late})
        record(current.id, action.id, "action.status_changed", {
            "from": previous, "to": action.status, "comment": COMMENT, "reason": "",
            "late": action.late})
        # Stamped with when the planner made the change, not the visit's date: the
        # replicas apply changes in that order, and a person may have changed the
        # action after the visit and before a late sync (the visit's date is in the data).
        change = schemas.status_change(action, current, previous, actor, now, COMMENT)
        changes.append(change)
        emit("action.status_changed", change)
        for each in mine:
            each.statuses[action.id] = action.status
            if _refresh_status(each, at, record, emit):
                changed_plans[each.id] = each
        emit("action.verified", schemas.action_verified(action, current, visit, previous))
    if changes:
        emit("actions.status_changed", schemas.status_changes(changes, visit))
    if verified:
        session.execute(VERIFY_ACTIONS, {
            "ids": [str(a.id) for a in verified], "statuses": [a.status for a in verified],
            "closed_at": [a.closed_at for a in verified], "late": [a.late for a in verified],
            "submission_ids": [str(a.verified_by_submission_id)
                               if a.verified_by_submission_id else None for a in verified]})
    if changed_plans:
        plans_changed = list(changed_plans.values())
        session.execute(REFRESH_PLANS, {
            "ids": [str(p.id) for p in plans_changed],
            "statuses": [p.status for p in plans_changed],
            "completed_at": [p.completed_at for p in plans_changed]})
    if history:
        session.execute(store.INSERT_HISTORY, history)
    return len(verified)


def _refresh_status(plan: LockedPlan, at, record, emit) -> bool:
    """A plan's status from its actions' (as `PlannerService._refresh_status`);
    True when it changed."""
    statuses = list(plan.statuses.values())
    status = domain.derive_plan_status(plan.agreed_at is not None, statuses)
    if status == plan.status:
        return False
    record(plan.id, None, "plan.status_changed", {"from": plan.status, "to": status})
    plan.status = status
    if status == "completed":
        plan.completed_at = at
        emit("plan.completed", {
            **schemas.plan_ref(plan), "completed_at": at,
            "actions_done": statuses.count("done"),
            "actions_dropped": statuses.count("dropped")})
    return True
