"""Reading and writing the evidence tables. Functions take a SQLAlchemy session and
never commit: the caller's unit of work does. (The bytes are in the object store,
`evidence.dependencies`.)"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from c2p.database import add_once, multi_row
from c2p.ids import parse_uuid
from c2p.scope import in_scope_clause
from evidence.models import Evidence, EvidenceLog, EvidenceTarget


def target(session, action_id, lock=False) -> EvidenceTarget | None:
    key = parse_uuid(action_id)
    if key is None:
        return None
    return session.get(EvidenceTarget, key, with_for_update=lock)


TARGET_FIELDS = ("plan_id", "facility_id", "facility_path", "facility_name", "coach_id",
                 "owner_id", "due_date")


def _save_targets_statement():
    """Insert a target, or move a known one to this plan; its status is the plan's
    unless a status change was applied already (newer). Built once: executed with
    one parameter set per action, SQLAlchemy sends one multi-row INSERT (`multi_row`)
    without compiling or hashing the rows' values again."""
    statement = insert(EvidenceTarget.__table__)  # Core: no ORM bulk machinery
    new, table = statement.excluded, EvidenceTarget.__table__.c
    return multi_row(statement.on_conflict_do_update(
        index_elements=["action_id"],
        set_={**{column: getattr(new, column) for column in TARGET_FIELDS},
              "status": case((table.status_changed_at.is_(None), new.status),
                             else_=table.status)}), table.action_id)


def _apply_status_statement():
    """Apply a status change unless a newer one was applied already; the rows it
    changed come back, each saying whether accepted evidence waits on it. Status
    news before the plan makes the target from what the event carries."""
    statement = insert(EvidenceTarget.__table__)
    new, table = statement.excluded, EvidenceTarget.__table__.c
    evidence = Evidence.__table__.c
    return statement.on_conflict_do_update(
        index_elements=["action_id"],
        set_={"status": new.status, "status_changed_at": new.status_changed_at},
        where=(table.status_changed_at.is_(None)
               | (table.status_changed_at < new.status_changed_at))
    ).returning(table.action_id, select(evidence.id).where(
        evidence.action_id == table.action_id, evidence.status == "accepted")
        .exists().label("waiting"))


SAVE_TARGETS = _save_targets_statement()
APPLY_STATUS = _apply_status_statement()


def save_targets(session, plan: dict) -> None:
    """Every action of a `plan.created` as a target (one statement). An action already
    known (carried over, or status news that came first) is moved to this plan."""
    if not plan["actions"]:
        return
    # One row per action (a multi-row upsert may not update a row twice), in one
    # lock order for every writer.
    rows = sorted({str(action["action_id"]): {
        "action_id": action["action_id"], "plan_id": plan["plan_id"],
        "facility_id": plan["facility_id"], "facility_path": plan["facility_path"],
        "facility_name": plan["facility_name"], "coach_id": plan["coach_id"],
        "owner_id": action["owner_id"], "due_date": action["due_date"],
        "status": action["status"]} for action in plan["actions"]}.items())
    rows = [row for _, row in rows]
    session.execute(SAVE_TARGETS, rows)


def apply_statuses(session, changes: list[dict]) -> dict:
    """Apply `action.status_changed` data (one statement for all of them): for each
    change applied, its action id -> whether evidence waits for review on it. A
    change not applied (a newer one was: this one arrived late and must not undo
    it) is not in the answer. One change per action."""
    if not changes:
        return {}
    rows = sorted(({"action_id": c["action_id"], "plan_id": c["plan_id"],
                    "facility_id": c["facility_id"], "facility_path": c["facility_path"],
                    "facility_name": c["facility_name"], "coach_id": c["coach_id"],
                    "owner_id": c["owner_id"], "due_date": c["due_date"], "status": c["status"],
                    "status_changed_at": c["changed_at"]} for c in changes),
                  key=lambda row: str(row["action_id"]))  # one lock order for every writer
    return {row.action_id: bool(row.waiting)
            for row in session.execute(APPLY_STATUS, rows)}


def evidence(session, evidence_id, lock=False) -> Evidence | None:
    key = parse_uuid(evidence_id)
    if key is None:
        return None
    return session.get(Evidence, key, with_for_update=lock)


def count_targets(session, plan_id) -> int:
    return session.scalar(select(func.count()).select_from(EvidenceTarget)
                          .where(EvidenceTarget.plan_id == plan_id))


def add_evidence(session, row: Evidence) -> bool:
    """Store a new evidence record (see `c2p.database.add_once`)."""
    return add_once(session, row)


def evidence_of_action(session, action_id) -> list[Evidence]:
    return session.scalars(select(Evidence).where(Evidence.action_id == action_id)
                           .order_by(Evidence.created_at)).all()


def evidence_queue(session, scope, status, facility_id, page, per_page, district_id=None,
                   order="oldest"):
    """(total, evidence of the page) in the scope and status ("any": every status),
    oldest upload first (or newest first)."""
    query = select(Evidence).where(in_scope_clause(Evidence.facility_path, scope))
    if status == "pending_review":  # the queue's name for it
        status = "accepted"
    if status != "any":
        query = query.where(Evidence.status == status)
    if facility_id:
        query = query.where(Evidence.facility_id == facility_id)
    if district_id:
        # Paths are made of ids: a facility of the district has it as a segment.
        escaped = district_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Evidence.facility_path.like(f"%/{escaped}/%", escape="\\"))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    moment = func.coalesce(Evidence.uploaded_at, Evidence.created_at)
    ordering = (moment, Evidence.id) if order == "oldest" else (moment.desc(),
                                                                Evidence.id.desc())
    rows = session.scalars(query.order_by(*ordering)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return total, rows


def unreviewed(session, action_id) -> list[Evidence]:
    """Evidence of an action waiting for review (locked: it is about to settle)."""
    return session.scalars(select(Evidence).where(
        Evidence.action_id == action_id, Evidence.status == "accepted")
        .order_by(Evidence.id).with_for_update()).all()


def log(session, evidence: Evidence, actor: str, what: str, **detail) -> None:
    session.add(EvidenceLog(evidence_id=evidence.id, actor=actor, what=what, detail=detail))


def due_for_purge(session, now: datetime, limit: int) -> list[Evidence]:
    """Withdrawn evidence past its retention, claimed SKIP LOCKED (replicas share)."""
    return session.scalars(select(Evidence).where(
        Evidence.purge_after <= now, Evidence.purged_at.is_(None))
        .order_by(Evidence.purge_after).limit(limit)
        .with_for_update(skip_locked=True)).all()


def stale_uploads(session, now: datetime, limit: int) -> list[Evidence]:
    """Evidence whose upload slot expired since its upload key was last emptied."""
    return session.scalars(select(Evidence).where(
        Evidence.slot_expires_at < now,
        or_(Evidence.upload_swept_at.is_(None),
            Evidence.upload_swept_at < Evidence.slot_expires_at))
        .order_by(Evidence.slot_expires_at).limit(limit)
        .with_for_update(skip_locked=True)).all()
