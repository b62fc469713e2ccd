"""The plan of a scored visit, written in a few statements (the planner's hot path).

A 49-item visit may plan 49 actions: the plan, its new actions, the carried-over
ones, their plan entries and history go to the database as one multi-row insert
per table (SQLAlchemy Core, no ORM object per row, no flush per action), and the
`plan.created` data is built from the same values, not read back.

Functions take a session and never commit (the handler's unit of work does). The
locking order is `planner.store`'s: still-open actions of earlier visits are
locked (FOR NO KEY UPDATE: KEY SHARE) before they are carried over.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from planner import store
from planner.domain import PlannedAction
from planner.models import Action, ImprovementPlan, PlanEntry

# What plan.created says of a carried-over action: its current state, read once.
CARRIED_COLUMNS = (Action.id, Action.item_code, Action.text_fr, Action.text_en,
                   Action.owner_id, Action.responsible_role, Action.due_date, Action.critical,
                   Action.status, Action.origin_plan_id)


@dataclass(frozen=True)
class NewPlan:
    """The plan just written, as the visit's other steps need it (`store.candidates_for`
    reads `id`, `facility_id` and `visited_at`)."""
    id: uuid.UUID
    submission_id: uuid.UUID
    facility_id: str
    facility_name: str
    facility_path: str
    coach_id: str
    visited_at: datetime
    coachees: list

    @property
    def coachee_ids(self) -> list[str]:
        return [c["id"] for c in self.coachees if c.get("account", True)]


# Built once (its values go as parameters): building it per visit cost more CPU
# than running it. One plan per visit (a unique submission id): a copy of the
# visit's event under another id, or one handled at the same time, inserts
# nothing (it waits for the other's row, then finds it).
INSERT_PLAN = pg_insert(ImprovementPlan.__table__).on_conflict_do_nothing(
    index_elements=["submission_id"]).returning(ImprovementPlan.__table__.c.id)


def insert_plan(session, visit: dict, now: datetime) -> NewPlan | None:
    """The visit's plan, inserted; None if the visit has its plan already."""
    plan = NewPlan(
        id=uuid.uuid4(), submission_id=visit["submission_id"],
        facility_id=visit["facility_id"], facility_name=visit["facility_name"],
        facility_path=visit["facility_path"], coach_id=visit["coach_id"],
        visited_at=visit["visited_at"],
        coachees=[{"id": c["id"], "role": c.get("role", ""), "name": c.get("name", ""),
                   "account": c.get("account", True)} for c in visit["coachees"]])
    inserted = session.execute(INSERT_PLAN, dict(
        id=plan.id, submission_id=plan.submission_id, facility_id=plan.facility_id,
        facility_name=plan.facility_name, facility_path=plan.facility_path,
        coach_id=plan.coach_id, status="draft", visited_at=plan.visited_at, created_at=now,
        coachees=plan.coachees, grow_goal="", grow_reality="", grow_options="", grow_will=""))
    return plan if inserted.first() is not None else None


STILL_OPEN = (
    select(*CARRIED_COLUMNS).join(ImprovementPlan, ImprovementPlan.id == Action.plan_id)
    .where(*store.EARLIER_OPEN_ON_ITEMS).order_by(Action.created_at)
    .with_for_update(of=Action, key_share=True))
CARRY_OVER = (update(Action.__table__).where(Action.id.in_(bindparam("ids", expanding=True)))
              .values(recurring=True, plan_id=bindparam("plan_id")))
INSERT_ACTIONS = insert(Action.__table__)
INSERT_ENTRIES = insert(PlanEntry.__table__)


def still_open(session, plan: NewPlan, item_codes) -> dict:
    """{item code: row} of the still-open actions of earlier visits to this facility
    on these items, locked (of two on one item, the newer one)."""
    if not item_codes:
        return {}
    rows = session.execute(STILL_OPEN, {
        "facility_id": plan.facility_id, "plan_id": plan.id, "visited_at": plan.visited_at,
        "item_codes": list(item_codes)}).all()
    return {row.item_code: row for row in rows}


def write_actions(session, plan: NewPlan, planned: list[PlannedAction], carried: dict,
                  now: datetime, actor: str) -> list[dict]:
    """Store the plan's actions (new ones inserted, open ones carried over), their
    entries and history; return `plan.created`'s action list, in plan order."""
    new_rows, entries, history, announced, moved = [], [], [], [], []
    for item in planned:
        if item.carried_over:
            row = carried[item.item_code]
            moved.append(row.id)
            history.append(_history(plan.id, row.id, "system", "action.carried_over",
                                    {"from_plan_id": str(row.origin_plan_id)}, now))
            action_id = row.id
            announced.append(_announced(row.id, row.item_code, row.text_fr, row.text_en,
                                        row.owner_id, row.responsible_role, row.due_date,
                                        row.critical, row.status, True))
        else:
            action_id = uuid.uuid4()
            new_rows.append({
                "id": action_id, "plan_id": plan.id, "origin_plan_id": plan.id,
                "position": item.position, "item_code": item.item_code,
                "text_fr": item.text_fr, "text_en": item.text_en,
                "verification_fr": item.verification_fr,
                "verification_en": item.verification_en,
                "responsible_role": item.responsible_role, "owner_id": item.owner_id,
                "due_date": item.due_date, "critical": item.critical,
                "points_lost": item.points_lost, "status": "todo", "source": "gap",
                "recurring": False, "comment": "", "drop_reason": "", "late": False,
                "alert_state": "none", "created_at": now})
            announced.append(_announced(action_id, item.item_code, item.text_fr, item.text_en,
                                        item.owner_id, item.responsible_role, item.due_date,
                                        item.critical, "todo", False))
        entries.append({"plan_id": plan.id, "action_id": action_id,
                        "position": item.position, "carried_over": bool(item.carried_over)})
    if moved:
        # Its events now name the latest plan.
        session.execute(CARRY_OVER, {"ids": moved, "plan_id": plan.id})
    if new_rows:
        session.execute(INSERT_ACTIONS, new_rows)
    if entries:
        session.execute(INSERT_ENTRIES, entries)
    history.append(_history(plan.id, None, actor, "plan.created",
                            {"submission_id": str(plan.submission_id),
                             "actions": len(planned)}, now))
    session.execute(store.INSERT_HISTORY, history)
    return announced


def plan_created(plan: NewPlan, actions: list[dict]) -> dict:
    """`plan.created`'s data (what `planner.schemas.plan_created` says of an ORM plan)."""
    return {"plan_id": plan.id, "facility_id": plan.facility_id,
            "facility_name": plan.facility_name, "facility_path": plan.facility_path,
            "coach_id": plan.coach_id, "coachee_ids": plan.coachee_ids,
            "submission_id": plan.submission_id, "visited_at": plan.visited_at,
            "actions": actions}


def _announced(action_id, item_code, text_fr, text_en, owner_id, role, due_date, critical,
               status, recurring) -> dict:
    return {"action_id": action_id, "item_code": item_code, "text_fr": text_fr,
            "text_en": text_en, "owner_id": owner_id, "owner_role": role,
            "due_date": due_date, "critical": critical, "status": status,
            "recurring": recurring}


def _history(plan_id, action_id, actor, change, details, at) -> dict:
    return {"plan_id": plan_id, "action_id": action_id, "actor_id": actor or "system",
            "change": change, "details": details, "at": at}
