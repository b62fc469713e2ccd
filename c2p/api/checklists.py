"""Checklists: submissions (visits) and their scores, templates, org units, and
the gaps dashboard and score history read from them.

Requests (`SubmissionRequest`, `TemplateDefinition`) are loaded by the
checklist service and refuse unknown fields; views are what the gateway dumps.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from marshmallow import (Schema, ValidationError, fields, validate, validates,
                         validates_schema)

from c2p.api.core import Day, Query, Strict, Timestamp, View
from c2p.api.pages import PageQuery, PageView
from c2p.clock import utcnow

# --- vocabulary (the checklist domain uses the same tuples) --------------------

YES, NO, PARTIAL, NA = "yes", "no", "partial", "na"
ANSWER_TYPES = ("yes_no", "numeric", "choice")
# Who usually carries out an item's corrective action.
RESPONSIBLE_ROLES = ("vaccinator", "dtc", "district", "community_health_worker", "region")
# Who a coach meets at a CSCom. The planner gives an action to the coachee whose
# role matches the item's responsible role, else to the DTC.
COACHEE_ROLES = ("dtc", "vaccinator", "nurse", "midwife", "community_health_worker",
                 "manager", "other")
COLOURS = ("green", "amber", "red", "grey")
LEVELS = ("country", "region", "district", "facility")
DASHBOARD_LEVELS = ("facility", "district", "region")
IMPORT_FORMATS = ("csv", "dhis2")
# Phone clocks drift; a visit "tomorrow" beyond this is a wrong clock or a typo.
CLOCK_SKEW = timedelta(hours=24)
EARLIEST_VISIT = datetime(2000, 1, 1, tzinfo=timezone.utc)
MAX_VERSION = 1_000_000  # template versions live in an integer column; no programme nears this
ID = validate.Length(min=1, max=64)


# --- submissions: request --------------------------------------------------------

class Coachee(Strict):
    """A person the coach met; `id` is their account id when they have one."""
    id = fields.String(required=True, validate=ID)
    role = fields.String(load_default="other", validate=validate.OneOf(COACHEE_ROLES))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    # Set by the gateway from its accounts (a phone's value is overwritten):
    # False for staff without a C2P account, whose actions go to the DTC.
    account = fields.Boolean(load_default=True, metadata={
        "description": "set by the server: false for staff without a C2P account"})


class Answer(Strict):
    item = fields.String(required=True, validate=ID)
    value = fields.Raw(required=True, allow_none=True, metadata={
        "description": "yes/no/partial/na, a number, or a choice value, by item type"})
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class GpsPoint(Strict):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(load_default=None, allow_none=True,
                              validate=validate.Range(min=0, max=100000))


class SubmissionRequest(Strict):
    """A visit as the phone sends it; the client-generated `id` makes a retry harmless."""
    id = fields.UUID(required=True)
    facility_id = fields.String(required=True, validate=ID)
    template_code = fields.String(required=True, validate=ID)
    template_version = fields.Integer(load_default=None, allow_none=True, strict=True,
                                      validate=validate.Range(min=1, max=MAX_VERSION))
    visited_at = fields.AwareDateTime(required=True, default_timezone=timezone.utc)
    coachees = fields.List(fields.Nested(Coachee), load_default=list,
                           validate=validate.Length(max=50))
    answers = fields.List(fields.Nested(Answer), required=True)
    gps = fields.Nested(GpsPoint, load_default=None, allow_none=True)
    comment = fields.String(load_default="", validate=validate.Length(max=4000))
    # Set by the gateway: the facility's DTC account, who answers for staff
    # without an account.
    dtc_id = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=64),
                           metadata={"description": "set by the server"})

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


# --- templates: request (and, dumped, the full template) --------------------------

CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$",
                       error="must be snake_case: lower-case letters, digits, '_'")
TEMPLATE_CODE = validate.Regexp(r"^[a-z][a-z0-9-]{1,63}$",
                                error="must be lower-case letters, digits and '-'")
TEXT = validate.Length(min=1, max=1000)


class CorrectiveAction(Strict):
    """What to do when the item fails: what the planner turns into an action."""
    text_fr = fields.String(required=True, validate=TEXT)
    text_en = fields.String(required=True, validate=TEXT)
    responsible_role = fields.String(required=True,
                                     validate=validate.OneOf(RESPONSIBLE_ROLES))
    verification_fr = fields.String(load_default="", validate=validate.Length(max=1000))
    verification_en = fields.String(load_default="", validate=validate.Length(max=1000))
    delay_days = fields.Integer(required=True, strict=True,
                                validate=validate.Range(min=0, max=365))


class Choice(Strict):
    value = fields.String(required=True, validate=validate.Length(min=1, max=64))
    label_fr = fields.String(required=True, validate=TEXT)
    label_en = fields.String(required=True, validate=TEXT)
    ratio = fields.Float(required=True, validate=validate.Range(min=0, max=1))


def _range(**kwargs):
    return fields.List(fields.Float(allow_none=True), validate=validate.Length(equal=2),
                       metadata={"description": "[low, high]; null: open"}, **kwargs)


class TemplateItem(Strict):
    code = fields.String(required=True, validate=CODE)
    type = fields.String(required=True, validate=validate.OneOf(ANSWER_TYPES))
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
    valid_range = _range()
    pass_range = _range()
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
            if NA in values:
                raise ValidationError({"choices": [f"{NA!r} is reserved for "
                                                   "not applicable"]})
            if not any(c["ratio"] == 1 for c in choices):
                raise ValidationError({"choices": ["one choice must earn full points "
                                                   "(ratio 1)"]})
        elif "choices" in item:
            raise ValidationError({"choices": ["only choice items have choices"]})


class TemplateSection(Strict):
    code = fields.String(required=True, validate=CODE)
    title_fr = fields.String(required=True, validate=TEXT)
    title_en = fields.String(required=True, validate=TEXT)
    items = fields.List(fields.Nested(TemplateItem), required=True,
                        validate=validate.Length(min=1))


class Thresholds(Strict):
    """Colour thresholds in percent: green at or above `green`, amber at or above
    `amber`, red below."""
    green = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    amber = fields.Float(required=True, validate=validate.Range(min=0, max=100))

    @validates_schema
    def ordered(self, data, **kwargs):
        if data["amber"] > data["green"]:
            raise ValidationError({"amber": ["must not be above green"]})


class TemplateDefinition(Strict):
    """A checklist template version as an admin publishes it."""
    code = fields.String(required=True, validate=TEMPLATE_CODE)
    version = fields.Integer(load_default=None, allow_none=True, strict=True,
                             validate=validate.Range(min=1, max=MAX_VERSION))
    title_fr = fields.String(required=True, validate=TEXT)
    title_en = fields.String(required=True, validate=TEXT)
    description_fr = fields.String(validate=validate.Length(max=4000))
    description_en = fields.String(validate=validate.Length(max=4000))
    thresholds = fields.Nested(Thresholds, load_default=lambda: {"green": 80, "amber": 50})
    # Days between two visits of a facility on this checklist (visit planning);
    # absent: the C2P_VISIT_INTERVAL_DAYS setting. No default filled in, so a
    # version published before this field existed still replays as the same.
    visit_interval_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=730))
    sections = fields.List(fields.Nested(TemplateSection), required=True,
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


# --- templates: views ----------------------------------------------------------

class TemplateSummaryView(View):
    """A published template version, without its items (lists)."""
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    title_fr = fields.String(required=True)
    title_en = fields.String(required=True)
    section_count = fields.Integer(required=True)
    item_count = fields.Integer(required=True)
    published_at = Timestamp(required=True, allow_none=True)
    published_by = fields.String(required=True, allow_none=True)


class TemplateView(TemplateSummaryView):
    """A template version in full: what `TemplateDefinition` published, with
    `version` set, and when and by whom."""
    description_fr = fields.String()
    description_en = fields.String()
    thresholds = fields.Nested(Thresholds, required=True)
    visit_interval_days = fields.Integer(metadata={
        "description": "days between two visits (absent: the server's setting)"})
    sections = fields.List(fields.Nested(TemplateSection), required=True)


class PublishedTemplateView(TemplateView):
    created = fields.Boolean(required=True, metadata={
        "description": "false when this exact version was already published (replay)"})


class TemplateQuery(PageQuery):
    code = fields.String(validate=validate.Length(max=64))


class TemplateVersionQuery(Query):
    version = fields.Integer(validate=validate.Range(min=1, max=MAX_VERSION),
                             metadata={"description": "default: the latest"})


# --- submissions: views --------------------------------------------------------

class SectionScore(View):
    code = fields.String(required=True)
    title_fr = fields.String(required=True)
    title_en = fields.String(required=True)
    points = fields.Float(required=True)
    max_points = fields.Float(required=True)
    percent = fields.Float(required=True, allow_none=True,
                           metadata={"description": "null when no item applied"})
    colour = fields.String(required=True, validate=validate.OneOf(COLOURS))
    effective = fields.Boolean(required=True, metadata={"description": "80 % or more"})


class Score(View):
    percent = fields.Float(required=True, allow_none=True)
    points = fields.Float(required=True)
    max_points = fields.Float(required=True)
    colour = fields.String(required=True, validate=validate.OneOf(COLOURS))
    flagged = fields.Boolean(required=True,
                             metadata={"description": "a critical item failed"})
    sections = fields.List(fields.Nested(SectionScore), required=True)


class Gap(View):
    """A failed or partial item, with the corrective action the plan takes from it."""
    item_code = fields.String(required=True)
    section_code = fields.String(required=True)
    label_fr = fields.String(required=True)
    label_en = fields.String(required=True)
    answer = fields.Raw(required=True, allow_none=True)
    critical = fields.Boolean(required=True)
    points_lost = fields.Float(required=True)
    action = fields.Nested(CorrectiveAction, required=True)


class AnswerValue(View):
    value = fields.Raw(required=True, allow_none=True)
    comment = fields.String(required=True)


class SubmissionSummaryView(View):
    id = fields.UUID(required=True)
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    coach_id = fields.String(required=True)
    template_code = fields.String(required=True)
    template_version = fields.Integer(required=True)
    visited_at = Timestamp(required=True)
    received_at = Timestamp(required=True)
    percent = fields.Float(required=True, allow_none=True)
    colour = fields.String(required=True, validate=validate.OneOf(COLOURS))
    flagged = fields.Boolean(required=True)
    gaps = fields.Integer(required=True, metadata={"description": "how many gaps"})


class SubmissionView(View):
    """A visit with its answers, score and gaps."""
    id = fields.UUID(required=True)
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    coach_id = fields.String(required=True)
    template_code = fields.String(required=True)
    template_version = fields.Integer(required=True)
    visited_at = Timestamp(required=True)
    received_at = Timestamp(required=True)
    coachees = fields.List(fields.Nested(Coachee), required=True)
    answers = fields.Dict(keys=fields.String(), values=fields.Nested(AnswerValue),
                          required=True, metadata={"description": "by item code"})
    gps = fields.Nested(GpsPoint, required=True, allow_none=True)
    comment = fields.String(required=True)
    score = fields.Nested(Score, required=True)
    gaps = fields.List(fields.Nested(Gap), required=True)
    replayed = fields.Boolean(metadata={"description": "this id was already received"})


class PeriodQuery(Query):
    since = Day(metadata={"description": "first day included (ISO date or date-time)"})
    until = Day(metadata={"description": "last day included (ISO date or date-time)"})


class SubmissionQuery(PageQuery, PeriodQuery):
    facility_id = fields.String(validate=ID)
    district_id = fields.String(validate=ID)
    region_id = fields.String(validate=ID)
    coach_id = fields.String(validate=ID)
    template_code = fields.String(validate=ID)


class HistoryQuery(PeriodQuery):
    template_code = fields.String(validate=ID, metadata={
        "description": "default: the template of the latest visit"})


class VisitSectionScore(View):
    code = fields.String(required=True)
    title_fr = fields.String(required=True)
    title_en = fields.String(required=True)
    percent = fields.Float(required=True, allow_none=True)


class HistoryVisit(View):
    submission_id = fields.UUID(required=True)
    visited_at = Timestamp(required=True)
    coach_id = fields.String(required=True)
    template_code = fields.String(required=True)
    template_version = fields.Integer(required=True)
    percent = fields.Float(required=True, allow_none=True)
    colour = fields.String(required=True, validate=validate.OneOf(COLOURS))
    flagged = fields.Boolean(required=True)
    sections = fields.List(fields.Nested(VisitSectionScore), required=True)


class FacilityHistoryView(View):
    """A facility's visits of one template, oldest first."""
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    template_code = fields.String(required=True, allow_none=True, metadata={
        "description": "the template compared (null: no visit)"})
    visits = fields.List(fields.Nested(HistoryVisit), required=True)
    change = fields.Float(required=True, allow_none=True, metadata={
        "description": "latest minus first percent, same template (null: fewer than 2)"})


# --- org units -----------------------------------------------------------------

class OrgUnitView(View):
    id = fields.String(required=True)
    name = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent_id = fields.String(required=True, allow_none=True)
    path = fields.String(required=True)
    dhis2_id = fields.String(required=True, allow_none=True)
    code = fields.String(required=True, allow_none=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)


class OrgUnitQuery(PageQuery):
    level = fields.String(validate=validate.OneOf(LEVELS))
    parent_id = fields.String(validate=ID)


class ImportQuery(Query):
    format = fields.String(required=True, validate=validate.OneOf(IMPORT_FORMATS))
    dry_run = fields.Boolean(load_default=False)


class LineError(View):
    field = fields.String(required=True)
    reason = fields.String(required=True)


class ImportLine(View):
    line = fields.Integer(required=True)
    id = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(
        ["created", "updated", "unchanged", "rejected"]))
    changed = fields.List(fields.String(), metadata={"description": "updated lines"})
    errors = fields.List(fields.Nested(LineError), metadata={"description": "rejected lines"})


class ImportReportView(View):
    """What an import did (or would do, `dry_run`), line by line."""
    format = fields.String(required=True, validate=validate.OneOf(IMPORT_FORMATS))
    dry_run = fields.Boolean(required=True)
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    lines = fields.List(fields.Nested(ImportLine), required=True)


# --- dashboards ---------------------------------------------------------------

class GapsQuery(PageQuery, PeriodQuery):
    level = fields.String(load_default="facility",
                          validate=validate.OneOf(DASHBOARD_LEVELS))
    top = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100),
                         metadata={"description": "how many failing items (default 10)"})
    template_code = fields.String(validate=ID, metadata={
        "description": "the template compared (every version); default: the one with the "
                       "most visits"})
    all_templates = fields.Boolean(load_default=False, metadata={
        "description": "count the visits of every template (each facility's latest visit, "
                       "whichever its template; the items failed most across templates); "
                       "template_code is then not allowed"})
    area_id = fields.String(validate=ID, metadata={
        "description": "only facilities under this region or district (an org-unit id)"})


class ColourCounts(View):
    green = fields.Integer(required=True)
    amber = fields.Integer(required=True)
    red = fields.Integer(required=True)
    grey = fields.Integer(required=True)


class GapRow(View):
    """A facility's latest visit (level=facility), or a district's or region's roll-up
    of its facilities' latest visits (the other fields by level)."""
    facility_id = fields.String()
    facility_name = fields.String()
    facility_path = fields.String()
    district_id = fields.String()
    district_name = fields.String()
    region_id = fields.String()
    region_name = fields.String()
    latest_submission_id = fields.UUID()
    latest_visited_at = Timestamp()
    percent = fields.Float(allow_none=True)
    first_percent = fields.Float(allow_none=True)
    colour = fields.String(validate=validate.OneOf(COLOURS))
    flagged = fields.Raw(metadata={"description": "facility: boolean; roll-up: how many"})
    visits = fields.Integer()
    facilities = fields.Integer()
    mean_percent = fields.Float(allow_none=True)
    colours = fields.Nested(ColourCounts)
    template_code = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)


class GapTotals(View):
    facilities = fields.Integer(required=True)
    visits = fields.Integer(required=True)
    mean_percent = fields.Float(required=True, allow_none=True)
    colours = fields.Nested(ColourCounts, required=True)
    flagged = fields.Integer(required=True)


class TopGap(View):
    item_code = fields.String(required=True)
    section_code = fields.String(required=True, allow_none=True)
    label_fr = fields.String(required=True)
    label_en = fields.String(required=True)
    critical = fields.Boolean(required=True)
    failures = fields.Integer(required=True)
    partial = fields.Integer(required=True)
    visits = fields.Integer(required=True)
    failure_rate = fields.Float(required=True, allow_none=True)


class GapReportView(PageView):
    """Latest scores of one template by facility, district or region (a page of
    rows, lowest first), totals over every row, and the items failed most."""
    level = fields.String(required=True, validate=validate.OneOf(DASHBOARD_LEVELS))
    template_code = fields.String(required=True, allow_none=True, metadata={
        "description": "the template compared (null: no visit in the period)"})
    area_id = fields.String(required=True, allow_none=True)
    since = Timestamp(required=True, allow_none=True)
    until = Timestamp(required=True, allow_none=True)
    items = fields.List(fields.Nested(GapRow), required=True)
    totals = fields.Nested(GapTotals, required=True)
    top_gaps = fields.List(fields.Nested(TopGap), required=True)


class FacilityScore(View):
    """A facility's latest score of one template in a period (leaderboard input)."""
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    district_id = fields.String(required=True)
    district_name = fields.String(required=True)
    region_id = fields.String(required=True)
    region_name = fields.String(required=True)
    latest_submission_id = fields.UUID(required=True)
    latest_visited_at = Timestamp(required=True)
    percent = fields.Float(required=True, allow_none=True)
    colour = fields.String(required=True)
    flagged = fields.Boolean(required=True)
    first_percent = fields.Float(required=True, allow_none=True)
    visits = fields.Integer(required=True)
    template_code = fields.String(required=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
