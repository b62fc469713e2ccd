"""Improvement plans and their actions."""
from __future__ import annotations

from gateway.dependencies import TimedRpc
from gateway.http import API, http, json_response


class PlanRoutes:
    planner = TimedRpc("planner")

    @http("GET", f"{API}/submissions/<submission_id>/plan")
    def get_plan_for_submission(self, request, submission_id):
        caller = self.auth.caller(request)
        return json_response(self.planner.get_plan_for_submission(submission_id,
                                                                  list(caller.scope)))

    @http("GET", f"{API}/plans/<plan_id>")
    def get_plan(self, request, plan_id):
        caller = self.auth.caller(request)
        return json_response(self.planner.get_plan(plan_id, list(caller.scope)))
