"""Org units straight from a DHIS2 server: fetch a subtree page by page, then import
it like a DHIS2 export file (`store.import_org_units`, same rules, same report:
created / updated / unchanged / rejected per unit, idempotent).

    GET /api/40/organisationUnits/{root}?fields=...
    GET /api/40/organisationUnits?filter=path:like:{root}&fields=...&order=level:asc
        &paging=true&page=N&pageSize=500

Used by the service's job timer (progress stored on the job, read over the API)
and by `python -m checklist.importer dhis2-server ROOT` (a tqdm progress bar).
Nothing is written until every page has arrived: DHIS2 failing half-way leaves
the org units as they were, and the job says why.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select

from c2p.dhis2 import Dhis2Client, Dhis2Error
from c2p.errors import InvalidInput, NotFound
from c2p.ids import parse_uuid
from c2p.scope import in_scope
from checklist import places, store
from checklist.models import ImportJob

log = logging.getLogger(__name__)

FIELDS = "id,code,name,path,parent[id],level,geometry"
STALE_AFTER = timedelta(minutes=2)   # a running job without a heartbeat for that long died


def fetch(client: Dhis2Client, root: str, page_size: int = 500, progress=None) -> list[dict]:
    """The root and every unit under it, parents before children (ordered by level).
    `progress(pages_done, pages_total, units_fetched, units_total)` after each page."""
    units = {root: client.get(f"organisationUnits/{root}", {"fields": FIELDS})}
    for page, page_count, total, items in client.pages(
            "organisationUnits", "organisationUnits",
            {"fields": FIELDS, "filter": f"path:like:{root}", "order": "level:asc"},
            page_size=page_size):
        for unit in items:
            if isinstance(unit, dict) and isinstance(unit.get("id"), str):
                units.setdefault(unit["id"], unit)
        if progress:
            progress(page, page_count, len(units), max(total, len(units)))
    return list(units.values())


def run(session, client, root: str, dry_run: bool, page_size: int = 500, progress=None,
        on_fetched=None, scope=None) -> dict:
    """Fetch and import; with a `scope` (the requesting admin's), units outside it
    are rejected, as in any import. The command runs with the operator's rights."""
    units = fetch(client, root, page_size, progress)
    if on_fetched:
        on_fetched(len(units))
    return store.import_org_units(session, "dhis2", {"organisationUnits": units},
                                  dry_run=dry_run, scope=scope)


# --- jobs ---------------------------------------------------------------------

def check_request(body) -> dict:
    if not isinstance(body, dict):
        raise InvalidInput({"body": ["must be a JSON object"]})
    errors = {key: ["unknown field"] for key in sorted(set(body) - {"root", "dry_run"})}
    root = body.get("root")
    if not isinstance(root, str) or not places.ID_PATTERN.match(root):
        errors["root"] = ["must be the DHIS2 id of an org unit (letters and digits)"]
    if not isinstance(body.get("dry_run", False), bool):
        errors["dry_run"] = ["must be true or false"]
    if errors:
        raise InvalidInput(errors)
    return {"root": root, "dry_run": body.get("dry_run", False)}


def queue_job(session, caller, body) -> ImportJob:
    request = check_request(body)
    job = ImportJob(id=uuid.uuid4(), root=request["root"], dry_run=request["dry_run"],
                    requested_by=caller["id"], scope=list(caller["scope"]),
                    status="queued", progress={})
    session.add(job)
    session.flush()
    session.refresh(job)
    return job


def visible_job(session, caller, job_id) -> ImportJob:
    """The job, if the caller's scope covers the requester's (a regional admin never
    reads a national import's report); else NotFound, as for an unknown id."""
    key = parse_uuid(job_id)
    job = session.get(ImportJob, key) if key else None
    if job is None or not all(in_scope(path, caller["scope"]) for path in job.scope):
        raise NotFound(f"import {job_id} not found")
    return job


def job_view(job: ImportJob) -> dict:
    return {"id": str(job.id), "root": job.root, "dry_run": job.dry_run,
            "requested_by": job.requested_by, "status": job.status, "phase": job.phase,
            "progress": job.progress, "summary": job.summary, "lines": job.lines or [],
            "error": job.error,
            "created_at": job.created_at.isoformat() if job.created_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


def claim(session) -> ImportJob | None:
    """The oldest queued job, or one whose runner died (no heartbeat), locked."""
    stale = datetime.now(timezone.utc) - STALE_AFTER
    return session.scalars(select(ImportJob).where(or_(
        ImportJob.status == "queued",
        (ImportJob.status == "running") & (ImportJob.heartbeat_at < stale)))
        .order_by(ImportJob.created_at).limit(1).with_for_update(skip_locked=True)).first()


def run_job(session, job: ImportJob, settings, checkpoint) -> None:
    """Run a claimed job. `checkpoint()` (the entrypoint's unit-of-work commit) makes
    its progress visible as pages arrive; the import itself is one transaction."""
    now = datetime.now(timezone.utc)
    job.status, job.phase, job.heartbeat_at = "running", "fetching", now
    checkpoint()
    if not settings.dhis2_url:
        _finish(job, error="C2P_DHIS2_URL is not set: no DHIS2 server to import from")
        return

    def progress(pages, page_count, units, total):
        job.progress = {"pages_done": pages, "pages_total": page_count,
                        "units_fetched": units, "units_total": total}
        job.heartbeat_at = datetime.now(timezone.utc)
        checkpoint()

    def fetched(count):
        job.phase = "importing"
        job.heartbeat_at = datetime.now(timezone.utc)
        checkpoint()

    client = Dhis2Client.from_settings(settings)
    try:
        report = run(session, client, job.root, job.dry_run, settings.dhis2_page_size,
                     progress, fetched, scope=list(job.scope))
    except (Dhis2Error, InvalidInput) as exc:
        session.rollback()   # nothing of the import; the job's progress is committed
        _finish(session.get(ImportJob, job.id), error=str(exc))
        log.warning("org-unit import from DHIS2 (%s) failed: %s", job.root, exc)
        return
    finally:
        client.close()
    job.summary = {k: report[k] for k in ("created", "updated", "unchanged", "rejected")}
    job.lines = report["lines"]
    _finish(job)


def _finish(job, error=None):
    # Settled with the import by the entrypoint's unit of work.
    job.status = "failed" if error else "done"
    job.phase = None
    job.error = error
    job.finished_at = datetime.now(timezone.utc)
