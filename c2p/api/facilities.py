"""A facility's page and visit planning: the views of `GET /facilities/{id}` and
`GET /visit-planning` (the gateway gathers the page from several services)."""
from __future__ import annotations

from marshmallow import fields, validate

from c2p.api.core import Timestamp, View
from c2p.api.evidence import EvidenceView
from c2p.api.pages import Page, PageQuery


class PlaceRef(View):
    id = fields.String(required=True)
    name = fields.String(required=True)


class FacilityView(View):
    id = fields.String(required=True)
    name = fields.String(required=True)
    path = fields.String(required=True)
    code = fields.String(required=True, allow_none=True)
    dhis2_id = fields.String(required=True, allow_none=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    district = fields.Nested(PlaceRef, required=True, allow_none=True)
    region = fields.Nested(PlaceRef, required=True, allow_none=True)


class LatestScore(View):
    template_code = fields.String(required=True)
    template_version = fields.Integer(required=True)
    title_fr = fields.String(required=True)
    title_en = fields.String(required=True)
    submission_id = fields.String(required=True)
    visited_at = Timestamp(required=True)
    percent = fields.Float(required=True, allow_none=True)
    colour = fields.String(required=True, allow_none=True)
    flagged = fields.Boolean(required=True)
    gaps = fields.Integer(required=True)


class TrendPoint(View):
    submission_id = fields.String(required=True)
    visited_at = Timestamp(required=True)
    percent = fields.Float(required=True, allow_none=True)


class SectionTrend(View):
    code = fields.String(required=True)
    title_fr = fields.String(required=True)
    title_en = fields.String(required=True)
    points = fields.List(fields.Nested(TrendPoint), required=True,
                         metadata={"description": "oldest first"})


class TemplateTrend(View):
    template_code = fields.String(required=True)
    overall = fields.List(fields.Nested(TrendPoint), required=True)
    sections = fields.List(fields.Nested(SectionTrend), required=True)


class NextVisit(View):
    interval_days = fields.Integer(required=True)
    interval_source = fields.String(required=True, metadata={"enum": ["template", "setting"]})
    due_on = fields.String(required=True, allow_none=True,
                           metadata={"description": "null: never visited, due now"})
    days_overdue = fields.Integer(required=True, allow_none=True)
    status = fields.String(required=True, metadata={
        "enum": ["never_visited", "overdue", "due", "due_soon", "not_due"]})


class OpenAction(View):
    id = fields.String(required=True)
    item_code = fields.String(required=True, allow_none=True)
    text_fr = fields.String(required=True)
    text_en = fields.String(required=True)
    owner_id = fields.String(required=True, allow_none=True)
    due_date = fields.String(required=True)
    status = fields.String(required=True)
    critical = fields.Boolean(required=True)
    overdue = fields.Boolean(required=True)


class OpenPlan(View):
    id = fields.String(required=True)
    submission_id = fields.String(required=True)
    status = fields.String(required=True)
    visited_at = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True)
    actions = fields.List(fields.Nested(OpenAction), required=True,
                          metadata={"description": "its open actions only"})


class StaffMember(View):
    id = fields.String(required=True)
    display_name = fields.String(required=True)


class FacilityPage(View):
    facility = fields.Nested(FacilityView, required=True)
    visits = fields.Integer(required=True, metadata={"description": "visits on record"})
    last_visited_at = fields.String(required=True, allow_none=True)
    latest_scores = fields.List(fields.Nested(LatestScore), required=True,
                                metadata={"description": "one per template"})
    trend = fields.List(fields.Nested(TemplateTrend), required=True,
                        metadata={"description": "per template, its last 12 visits"})
    next_visit = fields.Nested(NextVisit, required=True)
    open_plans = fields.List(fields.Nested(OpenPlan), required=True)
    recent_evidence = fields.List(fields.Nested(EvidenceView), required=True,
                                  metadata={"description": "its latest, newest first"})
    coachees = fields.List(fields.Nested(StaffMember), required=True,
                           metadata={"description": "active coachee accounts of the facility"})


class LastVisit(View):
    submission_id = fields.String(required=True)
    visited_at = Timestamp(required=True)
    template_code = fields.String(required=True)
    percent = fields.Float(required=True, allow_none=True)
    colour = fields.String(required=True, allow_none=True)
    flagged = fields.Boolean(required=True)


class PlannedVisit(NextVisit):
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    district_id = fields.String(required=True, allow_none=True)
    district_name = fields.String(required=True, allow_none=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    last_visit = fields.Nested(LastVisit, required=True, allow_none=True)


class VisitPlanQuery(PageQuery):
    district_id = fields.String(validate=validate.Length(min=1, max=64))
    template = fields.String(validate=validate.Length(min=1, max=64),
                             metadata={"description": "plan visits on this template only"})
    within_days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=365),
                                 metadata={"description": "also list visits due within "
                                                          "this many days (default 0)"})
    all = fields.Boolean(load_default=False,
                         metadata={"description": "every facility, due or not"})


class VisitPlanPage(Page(PlannedVisit)):
    """One page of the facilities due for a visit, and the day they were planned for."""
    today = fields.String(required=True, metadata={"description": "the day planned for"})
