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

from sqlalchemy import insert, select, update

from planner import domain, schemas, store
from planner.models import Action, HistoryEntry, ImprovementPlan, PlanEntry

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


def lock(session, action_ids) -> tuple[list[LockedPlan], list[LockedAction]]:
    """The plans holding these actions and the actions, locked in the one safe order,
    with the status of every action of those plans."""
    ids = sorted(set(action_ids))
    plans = [LockedPlan(**row._mapping) for row in session.execute(
        select(*PLAN_COLUMNS).where(ImprovementPlan.id.in_(
            select(PlanEntry.plan_id).where(PlanEntry.action_id.in_(ids))))
        .order_by(ImprovementPlan.id).with_for_update(key_share=True))]
    actions = [LockedAction(**row._mapping) for row in session.execute(
        select(*ACTION_COLUMNS).where(Action.id.in_(ids)).order_by(Action.id)
        .with_for_update(key_share=True))]
    by_id = {plan.id: plan for plan in plans}
    if by_id:
        for plan_id, action_id, status in session.execute(
                select(PlanEntry.plan_id, PlanEntry.action_id, Action.status)
                .join(Action, Action.id == PlanEntry.action_id)
                .where(PlanEntry.plan_id.in_(list(by_id)))):
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
        change = schemas.status_change(action, current, previous, actor, at, COMMENT)
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
        session.execute(update(Action), [
            {"id": a.id, "status": a.status, "closed_at": a.closed_at, "late": a.late,
             "verified_by_submission_id": a.verified_by_submission_id} for a in verified])
    if changed_plans:
        session.execute(update(ImprovementPlan), [
            {"id": p.id, "status": p.status, "completed_at": p.completed_at}
            for p in changed_plans.values()])
    if history:
        session.execute(insert(HistoryEntry.__table__), history)
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
