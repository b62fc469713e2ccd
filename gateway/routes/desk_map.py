"""The desk map's layer: every facility of the caller's area with its latest visit.

    GET /api/v1/dashboards/map?since=&until=&template_code=&area_id=&page=&per_page=

One point per facility with a visit of the template in the period (the template
with the most visits when none is named, as for `/dashboards/gaps`): where it is
(null when the facility has no coordinates), its latest score and colour (the
template's thresholds), whether a critical item failed. A map draws every
facility of its area at once, so a page holds up to 5,000 points (Mali has about
1,500 CSComs); the shape is the usual page. Scope and filters are the checklist
service's, the same query as the gaps dashboard.
"""
from __future__ import annotations

from marshmallow import fields, validate

from c2p.api import paginate_list
from c2p.api.checklists import COLOURS, ID, PeriodQuery
from c2p.api.core import Timestamp, View
from c2p.api.pages import PageView
from gateway.dependencies import TimedRpc
from gateway.http import API, http
from gateway.openapi import route

MAX_POINTS = 5000


class MapQuery(PeriodQuery):
    template_code = fields.String(validate=ID, metadata={
        "description": "the template (every version); default: the one with the most visits"})
    area_id = fields.String(validate=ID, metadata={
        "description": "only facilities under this region or district (an org-unit id)"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=MAX_POINTS,
                              validate=validate.Range(min=1, max=MAX_POINTS),
                              metadata={"description": f"1 to {MAX_POINTS} (default {MAX_POINTS})"})


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


def _iso(value):
    return value.isoformat() if value is not None else None


class DeskMapRoutes:
    checklist = TimedRpc("checklist")

    @route(summary="Every facility of the caller's area with its latest score, for a map",
           description=__doc__, query=MapQuery, response=MapLayerView, errors=(404,),
           tags=["dashboards"])
    @http("GET", f"{API}/dashboards/map")
    def get_map_layer(self, request):
        caller = self.auth.caller(request)
        q = request.query
        report = self.checklist.gap_report(
            caller.as_rpc(), level="facility", since=_iso(q.get("since")),
            until=_iso(q.get("until")), top=1, template_code=q.get("template_code"),
            area_id=q.get("area_id"))
        # Only what a point needs: 2,000 of them go to the browser at once.
        points = [{name: row.get(name) for name in MapPoint._declared_fields}
                  for row in report["rows"]]
        return paginate_list(points, q["page"], q["per_page"],
                             template_code=report["template_code"], area_id=report["area_id"])
