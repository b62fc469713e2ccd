"""The checklist service's shapes: the requests it accepts (submissions and template
definitions), the views its RPCs answer and the data its event carries.

The request schemas live in `c2p.api.checklists`, where the gateway documents
them too (and dumps the views below through their documented view schemas);
they refuse unknown fields, so a typo in a phone's payload or a template file is
named instead of silently ignored.
"""
from __future__ import annotations

from c2p.api import paginate_list
from c2p.api.checklists import (COACHEE_ROLES, Answer, Choice, Coachee,  # noqa: F401
                                CorrectiveAction, GpsPoint, SubmissionRequest,
                                TemplateDefinition, TemplateItem, TemplateSection, Thresholds)
from checklist.models import OrgUnit, Submission, TemplateVersion


# --- views: what the RPCs answer ---------------------------------------------------

def unit_view(unit: OrgUnit) -> dict:
    return {"id": unit.id, "name": unit.name, "level": unit.level,
            "parent_id": unit.parent_id, "path": unit.path, "dhis2_id": unit.dhis2_id,
            "code": unit.code, "latitude": unit.latitude, "longitude": unit.longitude}


def template_summary(row: TemplateVersion) -> dict:
    definition = row.definition
    return {"code": row.code, "version": row.version, "title_fr": definition["title_fr"],
            "title_en": definition["title_en"],
            "section_count": len(definition["sections"]),
            "item_count": sum(len(s["items"]) for s in definition["sections"]),
            "published_at": row.published_at.isoformat() if row.published_at else None,
            "published_by": row.published_by}


def template_view(row: TemplateVersion) -> dict:
    """A template version in full: its definition (with `version` set), its counts,
    and when and by whom it was published."""
    return {**row.definition, **template_summary(row)}


def published_template_view(row: TemplateVersion, created: bool) -> dict:
    return {**template_view(row), "created": created}


def submission_view(submission: Submission, facility: OrgUnit, template: TemplateVersion,
                    replayed: bool = False) -> dict:
    return {
        "id": str(submission.id), "facility_id": submission.facility_id,
        "facility_name": facility.name,
        "facility_path": submission.facility_path, "coach_id": submission.coach_id,
        "template_code": template.code, "template_version": template.version,
        "visited_at": submission.visited_at.isoformat(),
        "received_at": submission.received_at.isoformat(),
        "coachees": submission.coachees, "answers": submission.answers,
        "gps": submission.gps, "comment": submission.comment or "",
        "score": submission.score, "gaps": submission.gaps,
        "replayed": replayed,
    }


def visit_plan_page(rows: list[dict], page: int, per_page: int, today) -> dict:
    return paginate_list(rows, page, per_page, today=today.isoformat())


# --- event data ----------------------------------------------------------------------

def submitted(submission: Submission, facility: OrgUnit, template: TemplateVersion,
              request: dict, score: dict, gaps: list, passed_items: list) -> dict:
    """`checklist.submitted`: the visit with its score and gaps (event-carried state)."""
    return {
        "submission_id": submission.id, "facility_id": facility.id,
        "facility_name": facility.name, "facility_path": facility.path,
        "coach_id": submission.coach_id, "coachees": request["coachees"],
        "template_code": template.code, "template_version": template.version,
        "visited_at": submission.visited_at, "received_at": submission.received_at,
        "score": score, "gaps": gaps,
        "passed_items": passed_items, "dtc_id": request["dtc_id"],
    }
