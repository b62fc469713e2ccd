"""Dashboards: the championship leaderboard (the gaps dashboard and score history
are in `checklists`, actions' progress in `plans`)."""
from __future__ import annotations

from marshmallow import fields, validate

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
