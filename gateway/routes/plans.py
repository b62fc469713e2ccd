"""Improvement plans and their actions, and the progress figures of dashboards.

Every route passes the caller (`Caller.as_rpc()`) to the planner, which answers
NotFound for a plan outside the caller's scope and Forbidden for a role that may
not make the change.
"""
from __future__ import annotations

from gateway.dependencies import TimedRpc
from gateway.http import API, http, json_response, page_params, read_json


class PlanRoutes:
    planner = TimedRpc("planner")

    @http("GET", f"{API}/submissions/<submission_id>/plan")
    def get_plan_for_submission(self, request, submission_id):
        caller = self.auth.caller(request)
        return json_response(self.planner.get_plan_for_submission(submission_id,
                                                                  caller.as_rpc()))

    @http("GET", f"{API}/plans")
    def list_plans(self, request):
        caller = self.auth.caller(request)
        page, per_page = page_params(request)
        filters = {"page": page, "per_page": per_page}
        for name in ("facility_id", "status"):
            if request.args.get(name):
                filters[name] = request.args[name]
        return json_response(self.planner.list_plans(caller.as_rpc(), filters))

    @http("GET", f"{API}/plans/<plan_id>")
    def get_plan(self, request, plan_id):
        caller = self.auth.caller(request)
        return json_response(self.planner.get_plan(plan_id, caller.as_rpc()))

    @http("POST", f"{API}/plans/<plan_id>/agree")
    def agree_plan(self, request, plan_id):
        caller = self.auth.caller(request)
        return json_response(self.planner.agree_plan(plan_id, caller.as_rpc()))

    @http("PUT", f"{API}/plans/<plan_id>/grow")
    def update_grow_notes(self, request, plan_id):
        caller = self.auth.caller(request)
        return json_response(self.planner.update_grow_notes(plan_id, read_json(request),
                                                            caller.as_rpc()))

    @http("GET", f"{API}/plans/<plan_id>/history")
    def plan_history(self, request, plan_id):
        caller = self.auth.caller(request)
        return json_response(self.planner.plan_history(plan_id, caller.as_rpc()))

    @http("POST", f"{API}/plans/<plan_id>/actions")
    def add_action(self, request, plan_id):
        caller = self.auth.caller(request)
        result = self.planner.add_action(plan_id, read_json(request), caller.as_rpc())
        return json_response(result["plan"], status=200 if result["replayed"] else 201,
                             headers={"Location": f"{API}/plans/{plan_id}"})

    @http("PATCH", f"{API}/plans/<plan_id>/actions/<action_id>")
    def update_action(self, request, plan_id, action_id):
        caller = self.auth.caller(request)
        return json_response(self.planner.update_action(plan_id, action_id, read_json(request),
                                                        caller.as_rpc()))

    @http("POST", f"{API}/plans/<plan_id>/actions/<action_id>/status")
    def change_action_status(self, request, plan_id, action_id):
        caller = self.auth.caller(request)
        return json_response(self.planner.change_action_status(
            plan_id, action_id, read_json(request), caller.as_rpc()))

    @http("GET", f"{API}/dashboards/progress")
    def progress(self, request):
        caller = self.auth.caller(request)
        return json_response({"items": self.planner.progress(
            caller.as_rpc(), request.args.get("by", ""),
            since=request.args.get("since") or None,
            until=request.args.get("until") or None)})
