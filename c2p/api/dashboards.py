"""Dashboards: the championship leaderboard (the gaps dashboard and score history
are in `checklists`, actions' progress in `plans`)."""
from __future__ import annotations

from marshmallow import fields, validate

from c2p.api.checklists import COLOURS, ID, PeriodQuery
from c2p.api.core import Day, Timestamp, View
from c2p.api.pages import PageQuery, PageView

DEFAULT_PERIOD_DAYS = 90


class LeaderboardQuery(PageQuery):
    cohort = fields.String(validate=validate.Length(min=1, max=64))
    since = Day(metadata={"description": f"default: until − {DEFAULT_PERIOD_DAYS} days"})
    until = Day(metadata={"description": "default: today"})
    template_code = fields.String(validate=validate.Length(min=1, max=64), metadata={
        "description": "the template whose scores are compared; default: the one with "
                       "most visits in the period"})


class TeamView(View):
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    district_name = fields.String(required=True, allow_none=True)
    region_name = fields.String(required=True, allow_none=True)
    visits = fields.Integer(required=True)
    first_percent = fields.Float(required=True, allow_none=True)
    latest_percent = fields.Float(required=True, allow_none=True)
    latest_visited_at = Timestamp(required=True, allow_none=True)
    colour = fields.String(required=True, allow_none=True)
    flagged = fields.Boolean(required=True, allow_none=True)
    actions_done = fields.Integer(required=True)
    actions_total = fields.Integer(required=True)
    actions_overdue = fields.Integer(required=True)
    percent_done = fields.Float(required=True)
    improvement = fields.Float(metadata={"description": "ranked teams only"})
    points = fields.Float(metadata={"description": "ranked teams only"})
    rank = fields.Integer(metadata={"description": "ranked teams only"})
    reason = fields.String(metadata={"description": "unranked teams only: why"})


class LeaderboardView(PageView):
    cohort = fields.String(required=True, allow_none=True)
    template_code = fields.String(required=True, allow_none=True, metadata={
        "description": "the template compared (null: no visit in the period)"})
    since = Day(required=True)
    until = Day(required=True)
    formula = fields.String(required=True)
    items = fields.List(fields.Nested(TeamView), required=True)
    unranked = fields.List(fields.Nested(TeamView), required=True)


# --- the desk map's layer (GET /dashboards/map) ---------------------------------

MAP_MAX_POINTS = 5000


class MapQuery(PeriodQuery, PageQuery):
    """The desk map's layer: a map draws every facility of its area at once, so a
    page holds up to MAP_MAP_MAX_POINTS points."""
    template_code = fields.String(validate=ID, metadata={
        "description": "the template (every version); default: the one with the most visits"})
    all_templates = fields.Boolean(load_default=False, metadata={
        "description": "count the visits of every template (each facility's latest visit, "
                       "whichever its template; the items failed most across templates); "
                       "template_code is then not allowed"})
    area_id = fields.String(validate=ID, metadata={
        "description": "only facilities under this region or district (an org-unit id)"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=MAP_MAX_POINTS,
                              validate=validate.Range(min=1, max=MAP_MAX_POINTS),
                              metadata={"description": f"1 to {MAP_MAX_POINTS} (default {MAP_MAX_POINTS})"})


class MapPoint(View):
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    district_id = fields.String(required=True)
    district_name = fields.String(required=True)
    region_name = fields.String(required=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    percent = fields.Float(required=True, allow_none=True)
    colour = fields.String(required=True, validate=validate.OneOf(COLOURS))
    flagged = fields.Boolean(required=True)
    visits = fields.Integer(required=True)
    latest_visited_at = Timestamp(required=True)
    latest_submission_id = fields.UUID(required=True)


class MapLayerView(PageView):
    template_code = fields.String(required=True, allow_none=True)
    area_id = fields.String(required=True, allow_none=True)
    items = fields.List(fields.Nested(MapPoint), required=True)
