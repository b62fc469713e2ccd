"""One export to DHIS2, as the timer, the command and the admins' API run it.

    run = export(session, client, refs, trigger="timer", backoff_s=(60, 300, ...))

Under a lock on the one export-state row (FOR UPDATE SKIP LOCKED: replicas, the
command and the API never export at once). What happens:

1. the facility-months to look at: for the timer, those changed since the last
   export plus the month under way and the one before (open and overdue actions
   move with time alone); for a chosen period, every facility of that month;
2. their figures, the values DHIS2 does not hold yet (`domain.plan_values`);
3. one POST per id scheme and per 1000 values, `CREATE_AND_UPDATE` (dryRun when
   asked); each value DHIS2 accepted is remembered, each it refused is kept with
   the reason and tried again later (`domain.retry_after`);
4. DHIS2 down, slow or refusing the credentials: nothing is marked sent, the
   months stay to export, the next timer try waits (`backoff_s`), and the run
   says why. Nothing is lost: the figures are recomputed from the replicas.

Every run that sent (or tried to send) something is logged in `hmis_export_runs`
with DHIS2's import summary, for the admins.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone

from c2p.dhis2 import Dhis2Error, Dhis2Unavailable
from c2p.scope import in_scope
from hmis import domain, store
from hmis.models import ExportRun

log = logging.getLogger(__name__)

MAX_LOGGED_VALUES = 2000   # values kept in a run's `payloads` (the log, not the data)


class Busy(Exception):
    """Another export holds the lock."""


def _country_roots(paths) -> list[str]:
    return sorted({"/" + p.strip("/").split("/")[0] for p in paths if p.strip("/")})


def export(session, client, refs, *, trigger: str, period: str | None = None,
           dry_run: bool = False, send_all: bool = False, scope=None,
           requested_by: str | None = None, run: ExportRun | None = None,
           backoff_s=(60, 300, 900, 3600), now: datetime | None = None):
    """Export once; returns the ExportRun logged, or None when the timer had nothing
    to do (or is waiting out a back-off). Raises Busy if another export runs.

    `client`: a `c2p.dhis2.Dhis2Client`, or None when no DHIS2 is configured (a
    dry run then still shows the payload). `refs(facility_ids)`: the facilities'
    DHIS2 ids and codes (the checklist service); if it fails, the cached ones.
    """
    now = now or datetime.now(timezone.utc)
    # The timer skips a tick while another export runs; an export an admin asked for
    # waits for it instead (the lock is held for one export, bounded by the DHIS2
    # timeout): skipping, it could miss the lock at every try when its checks fall
    # in step with the timer's ticks, and never run.
    state = store.state(session, lock=True, skip_locked=trigger == "timer")
    if state is None:
        raise Busy("another export is running")
    if trigger == "timer" and state.next_attempt_at and state.next_attempt_at > now:
        return None
    if trigger == "timer" and client is None:
        return None  # no DHIS2: the months stay dirty until one is configured

    current = domain.period_of(now)
    if period is None:
        months = store.facility_months(session, periods=(current,
                                                         domain.previous_period(current)),
                                       dirty=True)
    else:
        months = store.facility_months(session, periods=(period,))
    if scope is not None:
        months = {k: p for k, p in months.items() if in_scope(p, scope)}
    figures = store.figures(session, months, now)
    mapping = store.mapping(session)
    entries = {e["figure"]: e for e in mapping["entries"]}
    facility_ids = {f for f, _ in months}
    started = time.monotonic()
    org_units = _refs(session, refs, facility_ids)
    refs_s = time.monotonic() - started
    previous = store.sent(session, months)
    values, skipped = domain.plan_values(figures, entries, org_units,
                                         mapping["org_unit_scheme"], previous, now,
                                         send_all=send_all)
    if trigger == "timer" and not values:
        if not dry_run:
            store.clean(session, months)
        return None

    if run is None:
        run = ExportRun(trigger=trigger, requested_by=requested_by, period=period,
                        dry_run=dry_run, send_all=send_all, status="running",
                        conflicts=[], skipped=[], payloads=[], created_at=now)
        session.add(run)
    run.scope = list(scope) if scope is not None else _country_roots(months.values())
    run.skipped = skipped[:500]
    batches = domain.batches(values, mapping["data_set"])
    run.payloads = _logged(batches)
    counts = dict(imported=0, updated=0, ignored=0, deleted=0)
    conflicts, accepted, refused, failure = [], 0, 0, None
    if client is None:
        failure = Dhis2Error("C2P_DHIS2_URL is not set: nothing was sent")
        failure.kind = "not_configured"
    for scheme, chunk, payload in batches if failure is None else ():
        try:
            summary = client.post_data_values(
                payload, dry_run=dry_run, data_element_scheme=scheme,
                org_unit_scheme=mapping["org_unit_scheme"],
                category_option_combo_scheme=scheme)
        except Dhis2Error as exc:
            failure = exc
            break
        for key in counts:
            counts[key] += getattr(summary, key)
        conflicts += [c.as_dict() for c in summary.conflicts]
        rejected = domain.rejected_values(chunk, summary.conflicts)
        if summary.status == "ERROR" and not summary.conflicts:
            rejected = {i: summary.description or "refused" for i in range(len(chunk))}
        refused += len(rejected)
        accepted += len(chunk) - len(rejected)
        if not dry_run:
            store.record_sent(session, chunk, rejected, previous, now)

    run.values_sent = len(values)
    run.imported, run.updated = counts["imported"], counts["updated"]
    run.ignored, run.deleted = counts["ignored"], counts["deleted"]
    run.conflicts = conflicts[:1000]
    run.finished_at = datetime.now(timezone.utc)
    if failure is not None:
        run.status = getattr(failure, "kind", "error") if not isinstance(
            failure, Dhis2Unavailable) else "unavailable"
        run.error = str(failure)[:2000]
        if not dry_run and client is not None:
            state.failures += 1
            wait = domain.backoff_s(state.failures, backoff_s)
            state.next_attempt_at = now + timedelta(seconds=wait)
            state.last_error = run.error
            log.warning("DHIS2 export %s: %s; next try in %d s", run.status, run.error, wait)
    else:
        run.status = ("success" if not refused else "warning" if accepted else "error") \
            if values else "nothing_to_send"
        if not dry_run:
            state.failures, state.next_attempt_at, state.last_error = 0, None, None
            store.clean(session, months)
    if values or failure is not None:
        log.info("DHIS2 export (%s%s): %s; %d values, imported %d, updated %d, ignored %d, "
                 "%d conflicts; facility ids %.1f s, DHIS2 %.1f s%s", trigger,
                 ", dry run" if dry_run else "", run.status, len(values), run.imported,
                 run.updated, run.ignored, len(conflicts), refs_s,
                 time.monotonic() - started - refs_s,
                 "".join(f"\n  conflict {c['object']}: {c['reason']}"
                         for c in conflicts[:20]))
    session.flush()
    return run


def _refs(session, refs, facility_ids) -> dict:
    cached = store.cached_refs(session, facility_ids)
    if not facility_ids:
        return cached
    try:
        fresh = refs(sorted(facility_ids)) if refs else None
    except Exception as exc:  # the checklist service is down: the cache will do
        log.warning("facility identifiers not refreshed (%s); using the cached ones", exc)
        fresh = None
    if fresh:
        store.cache_refs(session, fresh)
        cached.update(fresh)
    return cached


def _logged(batches) -> list:
    logged, budget = [], MAX_LOGGED_VALUES
    for scheme, chunk, payload in batches:
        kept = payload["dataValues"][:budget]
        budget -= len(kept)
        logged.append({"id_scheme": scheme, "values": len(chunk),
                       "payload": {**payload, "dataValues": kept}})
    return logged
