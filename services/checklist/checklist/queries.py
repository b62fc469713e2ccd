"""Read-side queries: lists of visits, a facility's history, the dashboards' scores.

Everything is restricted to the caller's scope in SQL (path prefixes, served by
the varchar_pattern_ops indexes) and reads the plain score columns of
`submissions` and the `submission_gaps` rows, never the JSON of every visit:
at national scale (2,000 facilities x 12 monthly visits) each query reads a few
thousand index entries at most.
"""
from __future__ import annotations

from sqlalchemy import Integer, false, func, select
from sqlalchemy.orm import aliased

from c2p.api import page_of
from c2p.errors import InvalidInput, NotFound
from c2p.scope import in_scope, under_clause
from checklist import dashboards
from checklist.models import OrgUnit, Submission, SubmissionGap, TemplateVersion
from checklist.store import submission_filters


def _unit_in_scope(session, unit_id, scope, level, field):
    unit = session.get(OrgUnit, unit_id)
    if unit is None or unit.level != level or not in_scope(unit.path, scope):
        # Out of scope reads as unknown: do not reveal what exists elsewhere.
        raise NotFound(f"{field}: no {level} {unit_id!r} in your scope")
    return unit


def template_ids(code: str):
    """SQL: the ids of every version of template `code` (scores of one template,
    whatever its version, are compared with one another, never with another's)."""
    return select(TemplateVersion.id).where(TemplateVersion.code == code).scalar_subquery()


def main_template(session, scope, start=None, end=None, extra=()):
    """The template with the most visits in the scope and period (None: no visit);
    what dashboards compare when the client names none."""
    return session.scalar(
        select(TemplateVersion.code)
        .join(Submission, Submission.template_id == TemplateVersion.id)
        .where(submission_filters(scope, start, end), *extra)
        .group_by(TemplateVersion.code)
        .order_by(func.count().desc(), TemplateVersion.code).limit(1))


def summary(submission: Submission, facility_name: str, template: TemplateVersion) -> dict:
    return {"id": str(submission.id), "facility_id": submission.facility_id,
            "facility_name": facility_name, "facility_path": submission.facility_path,
            "coach_id": submission.coach_id, "template_code": template.code,
            "template_version": template.version,
            "visited_at": submission.visited_at.isoformat(),
            "received_at": submission.received_at.isoformat(),
            "percent": submission.percent, "colour": submission.colour,
            "flagged": submission.flagged, "gaps": len(submission.gaps)}


def list_submissions(session, scope, *, facility_id=None, district_id=None, region_id=None,
                     coach_id=None, start=None, end=None, page=1, per_page=20) -> dict:
    where = [submission_filters(scope, start, end)]
    if facility_id:
        where.append(Submission.facility_id == _unit_in_scope(
            session, facility_id, scope, "facility", "facility_id").id)
    for unit_id, level in ((district_id, "district"), (region_id, "region")):
        if unit_id:
            unit = _unit_in_scope(session, unit_id, scope, level, f"{level}_id")
            where.append(under_clause(Submission.facility_path, unit.path))
    if coach_id:
        where.append(Submission.coach_id == coach_id)
    total = session.scalar(select(func.count()).select_from(Submission).where(*where))
    rows = session.execute(
        select(Submission, OrgUnit.name, TemplateVersion)
        .join(OrgUnit, OrgUnit.id == Submission.facility_id)
        .join(TemplateVersion, TemplateVersion.id == Submission.template_id)
        .where(*where)
        .order_by(Submission.visited_at.desc(), Submission.id.desc())
        .offset((page - 1) * per_page).limit(per_page)).all()
    return page_of([summary(s, name, t) for s, name, t in rows], total, page, per_page)


def facility_history(session, scope, facility_id, start=None, end=None,
                     template_code=None) -> dict:
    """A facility's visits of one template, oldest first (by default the template
    of its latest visit in the period), and the change from first to latest."""
    facility = _unit_in_scope(session, facility_id, scope, "facility", "facility_id")
    if template_code is None:
        template_code = session.scalar(
            select(TemplateVersion.code)
            .join(Submission, Submission.template_id == TemplateVersion.id)
            .where(Submission.facility_id == facility.id,
                   submission_filters(scope, start, end))
            .order_by(Submission.visited_at.desc(), Submission.id.desc()).limit(1))
    rows = [] if template_code is None else session.execute(
        select(Submission.id, Submission.visited_at, Submission.coach_id, Submission.percent,
               Submission.colour, Submission.flagged, Submission.score,
               TemplateVersion.code, TemplateVersion.version)
        .join(TemplateVersion, TemplateVersion.id == Submission.template_id)
        .where(Submission.facility_id == facility.id,
               Submission.template_id.in_(template_ids(template_code)),
               submission_filters(scope, start, end))
        .order_by(Submission.visited_at, Submission.id)).all()
    visits = [{
        "submission_id": str(row.id), "visited_at": row.visited_at.isoformat(),
        "coach_id": row.coach_id, "template_code": row.code, "template_version": row.version,
        "percent": row.percent, "colour": row.colour, "flagged": row.flagged,
        "sections": [{"code": s["code"], "title_fr": s.get("title_fr", ""),
                      "title_en": s.get("title_en", ""), "percent": s["percent"]}
                     for s in row.score["sections"]],
    } for row in rows]
    return {"facility_id": facility.id, "facility_name": facility.name,
            "facility_path": facility.path, "template_code": template_code, "visits": visits,
            "change": (visits[-1]["percent"] - visits[0]["percent"]
                       if len(visits) > 1 and visits[0]["percent"] is not None
                       and visits[-1]["percent"] is not None else None)}


def area_filters(session, scope, template_code=None, area_id=None, table=Submission):
    """Extra clauses of the dashboards: one template's visits (every version of its
    code), and the visits under one region or district of the caller's scope."""
    clauses = []
    if template_code:
        ids = session.scalars(select(TemplateVersion.id)
                              .where(TemplateVersion.code == template_code)).all()
        if not ids:
            raise InvalidInput({"template_code": [f"unknown template {template_code!r}"]})
        clauses.append(table.template_id.in_(ids))
    if area_id:
        unit = session.get(OrgUnit, area_id)
        if unit is None or unit.level not in ("region", "district") \
                or not in_scope(unit.path, scope):
            # An area outside the scope reads as unknown, as everywhere else.
            raise NotFound(f"area_id: no region or district {area_id!r} in your scope")
        clauses.append(under_clause(table.facility_path, unit.path))
    return clauses


def facility_scores(session, scope, start=None, end=None, extra=(),
                    template_code=None) -> list[dict]:
    """One row per facility in scope with a visit of one template in the period:
    latest score, first score of the period and number of visits. The template is
    `template_code`, by default the one with the most visits (`main_template`): a
    5-item demo visit is never compared with a 49-item one. `extra`: more clauses
    on the visits (see `area_filters`)."""
    template_code = template_code or main_template(session, scope, start, end, extra)
    if template_code is None:
        return []
    s = Submission
    window = {"partition_by": s.facility_id}
    ranked = (select(
        s.facility_id, s.id, s.visited_at, s.percent, s.colour, s.flagged,
        func.row_number().over(**window, order_by=(s.visited_at.desc(), s.id.desc()))
        .label("latest_rank"),
        func.first_value(s.percent).over(**window, order_by=(s.visited_at, s.id))
        .label("first_percent"),
        func.count().over(**window).label("visits"),
        TemplateVersion.code.label("template_code"))
        .join(TemplateVersion, TemplateVersion.id == s.template_id)
        .where(submission_filters(scope, start, end), *extra,
               s.template_id.in_(template_ids(template_code)))
        .subquery())
    district, region = aliased(OrgUnit), aliased(OrgUnit)
    rows = session.execute(
        select(ranked, OrgUnit.name.label("facility_name"), OrgUnit.path.label("facility_path"),
               OrgUnit.latitude, OrgUnit.longitude,
               district.id.label("district_id"), district.name.label("district_name"),
               region.id.label("region_id"), region.name.label("region_name"))
        .join(OrgUnit, OrgUnit.id == ranked.c.facility_id)
        .join(district, district.id == OrgUnit.parent_id)
        .join(region, region.id == district.parent_id)
        .where(ranked.c.latest_rank == 1)
        .order_by(OrgUnit.path)).all()
    return [{
        "facility_id": row.facility_id, "facility_name": row.facility_name,
        "facility_path": row.facility_path, "district_id": row.district_id,
        "district_name": row.district_name, "region_id": row.region_id,
        "region_name": row.region_name, "latest_submission_id": str(row.id),
        "latest_visited_at": row.visited_at.isoformat(), "percent": row.percent,
        "colour": row.colour, "flagged": bool(row.flagged),
        "first_percent": row.first_percent, "visits": row.visits,
        "template_code": row.template_code,
        "latitude": row.latitude, "longitude": row.longitude,
    } for row in rows]


def gap_report(session, scope, level="facility", start=None, end=None, top=10,
               template_code=None, area_id=None) -> dict:
    if level not in dashboards.LEVELS:
        raise InvalidInput({"level": [f"must be one of {', '.join(dashboards.LEVELS)}, "
                                      f"got {level!r}"]})
    # One template's visits only (by default the one with the most visits in the
    # area): scores and gap rates of different checklists do not add up.
    template_code = template_code or main_template(
        session, scope, start, end, area_filters(session, scope, area_id=area_id))
    if template_code is None:  # no visit at all: an empty report
        extra = [false()]
        gap_extra = [false()]
    else:
        extra = area_filters(session, scope, template_code, area_id)
        gap_extra = area_filters(session, scope, template_code, area_id, table=SubmissionGap)
    facilities = facility_scores(session, scope, start, end, extra, template_code) \
        if template_code else []
    if level == "facility":
        rows = facilities
    else:
        rows = dashboards.rollup(facilities, level)
    g = SubmissionGap
    counts = [{"item_code": code, "failures": failures, "partial": int(partial or 0)}
              for code, failures, partial in session.execute(
                  select(g.item_code, func.count(), func.sum(func.cast(g.partial, Integer)))
                  .where(submission_filters(scope, start, end, table=g), *gap_extra)
                  .group_by(g.item_code)
                  .order_by(func.count().desc()).limit(max(top * 3, 30)))]
    visits_by_template = dict(session.execute(
        select(Submission.template_id, func.count())
        .where(submission_filters(scope, start, end), *extra)
        .group_by(Submission.template_id)).all())
    templates = {row.id: row.definition for row in session.scalars(
        select(TemplateVersion).where(TemplateVersion.id.in_(list(visits_by_template))))}
    return {
        "level": level, "template_code": template_code, "area_id": area_id,
        "since": start.isoformat() if start else None,
        "until": end.isoformat() if end else None,
        "rows": rows,
        "totals": {"facilities": len(facilities),
                   "visits": sum(visits_by_template.values()),
                   "mean_percent": dashboards.mean(f["percent"] for f in facilities),
                   "colours": {c: sum(f["colour"] == c for f in facilities)
                               for c in dashboards.COLOURS},
                   "flagged": sum(f["flagged"] for f in facilities)},
        "top_gaps": dashboards.rank_gaps(counts, visits_by_template, templates, top),
    }

