"""The desk map's layer: every facility of the caller's area with its latest visit.

    GET /api/v1/dashboards/map?since=&until=&template_code=&area_id=&page=&per_page=

One point per facility with a visit of the template in the period (the template
with the most visits when none is named, as for `/dashboards/gaps`; with
`all_templates=true`, every template: each facility's latest visit of any): where it is
(null when the facility has no coordinates), its latest score and colour (the
template's thresholds), whether a critical item failed. A map draws every
facility of its area at once, so a page holds up to 5,000 points (Mali has about
1,500 CSComs); the shape is the usual page. Scope and filters are the checklist
service's, the same query as the gaps dashboard.
"""
from __future__ import annotations

from nameko import config

from c2p.api import dump, page_of
from c2p.api.dashboards import MapLayerView, MapPoint, MapQuery
from gateway.answer_cache import AnswerCache
from gateway.dependencies import TimedRpc
from gateway.http import API, http, view_of
from gateway.openapi import route

ANSWERS = AnswerCache()


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
        generation = self.checklist.dashboards_generation()
        key = None if generation is None else (
            "map", generation, tuple(sorted(caller.scope)), _iso(q.get("since")),
            _iso(q.get("until")), q.get("template_code"), q["all_templates"], q.get("area_id"),
            q["page"],
            q["per_page"])
        cached = ANSWERS.get(key) if key else None
        if cached is not None:
            return cached.answer(request)
        report = self.checklist.gap_report(
            caller.as_rpc(), level="facility", since=_iso(q.get("since")),
            until=_iso(q.get("until")), top=1, template_code=q.get("template_code"),
            area_id=q.get("area_id"), page=q["page"], per_page=q["per_page"],
            all_templates=q["all_templates"])
        # Only what a point needs: 2,000 of them go to the browser at once.
        points = [{name: row.get(name) for name in MapPoint._declared_fields}
                  for row in report["rows"]]
        body = page_of(points, report["total"], q["page"], q["per_page"],
                       template_code=report["template_code"], area_id=report["area_id"])
        if key is None:
            return body
        strict = bool(getattr(config.get("C2P_SETTINGS"), "strict_views", False))
        return ANSWERS.put(key, dump(view_of(MapLayerView), body, strict=strict)).answer(
            request)
