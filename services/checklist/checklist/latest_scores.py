"""Each facility's latest score of one template, and what the dashboards make of it:
the rows by facility, the roll-ups by district or region, the totals.

One row per facility comes from `latest_visits` (`checklist.read_models`) when
the period has no start and does not end before a latest visit; otherwise from
the period's visits, ranked. Roll-ups and totals are aggregated in SQL over
those rows, so a national roll-up sends a few dozen rows, not one per facility.
Statements are built from Core tables: on these small answers, building ORM
expressions cost more CPU than running them.
"""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import String, cast, func, select

from c2p.api.checklists import COLOURS
from c2p.scope import in_scope_clause, under_clause
from checklist import store
from checklist.models import LatestVisit, OrgUnit, Submission, TemplateVersion

RATED = ("green", "amber", "red")  # in a roll-up, any other colour counts as grey
FIELDS = ("facility_id", "submission_id", "visited_at", "percent", "colour", "flagged",
          "visits", "first_percent")

_latest = LatestVisit.__table__
_visits = Submission.__table__
_facility = OrgUnit.__table__.alias("facility")
_district = OrgUnit.__table__.alias("district")
_region = OrgUnit.__table__.alias("region")
_versions = TemplateVersion.__table__


def source(session, scope, start, end, template_code, area_path) -> SimpleNamespace:
    """One row per facility in scope with a visit of `template_code` in the
    period: `table` to select from, `where` its clauses, `c` its columns (FIELDS).
    `template_code` None: of any template (its latest visit whatever the template,
    read from the period's visits; `c.template_id` says which)."""
    if template_code is None:
        return _ranked(scope, start, end, None, area_path)
    lv = _latest.c
    where = [lv.template_code == template_code, in_scope_clause(lv.facility_path, scope)]
    if area_path:
        where.append(under_clause(lv.facility_path, area_path))
    newest = None if start is not None or end is None else session.connection().scalar(
        select(func.max(lv.visited_at)).where(*where))
    if start is None and (newest is None or newest < end):
        return SimpleNamespace(table=_latest, where=where, c=SimpleNamespace(**{
            name: cast(lv[name], String) if name == "submission_id" else lv[name]
            for name in FIELDS}))
    return _ranked(scope, start, end, template_code, area_path)


def _ranked(scope, start, end, template_code, area_path) -> SimpleNamespace:
    """`source` from the period's visits, each facility's ranked (None: any template)."""
    s = _visits.c
    window = {"partition_by": s.facility_id}
    clauses = [in_scope_clause(s.facility_path, scope)]
    if template_code is not None:
        clauses.append(s.template_id.in_(
            select(_versions.c.id).where(_versions.c.code == template_code)))
    if start is not None:
        clauses.append(s.visited_at >= start)
    if end is not None:
        clauses.append(s.visited_at < end)
    if area_path:
        clauses.append(under_clause(s.facility_path, area_path))
    ranked = select(
        s.facility_id, s.id.label("submission_id"), s.visited_at, s.percent, s.colour,
        s.flagged, s.template_id,
        func.row_number().over(**window, order_by=(s.visited_at.desc(), s.id.desc()))
        .label("latest_rank"),
        func.first_value(s.percent).over(**window, order_by=(s.visited_at, s.id))
        .label("first_percent"),
        func.count().over(**window).label("visits")).where(*clauses).subquery()
    return SimpleNamespace(table=ranked, where=[ranked.c.latest_rank == 1], c=SimpleNamespace(**{
        name: cast(ranked.c[name], String) if name == "submission_id" else ranked.c[name]
        for name in (*FIELDS, "template_id")}))


def _placed(scores):
    """The scores joined to each facility, its district and its region (a facility
    without both is left out: it has no place in a roll-up)."""
    return (scores.table
            .join(_facility, _facility.c.id == scores.c.facility_id)
            .join(_district, _district.c.id == _facility.c.parent_id)
            .join(_region, _region.c.id == _district.c.parent_id))


ROW_KEYS = ("facility_id", "facility_name", "facility_path", "district_id", "district_name",
            "region_id", "region_name", "latest_submission_id", "latest_visited_at",
            "percent", "colour", "flagged", "first_percent", "visits", "latitude",
            "longitude")


def facility_rows(session, scores, template_code, offset=0, limit=None) -> list[dict]:
    """The facilities' rows, by path (built by position: 2,000 of them on a map).
    `template_code` None: each row's is its latest visit's."""
    c = scores.c
    any_template = template_code is None
    rows = session.connection().execute(
        select(c.facility_id, _facility.c.name, _facility.c.path, _district.c.id,
               _district.c.name, _region.c.id, _region.c.name, c.submission_id,
               c.visited_at, c.percent, c.colour, c.flagged, c.first_percent, c.visits,
               _facility.c.latitude, _facility.c.longitude,
               *((c.template_id,) if any_template else ()))
        .select_from(_placed(scores)).where(*scores.where)
        .order_by(_facility.c.path).offset(offset).limit(limit)).tuples().all()
    codes = store.template_codes(session, list({row[-1] for row in rows})) \
        if any_template else {}
    found = []
    for row in rows:
        entry = dict(zip(ROW_KEYS, row))
        entry["latest_visited_at"] = entry["latest_visited_at"].isoformat()
        entry["flagged"] = bool(entry["flagged"])
        entry["template_code"] = codes.get(row[-1]) if any_template else template_code
        found.append(entry)
    return found


def _aggregates(c):
    return [func.count().label("facilities"),
            func.coalesce(func.sum(c.visits), 0).label("visits"),
            func.count().filter(c.flagged.is_(True)).label("flagged"),
            func.sum(c.percent).label("percent_sum"), func.count(c.percent).label("percents"),
            *[func.count().filter(c.colour == colour).label(colour) for colour in COLOURS]]


def _mean(percent_sum, percents):
    return round(percent_sum / percents, 1) if percents else None


def rollup(session, scores, level: str) -> list[dict]:
    """One row per district or region: facilities, visits, flagged, the mean of
    their latest percents and how many are of each colour; lowest mean first.
    Each row keeps its sums under "_sums" for `totals_of`."""
    keys = [_district.c.id, _district.c.name, _region.c.id, _region.c.name] \
        if level == "district" else [_region.c.id, _region.c.name]
    rows = []
    for row in session.connection().execute(
            select(*keys, *_aggregates(scores.c)).select_from(_placed(scores))
            .where(*scores.where).group_by(*keys)):
        entry = {f"{level}_id": row[0], f"{level}_name": row[1]}
        if level == "district":
            entry.update(region_id=row[2], region_name=row[3])
        counts = {colour: getattr(row, colour) for colour in COLOURS}
        entry.update(facilities=row.facilities, visits=int(row.visits), flagged=row.flagged,
                     colours={**counts, "grey": row.facilities - sum(
                         counts[colour] for colour in RATED)},
                     mean_percent=_mean(row.percent_sum, row.percents),
                     _sums=(row.percent_sum or 0.0, row.percents, counts))
        rows.append(entry)
    rows.sort(key=lambda row: (row["mean_percent"] is None, row["mean_percent"] or 0,
                               row[f"{level}_name"]))
    return rows


def totals_of(rows: list[dict]) -> dict:
    """The totals of roll-up rows (and strips their "_sums")."""
    percent_sum = percents = 0
    colours = {colour: 0 for colour in COLOURS}
    for row in rows:
        row_sum, row_count, counts = row.pop("_sums")
        percent_sum += row_sum
        percents += row_count
        for colour in COLOURS:
            colours[colour] += counts[colour]
    return {"facilities": sum(row["facilities"] for row in rows),
            "mean_percent": _mean(percent_sum, percents), "colours": colours,
            "flagged": sum(row["flagged"] for row in rows)}


def totals_of_facilities(rows: list[dict]) -> dict:
    """The totals of facility rows (`totals` when they are all at hand)."""
    colours = {colour: 0 for colour in COLOURS}
    percents, flagged = [], 0
    for row in rows:
        if row["colour"] in colours:
            colours[row["colour"]] += 1
        if row["percent"] is not None:
            percents.append(row["percent"])
        flagged += row["flagged"]
    return {"facilities": len(rows), "mean_percent": _mean(sum(percents), len(percents)),
            "colours": colours, "flagged": flagged}


def totals(session, scores) -> dict:
    """Facilities, their mean latest percent, how many of each colour, flagged."""
    row = session.connection().execute(
        select(*_aggregates(scores.c)).select_from(_placed(scores))
        .where(*scores.where)).one()
    return {"facilities": row.facilities, "mean_percent": _mean(row.percent_sum, row.percents),
            "colours": {colour: getattr(row, colour) for colour in COLOURS},
            "flagged": row.flagged}
