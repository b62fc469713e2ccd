"""A facility's page and visit planning: where a coach starts the day.

- `GET /facilities/{id}`: the facility (with its coordinates), its latest score
  per template, the score trend by section, open plans with their open actions,
  recent evidence, its coachees with an account, and when the next visit is due;
- `GET /visit-planning`: the facilities in the caller's scope due for a visit,
  never visited first, then the most overdue (interval: the template's
  `visit_interval_days`, else the C2P_VISIT_INTERVAL_DAYS setting).

Scope is enforced by the services from the caller passed along (a facility
elsewhere is 404); the page gathers what each service owns.
"""
from __future__ import annotations

from sqlalchemy import select

from c2p.api.facilities import FacilityPage, OpenAction, VisitPlanPage, VisitPlanQuery
from c2p.scope import in_scope
from gateway.dependencies import TimedRpc
from gateway.http import API, http
from gateway.models import Account
from gateway.openapi import route

TAGS = ["workday"]
OPEN_PLANS = ("draft", "agreed", "in_progress")
MAX_OPEN_PLANS = 10
RECENT_EVIDENCE = 10


# --- routes ------------------------------------------------------------------

class FacilityRoutes:
    checklist = TimedRpc("checklist")
    planner = TimedRpc("planner")
    evidence = TimedRpc("evidence")

    @route(summary="A facility's page: scores, trend, open plans, evidence, next visit",
           response=FacilityPage, errors=(404,), tags=TAGS)
    @http("GET", f"{API}/facilities/<facility_id>")
    def get_facility_page(self, request, facility_id):
        caller = self.auth.caller(request)
        rpc_caller = caller.as_rpc()
        overview = self.checklist.facility_overview(rpc_caller, facility_id)
        plans = self.planner.list_plans(rpc_caller, {"facility_id": overview["facility"]["id"],
                                                     "page": 1, "per_page": 50})
        open_plans = []
        for summary in [p for p in plans["items"] if p["status"] in OPEN_PLANS][
                :MAX_OPEN_PLANS]:
            plan = self.planner.get_plan(summary["id"], rpc_caller)
            open_plans.append({
                **{k: plan[k] for k in ("id", "submission_id", "status", "visited_at",
                                        "created_at")},
                "actions": [{k: a[k] for k in OpenAction._declared_fields}
                            for a in plan["actions"] if a["status"] in
                            ("todo", "in_progress", "awaiting_review")]})
        page = {**overview, "open_plans": open_plans,
                "recent_evidence": self._recent_evidence(rpc_caller, facility_id),
                "coachees": self._facility_coachees(caller, overview["facility"])}
        return page

    def _recent_evidence(self, rpc_caller, facility_id):
        """The facility's latest evidence (every status), newest first."""
        found = self.evidence.list_evidence_queue(
            rpc_caller, status="any", facility_id=facility_id, page=1,
            per_page=RECENT_EVIDENCE, order="newest")
        return found["items"]

    def _facility_coachees(self, caller, facility):
        rows = self.db.session.scalars(
            select(Account).where(Account.role == "coachee", Account.active.is_(True),
                                  Account.facility_id == facility["id"])
            .order_by(Account.display_name, Account.id)).all()
        return [{"id": a.id, "display_name": a.display_name} for a in rows
                if in_scope(facility["path"], caller.scope)]

    @route(summary="Visit planning: facilities due for a visit, never-visited first",
           query=VisitPlanQuery, response=VisitPlanPage, errors=(404,), tags=TAGS,
           description="Facilities in the caller's scope (or one district) with when their "
                       "next visit is due: never visited first, then the most overdue. "
                       "The interval is the template's `visit_interval_days`, else the "
                       "C2P_VISIT_INTERVAL_DAYS setting (90 days by default).")
    @http("GET", f"{API}/visit-planning")
    def visit_planning(self, request):
        caller = self.auth.caller(request)
        query = request.query
        return self.checklist.visit_plan(
            caller.as_rpc(), district_id=query.get("district_id"),
            template_code=query.get("template"), within_days=query["within_days"],
            include_all=query["all"], page=query["page"], per_page=query["per_page"])
