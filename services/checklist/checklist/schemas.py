"""The checklist service's shapes: the requests it accepts (submissions and template
definitions), the views its RPCs answer and the data its event carries.

Requests refuse unknown fields, so a typo in a phone's payload or a template file is
named instead of silently ignored.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from marshmallow import (RAISE, Schema, ValidationError, fields, validate, validates,
                         validates_schema)

from c2p.clock import utcnow
from checklist import domain
from checklist.models import OrgUnit, Submission, TemplateVersion


class Strict(Schema):
    class Meta:
        unknown = RAISE


# --- submissions -----------------------------------------------------------

# Who a coach meets at a CSCom. The planner gives an action to the coachee whose
# role matches the item's responsible role, else to the DTC.
COACHEE_ROLES = ("dtc", "vaccinator", "nurse", "midwife", "community_health_worker",
                 "manager", "other")
# Phone clocks drift; a visit "tomorrow" beyond this is a wrong clock or a typo.
CLOCK_SKEW = timedelta(hours=24)
EARLIEST_VISIT = datetime(2000, 1, 1, tzinfo=timezone.utc)


class Coachee(Strict):
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = fields.String(load_default="other", validate=validate.OneOf(COACHEE_ROLES))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    # Set by the gateway from its accounts (a phone's value is overwritten):
    # False for staff without a C2P account, whose actions go to the DTC.
    account = fields.Boolean(load_default=True)


class Answer(Strict):
    item = fields.String(required=True, validate=validate.Length(min=1, max=64))
    value = fields.Raw(required=True, allow_none=True)
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class GpsPoint(Strict):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(load_default=None, allow_none=True,
                              validate=validate.Range(min=0, max=100000))


class SubmissionRequest(Strict):
    id = fields.UUID(required=True)
    facility_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    template_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    template_version = fields.Integer(load_default=None, allow_none=True, strict=True,
                                      validate=validate.Range(min=1))
    visited_at = fields.AwareDateTime(required=True, default_timezone=timezone.utc)
    coachees = fields.List(fields.Nested(Coachee), load_default=list,
                           validate=validate.Length(max=50))
    answers = fields.List(fields.Nested(Answer), required=True)
    gps = fields.Nested(GpsPoint, load_default=None, allow_none=True)
    comment = fields.String(load_default="", validate=validate.Length(max=4000))
    # Set by the gateway: the facility's DTC account, who answers for staff
    # without an account.
    dtc_id = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=64))

    @validates("visited_at")
    def plausible_visit_time(self, value, **kwargs):
        if value > utcnow() + CLOCK_SKEW:
            raise ValidationError("is in the future: check the phone's date and time")
        if value < EARLIEST_VISIT:
            raise ValidationError(f"is before {EARLIEST_VISIT.date()}")

    @validates_schema
    def one_answer_per_item(self, data, **kwargs):
        seen = set()
        for answer in data.get("answers", []):
            if answer["item"] in seen:
                raise ValidationError({f"answers.{answer['item']}": ["is answered twice"]})
            seen.add(answer["item"])
        ids = set()
        for position, coachee in enumerate(data.get("coachees", [])):
            if coachee["id"] in ids:
                raise ValidationError({f"coachees.{position}.id": [
                    f"{coachee['id']!r} is listed twice"]})
            ids.add(coachee["id"])


# --- templates -------------------------------------------------------------

CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$",
                       error="must be snake_case: lower-case letters, digits, '_'")
TEMPLATE_CODE = validate.Regexp(r"^[a-z][a-z0-9-]{1,63}$",
                                error="must be lower-case letters, digits and '-'")
TEXT = validate.Length(min=1, max=1000)


class CorrectiveAction(Strict):
    text_fr = fields.String(required=True, validate=TEXT)
    text_en = fields.String(required=True, validate=TEXT)
    responsible_role = fields.String(required=True,
                                     validate=validate.OneOf(domain.RESPONSIBLE_ROLES))
    verification_fr = fields.String(load_default="", validate=validate.Length(max=1000))
    verification_en = fields.String(load_default="", validate=validate.Length(max=1000))
    delay_days = fields.Integer(required=True, strict=True,
                                validate=validate.Range(min=0, max=365))


class Choice(Strict):
    value = fields.String(required=True, validate=validate.Length(min=1, max=64))
    label_fr = fields.String(required=True, validate=TEXT)
    label_en = fields.String(required=True, validate=TEXT)
    ratio = fields.Float(required=True, validate=validate.Range(min=0, max=1))


Range = fields.List(fields.Float(allow_none=True), validate=validate.Length(equal=2))


class Item(Strict):
    code = fields.String(required=True, validate=CODE)
    type = fields.String(required=True, validate=validate.OneOf(domain.ANSWER_TYPES))
    points = fields.Float(required=True, validate=validate.Range(min=0, max=100,
                                                                 min_inclusive=False))
    critical = fields.Boolean(load_default=False)
    required = fields.Boolean(load_default=True)
    allow_na = fields.Boolean(load_default=True)
    label_fr = fields.String(required=True, validate=TEXT)
    label_en = fields.String(required=True, validate=TEXT)
    help_fr = fields.String(load_default="", validate=validate.Length(max=2000))
    help_en = fields.String(load_default="", validate=validate.Length(max=2000))
    unit = fields.String(validate=validate.Length(max=32))
    valid_range = Range
    pass_range = Range
    choices = fields.List(fields.Nested(Choice))
    action = fields.Nested(CorrectiveAction, required=True)

    @validates_schema
    def fits_its_type(self, item, **kwargs):
        kind = item.get("type")
        if kind == "numeric":
            for name in ("valid_range", "pass_range"):
                if name not in item:
                    raise ValidationError({name: ["is required for a numeric item"]})
            (v_low, v_high), (p_low, p_high) = item["valid_range"], item["pass_range"]
            if v_low is not None and v_high is not None and v_low > v_high:
                raise ValidationError({"valid_range": ["low end above high end"]})
            inside = ((p_low is None or v_low is None or p_low >= v_low)
                      and (p_high is None or v_high is None or p_high <= v_high)
                      and (p_low is None or p_high is None or p_low <= p_high))
            if not inside:
                raise ValidationError({"pass_range": ["must lie inside valid_range"]})
        elif "valid_range" in item or "pass_range" in item:
            raise ValidationError({"pass_range": ["only numeric items have ranges"]})
        if kind == "choice":
            choices = item.get("choices") or []
            if len(choices) < 2:
                raise ValidationError({"choices": ["a choice item needs at least 2 choices"]})
            values = [c["value"] for c in choices]
            if len(set(values)) != len(values):
                raise ValidationError({"choices": ["choice values must be unique"]})
            if domain.NA in values:
                raise ValidationError({"choices": [f"{domain.NA!r} is reserved for "
                                                   "not applicable"]})
            if not any(c["ratio"] == 1 for c in choices):
                raise ValidationError({"choices": ["one choice must earn full points "
                                                   "(ratio 1)"]})
        elif "choices" in item:
            raise ValidationError({"choices": ["only choice items have choices"]})


class Section(Strict):
    code = fields.String(required=True, validate=CODE)
    title_fr = fields.String(required=True, validate=TEXT)
    title_en = fields.String(required=True, validate=TEXT)
    items = fields.List(fields.Nested(Item), required=True, validate=validate.Length(min=1))


class Thresholds(Strict):
    green = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    amber = fields.Float(required=True, validate=validate.Range(min=0, max=100))

    @validates_schema
    def ordered(self, data, **kwargs):
        if data["amber"] > data["green"]:
            raise ValidationError({"amber": ["must not be above green"]})


class TemplateDefinition(Strict):
    code = fields.String(required=True, validate=TEMPLATE_CODE)
    version = fields.Integer(load_default=None, allow_none=True, strict=True,
                             validate=validate.Range(min=1))
    title_fr = fields.String(required=True, validate=TEXT)
    title_en = fields.String(required=True, validate=TEXT)
    description_fr = fields.String(validate=validate.Length(max=4000))
    description_en = fields.String(validate=validate.Length(max=4000))
    thresholds = fields.Nested(Thresholds, load_default=lambda: {"green": 80, "amber": 50})
    # Days between two visits of a facility on this checklist (visit planning);
    # absent: the C2P_VISIT_INTERVAL_DAYS setting. No default filled in, so a
    # version published before this field existed still replays as the same.
    visit_interval_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=730))
    sections = fields.List(fields.Nested(Section), required=True,
                           validate=validate.Length(min=1))

    @validates_schema
    def codes_unique(self, data, **kwargs):
        sections = [s["code"] for s in data.get("sections", [])]
        for code in {c for c in sections if sections.count(c) > 1}:
            raise ValidationError({"sections": [f"section code {code!r} is used twice"]})
        seen = {}
        for s_pos, section in enumerate(data.get("sections", [])):
            for i_pos, item in enumerate(section["items"]):
                if item["code"] in seen:
                    raise ValidationError({f"sections.{s_pos}.items.{i_pos}.code": [
                        f"item code {item['code']!r} is already used in "
                        f"section {seen[item['code']]!r}"]})
                seen[item["code"]] = section["code"]


# --- views: what the RPCs answer ---------------------------------------------------

def unit_view(unit: OrgUnit) -> dict:
    return {"id": unit.id, "name": unit.name, "level": unit.level,
            "parent_id": unit.parent_id, "path": unit.path, "dhis2_id": unit.dhis2_id,
            "code": unit.code, "latitude": unit.latitude, "longitude": unit.longitude}


def template_summary(row: TemplateVersion) -> dict:
    definition = row.definition
    return {"code": row.code, "version": row.version, "title_fr": definition["title_fr"],
            "title_en": definition["title_en"],
            "sections": len(definition["sections"]),
            "items": sum(len(s["items"]) for s in definition["sections"]),
            "published_at": row.published_at.isoformat() if row.published_at else None,
            "published_by": row.published_by}


def template_view(row: TemplateVersion) -> dict:
    return {**template_summary(row), "definition": row.definition}


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
    start = (page - 1) * per_page
    return {"items": rows[start:start + per_page], "page": page, "per_page": per_page,
            "total": len(rows), "today": today.isoformat()}


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
