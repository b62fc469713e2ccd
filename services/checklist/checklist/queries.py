"""Read-side queries: lists of visits, a facility's history, the dashboards' scores.

Everything is restricted to the caller's scope in SQL (path prefixes, served by
the varchar_pattern_ops indexes). Lists and histories read the plain score
columns of `submissions`; the dashboards read the read models
(`checklist.read_models`): the latest visit per facility and template, and
visits and gaps counted per district and month (`period_counts`), so that a
national view costs about one row per facility, not one per visit and gap.
"""
from __future__ import annotations

from sqlalchemy import func, select

from c2p.api import page_of
from c2p.errors import InvalidInput, NotFound
from c2p.scope import in_scope, under_clause
from checklist import dashboards, latest_scores, period_counts, store
from checklist.models import OrgUnit, Submission, TemplateVersion
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


def main_template(session, scope, start=None, end=None, area_path=None, counts=None):
    """The template with the most visits in the scope and period (None: no visit);
    what dashboards compare when the client names none (from the read models).
    `counts`: the visits by template id when already counted."""
    if counts is None:
        counts = period_counts.visits_by_template(
            session, period_counts.Filter(scope, start, end, area_path=area_path))
    by_code: dict = {}
    for template_id, code in store.template_codes(session, list(counts)).items():
        by_code[code] = by_code.get(code, 0) + counts[template_id]
    return min(by_code, key=lambda code: (-by_code[code], code)) if by_code else None


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
    if template_code is not None:
        _template_version_ids(session, template_code)  # an unknown one is a 422, not []
    else:
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


def _template_version_ids(session, code) -> tuple:
    ids = tuple(session.scalars(select(TemplateVersion.id).where(TemplateVersion.code == code)))
    if not ids:
        raise InvalidInput({"template_code": [f"unknown template {code!r}"]})
    return ids


def _area_path(session, scope, area_id):
    """The path of one region or district of the caller's scope (None: no area)."""
    if not area_id:
        return None
    unit = session.get(OrgUnit, area_id)
    if unit is None or unit.level not in ("region", "district") \
            or not in_scope(unit.path, scope):
        # An area outside the scope reads as unknown, as everywhere else.
        raise NotFound(f"area_id: no region or district {area_id!r} in your scope")
    return unit.path


def facility_scores(session, scope, start=None, end=None, template_code=None,
                    area_path=None) -> list[dict]:
    """One row per facility in scope with a visit of one template in the period:
    latest score, first score of the period and number of visits. The template is
    `template_code`, by default the one with the most visits (`main_template`): a
    5-item demo visit is never compared with a 49-item one. `area_path`: only the
    facilities under that region or district (see `latest_scores`)."""
    if template_code:
        _template_version_ids(session, template_code)  # an unknown one is a 422, not []
    template_code = template_code or main_template(session, scope, start, end, area_path)
    if template_code is None:
        return []
    scores = latest_scores.source(session, scope, start, end, template_code, area_path)
    return latest_scores.facility_rows(session, scores, template_code)


def gap_report(session, scope, level="facility", start=None, end=None, top=10,
               template_code=None, area_id=None, page=1, per_page=None,
               all_templates=False) -> dict:
    """Latest scores of one template by facility, district or region (`rows`; with
    `per_page`, one page of them and their `total`), totals, and the items failed
    most (`top_gaps`). With `all_templates` (the desk's "all checklists"): every
    template's visits are counted, each facility's row is its latest visit whatever
    its template (its colour by that template's thresholds), the items failed most
    are rated against the visits whose checklist had them; `template_code` is then
    null."""
    if level not in dashboards.LEVELS:
        raise InvalidInput({"level": [f"must be one of {', '.join(dashboards.LEVELS)}, "
                                      f"got {level!r}"]})
    # One template's visits only (by default the one with the most visits in the
    # area): scores and gap rates of different checklists do not add up; unless
    # every template is asked for, plainly.
    if all_templates and template_code:
        raise InvalidInput({"all_templates": ["not with template_code"]})
    if template_code:
        ids = _template_version_ids(session, template_code)
        area_path = _area_path(session, scope, area_id)
    else:
        area_path = _area_path(session, scope, area_id)
    visits = period_counts.visits_by_template(
        session, period_counts.Filter(scope, start, end, area_path=area_path))
    if all_templates:
        ids = tuple(visits)
    elif not template_code:
        template_code = main_template(session, scope, counts=visits)
        ids = _template_version_ids(session, template_code) if template_code else ()
    visits_by_template = {i: visits[i] for i in ids if i in visits}
    if not template_code and not ids:
        rows, totals = [], {"facilities": 0, "mean_percent": None, "flagged": 0,
                            "colours": {colour: 0 for colour in dashboards.COLOURS}}
    elif level != "facility":
        scores = latest_scores.source(session, scope, start, end, template_code, area_path)
        rows = latest_scores.rollup(session, scores, level)
        totals = latest_scores.totals_of(rows)
    else:
        scores = latest_scores.source(session, scope, start, end, template_code, area_path)
        if per_page is None:
            rows = latest_scores.facility_rows(session, scores, template_code)
            totals = latest_scores.totals_of_facilities(rows)
        else:
            rows = latest_scores.facility_rows(session, scores, template_code,
                                               offset=(page - 1) * per_page, limit=per_page)
            totals = latest_scores.totals(session, scores)
    where = period_counts.Filter(scope, start, end, ids, area_path)
    counts = period_counts.gap_counts(session, where, max(top * 3, 30)) if ids else []
    templates = {template_id: store.template_definition(session, template_id)
                 for template_id in visits_by_template}
    report = {
        "level": level, "template_code": template_code, "area_id": area_id,
        "since": start.isoformat() if start else None,
        "until": end.isoformat() if end else None,
        "rows": rows,
        "totals": {"facilities": totals["facilities"],
                   "visits": sum(visits_by_template.values()),
                   "mean_percent": totals["mean_percent"], "colours": totals["colours"],
                   "flagged": totals["flagged"]},
        "top_gaps": dashboards.rank_gaps(counts, visits_by_template, templates, top),
    }
    if per_page is not None:  # one page of the rows (the facilities' read as one)
        if level == "facility":
            report["total"] = totals["facilities"]
        else:
            report["total"] = len(rows)
            report["rows"] = rows[(page - 1) * per_page:page * per_page]
    return report
