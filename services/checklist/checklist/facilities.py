"""Read-side queries of a coach's working day: a facility's page, visit planning and
the exports of visits (with section scores) and gaps.

Everything is restricted to the caller's scope in SQL, as in `queries`. The rules
of planning (intervals, due dates, order) are plain Python in `planning`.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from c2p.api import page_of
from c2p.errors import InvalidInput
from c2p.scope import in_scope_clause, under_clause
from checklist import planning
from checklist.models import OrgUnit, Submission, TemplateVersion
from checklist.queries import _unit_in_scope
from checklist.store import submission_filters

TREND_VISITS = 12  # visits per template on a facility's score trend
MAX_PLAN_FACILITIES = 5000


def _place(unit: OrgUnit, district: OrgUnit | None, region: OrgUnit | None) -> dict:
    return {"id": unit.id, "name": unit.name, "path": unit.path, "code": unit.code,
            "dhis2_id": unit.dhis2_id, "latitude": unit.latitude, "longitude": unit.longitude,
            "district": {"id": district.id, "name": district.name} if district else None,
            "region": {"id": region.id, "name": region.name} if region else None}


def _parents(session, unit):
    district = session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    region = session.get(OrgUnit, district.parent_id) if district and district.parent_id \
        else None
    return district, region


def _definitions(session, template_ids) -> dict:
    ids = [i for i in set(template_ids) if i is not None]
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(
        select(TemplateVersion).where(TemplateVersion.id.in_(ids)))}


def facility_overview(session, scope, facility_id, default_interval: int, today: date) -> dict:
    """The facility, its latest score per template, the trend by section of its
    last visits per template, and when the next visit is due."""
    facility = _unit_in_scope(session, facility_id, scope, "facility", "facility_id")
    district, region = _parents(session, facility)
    rows = session.execute(
        select(Submission.id, Submission.visited_at, Submission.percent, Submission.colour,
               Submission.flagged, Submission.score, Submission.gaps, Submission.template_id)
        .where(Submission.facility_id == facility.id)
        .order_by(Submission.visited_at.desc(), Submission.id.desc())).all()
    templates = _definitions(session, [r.template_id for r in rows])
    latest, trend = {}, {}
    for row in rows:  # newest first
        template = templates[row.template_id]
        if template.code not in latest:
            latest[template.code] = {
                "template_code": template.code, "template_version": template.version,
                "title_fr": template.definition["title_fr"],
                "title_en": template.definition["title_en"],
                "submission_id": str(row.id), "visited_at": row.visited_at.isoformat(),
                "percent": row.percent, "colour": row.colour, "flagged": bool(row.flagged),
                "gaps": len(row.gaps or [])}
            trend[template.code] = {"template_code": template.code, "overall": [],
                                    "sections": {}}
        series = trend[template.code]
        if len(series["overall"]) >= TREND_VISITS:
            continue
        point = {"submission_id": str(row.id), "visited_at": row.visited_at.isoformat()}
        series["overall"].append({**point, "percent": row.percent})
        for section in row.score.get("sections", []):
            entry = series["sections"].setdefault(section["code"], {
                "code": section["code"], "title_fr": section.get("title_fr", ""),
                "title_en": section.get("title_en", ""), "points": []})
            entry["points"].append({**point, "percent": section.get("percent")})
    trends = []
    for series in trend.values():  # oldest first, as a chart reads
        series["overall"].reverse()
        sections = list(series["sections"].values())
        for section in sections:
            section["points"].reverse()
        trends.append({"template_code": series["template_code"],
                       "overall": series["overall"], "sections": sections})
    newest = rows[0] if rows else None
    next_due = planning.next_visit(
        newest.visited_at if newest else None,
        templates[newest.template_id].definition if newest else None, default_interval, today)
    return {"facility": _place(facility, district, region),
            "visits": len(rows),
            "last_visited_at": newest.visited_at.isoformat() if newest else None,
            "latest_scores": list(latest.values()), "trend": trends,
            "next_visit": next_due}


def visit_plan(session, scope, default_interval: int, today: date, *, district_id=None,
               template_code=None, within_days=0, include_all=False) -> list[dict]:
    """Every facility in scope (or in one district) with when its next visit is due,
    never-visited first, then the most overdue. Without `include_all`, only the
    facilities due within `within_days`."""
    where = [OrgUnit.level == "facility", in_scope_clause(OrgUnit.path, scope)]
    if district_id:
        district = _unit_in_scope(session, district_id, scope, "district", "district_id")
        where.append(under_clause(OrgUnit.path, district.path))
    if template_code and session.scalar(select(func.count()).select_from(TemplateVersion)
                                        .where(TemplateVersion.code == template_code)) == 0:
        raise InvalidInput({"template": [f"unknown template {template_code!r}"]})
    # The latest visit of each facility (of that template, when one is asked for).
    visits = select(Submission.facility_id, Submission.id, Submission.visited_at,
                    Submission.percent, Submission.colour, Submission.flagged,
                    Submission.template_id,
                    func.row_number().over(partition_by=Submission.facility_id,
                                           order_by=(Submission.visited_at.desc(),
                                                     Submission.id.desc())).label("rank"))
    visits = visits.where(submission_filters(scope))
    if template_code:
        visits = visits.join(TemplateVersion, TemplateVersion.id == Submission.template_id) \
            .where(TemplateVersion.code == template_code)
    latest = visits.subquery()
    district = aliased(OrgUnit)
    rows = session.execute(
        select(OrgUnit, district.id.label("district_id"), district.name.label("district_name"),
               latest.c.id.label("submission_id"), latest.c.visited_at, latest.c.percent,
               latest.c.colour, latest.c.flagged, latest.c.template_id)
        .join(district, district.id == OrgUnit.parent_id, isouter=True)
        .join(latest, (latest.c.facility_id == OrgUnit.id) & (latest.c.rank == 1),
              isouter=True)
        .where(*where).order_by(OrgUnit.path).limit(MAX_PLAN_FACILITIES)).all()
    templates = _definitions(session, [r.template_id for r in rows])
    if template_code:  # a never-visited facility is planned on that template's interval
        newest = session.scalars(select(TemplateVersion).where(
            TemplateVersion.code == template_code)
            .order_by(TemplateVersion.version.desc()).limit(1)).first()
    else:
        newest = None
    plan = []
    for row in rows:
        unit, template = row.OrgUnit, templates.get(row.template_id)
        definition = template.definition if template else (
            newest.definition if newest else None)
        due = planning.next_visit(row.visited_at, definition, default_interval, today,
                                  within_days)
        entry = {"facility_id": unit.id, "facility_name": unit.name,
                 "facility_path": unit.path, "district_id": row.district_id,
                 "district_name": row.district_name, "latitude": unit.latitude,
                 "longitude": unit.longitude,
                 "last_visit": {"submission_id": str(row.submission_id),
                                "visited_at": row.visited_at.isoformat(),
                                "template_code": template.code, "percent": row.percent,
                                "colour": row.colour, "flagged": bool(row.flagged)}
                 if row.submission_id else None,
                 **due}
        if include_all or planning.is_due(entry):
            plan.append(entry)
    plan.sort(key=planning.plan_order)
    return plan


def export_visits(session, scope, *, start=None, end=None, facility_id=None,
                  district_id=None, template_code=None, page=1, per_page=500) -> dict:
    """Visits in scope and period, oldest first, with section scores and gaps."""
    where = [submission_filters(scope, start, end)]
    if facility_id:
        where.append(Submission.facility_id == _unit_in_scope(
            session, facility_id, scope, "facility", "facility_id").id)
    if district_id:
        unit = _unit_in_scope(session, district_id, scope, "district", "district_id")
        where.append(under_clause(Submission.facility_path, unit.path))
    if template_code:
        where.append(TemplateVersion.code == template_code)
    district, region = aliased(OrgUnit), aliased(OrgUnit)
    base = (select(Submission, OrgUnit.name.label("facility_name"),
                   district.name.label("district_name"), region.name.label("region_name"),
                   TemplateVersion.code, TemplateVersion.version)
            .join(OrgUnit, OrgUnit.id == Submission.facility_id)
            .join(district, district.id == OrgUnit.parent_id, isouter=True)
            .join(region, region.id == district.parent_id, isouter=True)
            .join(TemplateVersion, TemplateVersion.id == Submission.template_id)
            .where(*where))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.execute(base.order_by(Submission.visited_at, Submission.id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    items = [{
        "id": str(row.Submission.id), "visited_at": row.Submission.visited_at.isoformat(),
        "facility_id": row.Submission.facility_id, "facility_name": row.facility_name,
        "facility_path": row.Submission.facility_path, "district_name": row.district_name,
        "region_name": row.region_name, "coach_id": row.Submission.coach_id,
        "template_code": row.code, "template_version": row.version,
        "percent": row.Submission.percent, "colour": row.Submission.colour,
        "flagged": bool(row.Submission.flagged),
        "sections": [{"code": s["code"], "title_fr": s.get("title_fr", ""),
                      "title_en": s.get("title_en", ""), "percent": s.get("percent")}
                     for s in row.Submission.score.get("sections", [])],
        "gaps": [{k: gap.get(k) for k in ("item_code", "section_code", "label_fr", "label_en",
                                          "answer", "critical", "points_lost")}
                 | {"action_fr": (gap.get("action") or {}).get("text_fr", ""),
                    "action_en": (gap.get("action") or {}).get("text_en", "")}
                 for gap in row.Submission.gaps or []],
    } for row in rows]
    return page_of(items, total, page, per_page)
