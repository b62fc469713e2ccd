"""The dashboards' read models, kept by PostgreSQL triggers in the visit's own transaction.

- `latest_visits`: per facility and template code, its latest visit (score, colour,
  flag), its first one and how many it had;
- `monthly_visits`: per district, template version and month (UTC), how many visits,
  and the first and last visit time in it (bounds: a deletion may leave them wider);
- `monthly_gaps`: per district, template version, month and item, how many gaps,
  how many of them partial.

Statement-level triggers on `submissions` and `submission_gaps` keep them: whatever
writes a visit (the service, a bulk loader in SQL, the importer moving a facility,
an operator deleting one) changes the models in the same statement, so they can
never disagree with the visits. A visit that arrives late (offline for a week) is
counted but does not replace a newer latest visit; a retried delivery stores no
second row, so it counts nothing twice. Counters are upserted in key order, so two
visits of one district at once cannot deadlock.

Any change to those tables or to `org_units` (a facility renamed or moved changes
what a dashboard shows) also bumps `read_models_generation`, a one-row counter set
to a new value of `read_models_generation_seq`, once per transaction, **at its
commit**: a deferred constraint trigger. A dashboard answer computed after reading
generation G holds every change committed with G, and any later change commits a
value never used before. `checklist.answer_cache` keys the dashboards' answers on
it. Bumping at commit rather than at the insert keeps the one row locked only
while the transaction commits: bumped at the insert, every visit of the country
waited for the one before it from its insert to its commit (measured: at 10 visits
a second, 0.8 of a checklist connection on average waited there). Nothing waits
for a lock after the bump (no other deferred check), so the bump adds no lock
cycle. TRUNCATE has no row triggers: its statement trigger bumps at once.

`rebuild(connection)` recomputes all three from the visits (the migration's
backfill; also the cure if a trigger was ever disabled, e.g. during a bulk restore).
"""
from __future__ import annotations

import re

from sqlalchemy import text

_LATEST_COLUMNS = ("submission_id", "template_id", "visited_at", "percent", "colour",
                   "flagged")
_FIRST_COLUMNS = ("first_submission_id", "first_visited_at", "first_percent")


def _latest_select(source: str, where: str = "true") -> str:
    """One row per (facility, template code) of the visits in `source`."""
    return f"""
    with v as (select s.id, s.facility_id, s.facility_path, s.template_id, s.visited_at,
                      s.percent, s.colour, s.flagged, t.code
               from {source} s join template_versions t on t.id = s.template_id
               where {where}),
    l as (select distinct on (facility_id, code) * from v
          order by facility_id, code, visited_at desc, id desc),
    f as (select distinct on (facility_id, code) facility_id, code, id, visited_at, percent
          from v order by facility_id, code, visited_at, id),
    c as (select facility_id, code, count(*) as visits from v group by facility_id, code)
    select l.facility_id, l.code, l.facility_path, l.id, l.template_id, l.visited_at,
           l.percent, l.colour, l.flagged, c.visits, f.id, f.visited_at, f.percent
    from l join f using (facility_id, code) join c using (facility_id, code)
    order by l.facility_id, l.code"""


_LATEST_INSERT = ("insert into latest_visits as m (facility_id, template_code, facility_path, "
                  + ", ".join(_LATEST_COLUMNS) + ", visits, " + ", ".join(_FIRST_COLUMNS) + ")")


def _newer(column):
    return (f"{column} = case when (excluded.visited_at, excluded.submission_id) "
            f"> (m.visited_at, m.submission_id) then excluded.{column} else m.{column} end")


def _older(column):
    return (f"{column} = case when (excluded.first_visited_at, excluded.first_submission_id) "
            f"< (m.first_visited_at, m.first_submission_id) then excluded.{column} "
            f"else m.{column} end")


_LATEST_UPSERT = (_LATEST_INSERT + _latest_select("new_rows") + """
    on conflict (facility_id, template_code) do update set
    visits = m.visits + excluded.visits, facility_path = excluded.facility_path, """
                  + ", ".join([_newer(c) for c in _LATEST_COLUMNS]
                              + [_older(c) for c in _FIRST_COLUMNS]) + ";")

_MONTH = "date_trunc('month', visited_at at time zone 'UTC')::date"
_DISTRICT = "regexp_replace(facility_path, '/[^/]*$', '')"


def _visits_add(source):
    return f"""
    insert into monthly_visits as m (district_path, template_id, month, visits,
                                     first_visited_at, last_visited_at)
    select {_DISTRICT}, template_id, {_MONTH}, count(*), min(visited_at), max(visited_at)
    from {source} group by 1, 2, 3 order by 1, 2, 3
    on conflict (district_path, template_id, month) do update set
      visits = m.visits + excluded.visits,
      first_visited_at = least(m.first_visited_at, excluded.first_visited_at),
      last_visited_at = greatest(m.last_visited_at, excluded.last_visited_at);"""


def _visits_remove(source):
    # The bounds stay as they were: wider than the visits is still right for
    # `period_counts` (a month is read from raw rows when in doubt).
    return f"""
    update monthly_visits m set visits = m.visits - o.n
    from (select {_DISTRICT} as district_path, template_id, {_MONTH} as month, count(*) as n
          from {source} group by 1, 2, 3) o
    where m.district_path = o.district_path and m.template_id = o.template_id
      and m.month = o.month;
    delete from monthly_visits where visits <= 0;"""


def _gaps_add(source):
    return f"""
    insert into monthly_gaps as m (district_path, template_id, month, item_code, failures,
                                   partial)
    select {_DISTRICT}, template_id, {_MONTH}, item_code, count(*),
           count(*) filter (where partial)
    from {source} group by 1, 2, 3, 4 order by 1, 2, 3, 4
    on conflict (district_path, template_id, month, item_code) do update set
      failures = m.failures + excluded.failures, partial = m.partial + excluded.partial;"""


def _gaps_remove(source):
    return f"""
    update monthly_gaps m set failures = m.failures - o.n, partial = m.partial - o.p
    from (select {_DISTRICT} as district_path, template_id, {_MONTH} as month, item_code,
                 count(*) as n, count(*) filter (where partial) as p
          from {source} group by 1, 2, 3, 4) o
    where m.district_path = o.district_path and m.template_id = o.template_id
      and m.month = o.month and m.item_code = o.item_code;
    delete from monthly_gaps where failures <= 0;"""


# A value of the sequence never seen before (even after the one row was removed):
# a generation is never used for two states of the models.
BUMP = ("insert into read_models_generation as g (id, value) "
        "values (1, nextval('read_models_generation_seq')) "
        "on conflict (id) do update set value = excluded.value;\n")


def _function(name, body, bump=False):
    return (f"create or replace function {name}() returns trigger language plpgsql as $$\n"
            f"begin\n{BUMP if bump else ''}{body}\nreturn null;\nend $$;")


# Fired for each row changed, at commit (deferred); bumps once per transaction.
_BUMP_ONCE = (
    "create or replace function checklist_bump_generation() returns trigger "
    "language plpgsql as $$\nbegin\n"
    "if current_setting('c2p.generation_bumped', true) is distinct from "
    "txid_current()::text then\n"
    "perform set_config('c2p.generation_bumped', txid_current()::text, true);\n"
    f"{BUMP}end if;\nreturn null;\nend $$;")


_REBUILD_LATEST = (
    "create or replace function checklist_rebuild_latest_visits(facilities text[]) "
    "returns void language plpgsql as $$\nbegin\n"
    "delete from latest_visits where facilities is null or facility_id = any(facilities);\n"
    + _LATEST_INSERT + _latest_select(
        "submissions", "facilities is null or s.facility_id = any(facilities)")
    + ";\nend $$;")

_AFFECTED = "(select array_agg(distinct facility_id) from {0})"

FUNCTIONS = [
    _BUMP_ONCE,
    _REBUILD_LATEST,
    _function("checklist_visits_inserted", _LATEST_UPSERT + _visits_add("new_rows")),
    _function("checklist_visits_deleted",
              "perform checklist_rebuild_latest_visits(" + _AFFECTED.format("old_rows") + ");"
              + _visits_remove("old_rows")),
    # A facility moved (the importer rewrites paths), or a visit corrected: recount.
    _function("checklist_visits_updated",
              "perform checklist_rebuild_latest_visits((select array_agg(distinct facility_id) "
              "from (select facility_id from old_rows union select facility_id from new_rows) "
              "a));" + _visits_remove("old_rows") + _visits_add("new_rows")),
    _function("checklist_visits_truncated", "delete from latest_visits; "
              "delete from monthly_visits;", bump=True),
    _function("checklist_gaps_inserted", _gaps_add("new_rows")),
    _function("checklist_gaps_deleted", _gaps_remove("old_rows")),
    _function("checklist_gaps_updated", _gaps_remove("old_rows") + _gaps_add("new_rows")),
    _function("checklist_gaps_truncated", "delete from monthly_gaps;", bump=True),
    _function("checklist_places_changed", "", bump=True),  # org_units truncated
]

TRIGGERS = [
    f"create trigger {table}_read_models_{event} after {event} on {table} "
    + (f"referencing {refs} " if refs else "")
    + f"for each statement execute function checklist_{name}_{past}()"
    for table, name in (("submissions", "visits"), ("submission_gaps", "gaps"))
    for event, past, refs in (("insert", "inserted", "new table as new_rows"),
                              ("delete", "deleted", "old table as old_rows"),
                              ("update", "updated", "old table as old_rows new table as new_rows"),
                              ("truncate", "truncated", ""))
] + ["create trigger org_units_read_models_truncate after truncate on org_units "
      "for each statement execute function checklist_places_changed()"
] + [f"create constraint trigger {table}_generation_{event} after {event} on {table} "
     "deferrable initially deferred for each row execute function checklist_bump_generation()"
     for table in ("submissions", "submission_gaps", "org_units")
     for event in ("insert", "update", "delete")]

# Triggers of earlier versions that no longer exist (install drops them).
RETIRED_TRIGGERS = [(f"org_units_read_models_{event}", "org_units")
                    for event in ("insert", "update", "delete")]


def generation(connection) -> int | None:
    """The read models' generation (see the module's docstring); None when its row
    is missing (a truncated table, until the next change): then nothing is cached."""
    return connection.execute(
        text("select value from read_models_generation where id = 1")).scalar()


def install(connection) -> None:
    """Create (or replace) the trigger functions and the triggers."""
    for statement in FUNCTIONS:
        connection.execute(text(statement))
    for name, table in RETIRED_TRIGGERS:
        connection.execute(text(f"drop trigger if exists {name} on {table}"))
    for trigger in TRIGGERS:
        name, table = re.search(r"trigger (\S+) after \S+ on (\S+)", trigger).groups()
        connection.execute(text(f"drop trigger if exists {name} on {table}"))
        connection.execute(text(trigger))


def rebuild(connection) -> None:
    """Recompute every read model from the visits and their gaps."""
    connection.execute(text("select checklist_rebuild_latest_visits(null)"))
    connection.execute(text("delete from monthly_visits"))
    connection.execute(text(_visits_add("submissions")))
    connection.execute(text("delete from monthly_gaps"))
    connection.execute(text(_gaps_add("submission_gaps")))
