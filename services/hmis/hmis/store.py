"""Reading and writing the HMIS tables. Functions take a SQLAlchemy session and never
commit: the caller's unit of work does (the service, the export command)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import case, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from c2p.database import multi_row
from c2p.ids import parse_uuid
from c2p.scope import in_scope
from hmis import domain, schemas
from hmis.models import (ExportRun, ExportSettings, Facility, FacilityMonth, MappingEntry,
                         Section, SentValue, TrackedAction, Visit)


def _period(moment) -> str:
    return domain.period_of(moment)


def _mark_dirty_statement():
    statement = insert(FacilityMonth.__table__)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["facility_id", "period"],
        set_={"dirty": True, "facility_path": new.facility_path, "changed_at": new.changed_at})


# Built once (per event only their parameters change).
MARK_DIRTY = _mark_dirty_statement()


def mark_dirty(session, facility_id: str, facility_path: str, period: str) -> None:
    session.execute(MARK_DIRTY, {"facility_id": facility_id, "period": period,
                                 "facility_path": facility_path, "dirty": True,
                                 "changed_at": datetime.now(timezone.utc)})


# --- replicas from events -------------------------------------------------------

RECORD_VISIT = insert(Visit.__table__).on_conflict_do_nothing()  # built once, as MARK_DIRTY


def record_visit(session, data: dict, known_sections: dict | None = None) -> None:
    score = data["score"]
    sections = {s["code"]: s["percent"] for s in score["sections"]}
    period = _period(data["visited_at"])
    session.execute(RECORD_VISIT, dict(
        submission_id=data["submission_id"], facility_id=data["facility_id"],
        facility_path=data["facility_path"], facility_name=data["facility_name"],
        period=period, visited_at=data["visited_at"], percent=score["percent"],
        flagged=score["flagged"], sections=sections, template_code=data["template_code"]))
    save_sections(session, {s["code"]: (s.get("title_fr") or s["code"],
                                         s.get("title_en") or s["code"])
                            for s in score["sections"]}, known_sections)
    mark_dirty(session, data["facility_id"], data["facility_path"], period)


def save_sections(session, titles: dict, known: dict | None = None) -> None:
    """Store the sections' titles ({code: (fr, en)}) that the table does not hold yet.

    `known` (see `hmis.dependencies.KnownSections`) is what was last read from the
    table: when it holds them all, nothing is read or written (the usual case: a
    template's sections do not change); otherwise it is read again, and only what
    is still missing or different is written, in one statement."""
    if known is not None:
        if all(known.get(code) == pair for code, pair in titles.items()):
            return
        known.clear()
        known.update({row.code: (row.title_fr, row.title_en) for row in session.execute(
            select(Section.code, Section.title_fr, Section.title_en))})
        titles = {code: pair for code, pair in titles.items() if known.get(code) != pair}
    if not titles:
        return
    statement = insert(Section).values([{"code": code, "title_fr": fr, "title_en": en}
                                        for code, (fr, en) in sorted(titles.items())])
    new = statement.excluded
    session.execute(statement.on_conflict_do_update(
        index_elements=["code"], set_={"title_fr": new.title_fr, "title_en": new.title_en},
        where=tuple_(Section.title_fr, Section.title_en).is_distinct_from(
            tuple_(new.title_fr, new.title_en))))


def _upsert_action_statement():
    """Insert an action, or apply the event to it unless a newer one was (`as_of`);
    `created_at` is the earliest seen."""
    statement = insert(TrackedAction.__table__)
    new, table = statement.excluded, TrackedAction.__table__.c
    newer = new.as_of >= table.as_of
    return multi_row(statement.on_conflict_do_update(
        index_elements=["action_id"],
        set_={"created_at": func.least(table.created_at, new.created_at),
              **{column: case((newer, getattr(new, column)), else_=getattr(table, column))
                 for column in ("status", "due_date", "as_of", "facility_path", "closed_at")}}),
        table.action_id)


UPSERT_ACTION = _upsert_action_statement()


def record_actions(session, changes: list[dict]) -> None:
    """Apply what an event says of its actions (one upsert for all of them), each
    unless a newer event already did; then mark the facility-months concerned.

    Each change: action_id, facility_id, facility_path, due_date, status, at, and
    closed_at (kept only for a closed status), and created_at when the action
    existed before `at` (a plan's actions: from its visit on; every month since
    then counts it open, and is marked)."""
    if not changes:
        return
    rows = [{"action_id": c["action_id"], "facility_id": c["facility_id"],
             "facility_path": c["facility_path"],
             "created_at": c.get("created_at") or c["at"],
             "due_date": c["due_date"], "status": c["status"],
             "closed_at": c.get("closed_at") if c["status"] in domain.CLOSED else None,
             "as_of": c["at"]} for c in changes]
    # One row per action (the newest): a multi-row upsert may not update a row twice.
    newest = {}
    for row in sorted(rows, key=lambda row: row["as_of"]):
        newest[str(row["action_id"])] = row
    rows = [newest[key] for key in sorted(newest)]  # one lock order for every writer
    session.execute(UPSERT_ACTION, rows)  # one multi-row statement (multi_row)
    for facility_id, facility_path, period in sorted(
            {(c["facility_id"], c["facility_path"], period)
             for c in changes
             for period in domain.periods_from(c.get("created_at") or c["at"], c["at"])}):
        mark_dirty(session, facility_id, facility_path, period)


# --- the mapping --------------------------------------------------------------------

def state(session, lock=False, skip_locked=False) -> ExportSettings | None:
    """The one export-state row (made if missing), locked if asked; None when
    `skip_locked` and another export holds it."""
    session.execute(insert(ExportSettings).values(id=1, org_unit_scheme="UID", failures=0)
                    .on_conflict_do_nothing())
    query = select(ExportSettings).where(ExportSettings.id == 1)
    if lock:
        query = query.with_for_update(skip_locked=skip_locked)
    return session.scalars(query).first()


def mapping(session) -> dict:
    settings = state(session)
    entries = [{"figure": e.figure, "data_element": e.data_element,
                "category_option_combo": e.category_option_combo, "id_scheme": e.id_scheme}
               for e in session.scalars(select(MappingEntry).order_by(MappingEntry.figure))]
    return {"org_unit_scheme": settings.org_unit_scheme, "data_set": settings.data_set,
            "entries": entries,
            "updated_at": settings.mapping_updated_at.isoformat()
            if settings.mapping_updated_at else None,
            "updated_by": settings.mapping_updated_by}


def save_mapping(session, normalised: dict, by: str) -> dict:
    settings = state(session, lock=True)
    settings.org_unit_scheme = normalised["org_unit_scheme"]
    settings.data_set = normalised["data_set"]
    settings.mapping_updated_at = datetime.now(timezone.utc)
    settings.mapping_updated_by = by
    session.execute(delete(MappingEntry))
    session.add_all(MappingEntry(**entry) for entry in normalised["entries"])
    # Values now go elsewhere: every known month is looked at again by the next export
    # (only values whose target changed are sent).
    session.execute(update(FacilityMonth).values(dirty=True))
    session.flush()
    return mapping(session)


def sections(session) -> list[dict]:
    return [{"code": s.code, "title_fr": s.title_fr, "title_en": s.title_en}
            for s in session.scalars(select(Section).order_by(Section.code))]


# --- what to export -----------------------------------------------------------------

def facility_months(session, periods=None, dirty=False) -> dict:
    """{(facility_id, period): facility_path} of the months to look at: the dirty
    ones, and/or every facility with a visit or a live action in `periods`."""
    found = {}
    if dirty:
        for row in session.execute(select(FacilityMonth.facility_id, FacilityMonth.period,
                                          FacilityMonth.facility_path)
                                   .where(FacilityMonth.dirty.is_(True))):
            found[(row.facility_id, row.period)] = row.facility_path
    for period in periods or ():
        start, end = domain.period_bounds(period)
        for row in session.execute(select(Visit.facility_id, Visit.facility_path)
                                   .where(Visit.period == period).distinct()):
            found[(row.facility_id, period)] = row.facility_path
        for row in session.execute(
                select(TrackedAction.facility_id, TrackedAction.facility_path)
                .where(TrackedAction.created_at < end,
                       or_(TrackedAction.closed_at.is_(None),
                           TrackedAction.closed_at >= start)).distinct()):
            found.setdefault((row.facility_id, period), row.facility_path)
    return found


def figures(session, months: dict, now: datetime) -> dict:
    """{(facility_id, period): {figure: value}} for the given facility-months."""
    facilities = sorted({f for f, _ in months})
    visits, actions = {}, {}
    for chunk in _chunks(facilities, 500):
        for visit in session.scalars(select(Visit).where(Visit.facility_id.in_(chunk))):
            visits.setdefault((visit.facility_id, visit.period), []).append(
                domain.VisitFacts(visit.percent, visit.sections))
        for action in session.scalars(select(TrackedAction)
                                      .where(TrackedAction.facility_id.in_(chunk))):
            actions.setdefault(action.facility_id, []).append(domain.ActionFacts(
                action.created_at, action.due_date, action.status, action.closed_at))
    return {(facility, period): domain.month_figures(
        period, visits.get((facility, period), []), actions.get(facility, []), now)
        for facility, period in months}


def sent(session, months) -> dict:
    """{(facility_id, period, figure): domain.Sent} for the given facility-months."""
    wanted = set(months)
    found = {}
    for period in sorted({p for _, p in wanted}):
        facilities = sorted(f for f, p in wanted if p == period)
        for chunk in _chunks(facilities, 1000):
            for row in session.scalars(select(SentValue).where(
                    SentValue.period == period, SentValue.facility_id.in_(chunk))):
                found[(row.facility_id, row.period, row.figure)] = domain.Sent(
                    row.target, row.value, row.status, row.retry_after, row.attempts)
    return found


def record_sent(session, chunk, rejected: dict, previous: dict, now) -> None:
    """Remember what DHIS2 accepted, and what it refused with why (one statement per
    chunk: a national export remembers tens of thousands of values)."""
    rows = {}
    for index, value in enumerate(chunk):
        reason = rejected.get(index)
        row = {"facility_id": value.facility_id, "period": value.period,
               "figure": value.figure, "target": value.target, "value": value.value,
               "at": now, "status": "sent", "attempts": 0, "retry_after": None,
               "reason": None}
        if reason is not None:
            before = previous.get((value.facility_id, value.period, value.figure))
            again = before is not None and before.status == "rejected" and (
                before.target, before.value) == (value.target, value.value)
            attempts = (before.attempts if again else 0) + 1
            row.update(status="rejected", attempts=attempts, reason=reason[:1000],
                       retry_after=domain.retry_after(attempts, now))
        # One row per value (a multi-row upsert may not update a row twice).
        rows[(value.facility_id, value.period, value.figure)] = row
    if not rows:
        return
    statement = insert(SentValue)
    session.execute(multi_row(statement.on_conflict_do_update(
        index_elements=["facility_id", "period", "figure"],
        set_={name: statement.excluded[name] for name in (
            "target", "value", "at", "status", "attempts", "retry_after", "reason")}),
        SentValue.facility_id), list(rows.values()))


def clean(session, months) -> None:
    keys = list(months)
    for chunk in _chunks(keys, 1000):
        session.execute(update(FacilityMonth).where(
            tuple_(FacilityMonth.facility_id, FacilityMonth.period).in_(chunk))
            .values(dirty=False))


# --- facilities' DHIS2 identifiers ---------------------------------------------------

def cached_refs(session, facility_ids) -> dict:
    found = {}
    for chunk in _chunks(sorted(facility_ids), 500):
        for row in session.scalars(select(Facility).where(Facility.facility_id.in_(chunk))):
            found[row.facility_id] = {"dhis2_id": row.dhis2_id, "code": row.code}
    return found


def cache_refs(session, refs: dict) -> None:
    now = datetime.now(timezone.utc)
    rows = [{"facility_id": facility_id, "dhis2_id": ref.get("dhis2_id"),
             "code": ref.get("code"), "refreshed_at": now} for facility_id, ref in refs.items()]
    if rows:
        statement = insert(Facility)
        session.execute(multi_row(statement.on_conflict_do_update(
            index_elements=["facility_id"],
            set_={name: statement.excluded[name] for name in ("dhis2_id", "code",
                                                              "refreshed_at")}),
            Facility.facility_id), rows)


# --- runs -------------------------------------------------------------------------------

def visible(run: ExportRun, scope) -> bool:
    """A run is shown to a caller whose scope covers everything the run covered."""
    return all(in_scope(path, scope) for path in run.scope or [])


def queue_export(session, caller, period, dry_run, send_all) -> ExportRun:
    run = ExportRun(id=uuid.uuid4(), trigger="api", requested_by=caller["id"],
                    scope=list(caller["scope"]), period=period, dry_run=dry_run,
                    send_all=send_all, status="queued", conflicts=[], skipped=[],
                    payloads=[])
    session.add(run)
    session.flush()
    session.refresh(run)
    return run


def visible_run(session, scope, run_id) -> ExportRun | None:
    key = parse_uuid(run_id)
    run = session.get(ExportRun, key) if key else None
    return run if run is not None and visible(run, scope) else None


def list_runs(session, scope, page: int, per_page: int) -> dict:
    # Runs are few (one per export with something to send): filter in Python by scope.
    rows = [r for r in session.scalars(select(ExportRun).order_by(
        ExportRun.created_at.desc()).limit(5000)) if visible(r, scope)]
    start = (page - 1) * per_page
    return {"total": len(rows), "page": page, "per_page": per_page,
            "items": [schemas.run_view(r, full=False)
                      for r in rows[start:start + per_page]]}


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def next_queued(session) -> ExportRun | None:
    """The oldest export an admin asked for, locked so one worker runs it."""
    return session.scalars(select(ExportRun).where(ExportRun.status == "queued")
                           .order_by(ExportRun.created_at).limit(1)
                           .with_for_update(skip_locked=True)).first()
