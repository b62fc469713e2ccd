"""Improvement plans and their actions, and the progress figures of dashboards.

Every route passes the caller (`Caller.as_rpc()`) to the planner, which answers
NotFound for a plan outside the caller's scope and Forbidden for a role that may
not make the change. Answers are dumped through the views of `c2p.api.plans`.
"""
from __future__ import annotations

from c2p.api import Page, paginate_list
from c2p.api.plans import (ActionChange, GrowNotes, NewAction, PlanFilters, PlanHistoryView,
                           PlanSummaryView, PlanView, ProgressPageQuery, ProgressRow,
                           StatusChange)
from c2p.api.pages import PageQuery
from gateway.dependencies import TimedRpc
from gateway.http import API, Reply, http, read_json
from gateway.openapi import route

TAGS = ["plans"]


class PlanRoutes:
    planner = TimedRpc("planner")

    @route(summary="The improvement plan of a visit", response=PlanView, errors=(404,),
           tags=TAGS)
    @http("GET", f"{API}/submissions/<submission_id>/plan")
    def get_plan_for_submission(self, request, submission_id):
        caller = self.auth.caller(request)
        return self.planner.get_plan_for_submission(submission_id, caller.as_rpc())

    @route(summary="Improvement plans in the caller's area, newest first", query=PlanFilters,
           response=Page(PlanSummaryView), tags=TAGS)
    @http("GET", f"{API}/plans")
    def list_plans(self, request):
        caller = self.auth.caller(request)
        return self.planner.list_plans(caller.as_rpc(), request.query)

    @route(summary="One improvement plan", response=PlanView, errors=(404,), tags=TAGS)
    @http("GET", f"{API}/plans/<plan_id>")
    def get_plan(self, request, plan_id):
        caller = self.auth.caller(request)
        return self.planner.get_plan(plan_id, caller.as_rpc())

    @route(summary="Agree a plan (coach and coachee each)", response=PlanView,
           errors=(404, 409), tags=TAGS)
    @http("POST", f"{API}/plans/<plan_id>/agree")
    def agree_plan(self, request, plan_id):
        caller = self.auth.caller(request)
        return self.planner.agree_plan(plan_id, caller.as_rpc())

    @route(summary="The plan's GROW notes", request=GrowNotes, response=PlanView,
           errors=(404,), tags=TAGS)
    @http("PUT", f"{API}/plans/<plan_id>/grow")
    def update_grow_notes(self, request, plan_id):
        caller = self.auth.caller(request)
        return self.planner.update_grow_notes(plan_id, read_json(request), caller.as_rpc())

    @route(summary="What happened to a plan and its actions, oldest first", query=PageQuery,
           response=PlanHistoryView, errors=(404,), tags=TAGS)
    @http("GET", f"{API}/plans/<plan_id>/history")
    def plan_history(self, request, plan_id):
        caller = self.auth.caller(request)
        history = self.planner.plan_history(plan_id, caller.as_rpc())
        return paginate_list(history["items"], request.query["page"],
                             request.query["per_page"], plan_id=history["plan_id"])

    @route(summary="Add an action to a plan", request=NewAction, response=PlanView,
           status=(201, 200), errors=(404, 409), tags=TAGS,
           description="The client-generated `id` makes a retry return the plan (200).")
    @http("POST", f"{API}/plans/<plan_id>/actions")
    def add_action(self, request, plan_id):
        caller = self.auth.caller(request)
        result = self.planner.add_action(plan_id, read_json(request), caller.as_rpc())
        return Reply(result["plan"], status=200 if result["replayed"] else 201,
                     headers={"Location": f"{API}/plans/{plan_id}"})

    @route(summary="Reword, re-date or re-assign an action", request=ActionChange,
           response=PlanView, errors=(404, 409), tags=TAGS)
    @http("PATCH", f"{API}/plans/<plan_id>/actions/<action_id>")
    def update_action(self, request, plan_id, action_id):
        caller = self.auth.caller(request)
        return self.planner.update_action(plan_id, action_id, read_json(request),
                                          caller.as_rpc())

    @route(summary="Move an action on (start, submit for review, done, drop)",
           request=StatusChange, response=PlanView, errors=(404, 409), tags=TAGS)
    @http("POST", f"{API}/plans/<plan_id>/actions/<action_id>/status")
    def change_action_status(self, request, plan_id, action_id):
        caller = self.auth.caller(request)
        return self.planner.change_action_status(plan_id, action_id, read_json(request),
                                                 caller.as_rpc())

    @route(summary="Actions done, open, overdue and dropped, by plan, coachee, facility "
                   "or district", query=ProgressPageQuery, response=Page(ProgressRow),
           tags=["dashboards"])
    @http("GET", f"{API}/dashboards/progress")
    def progress(self, request):
        caller = self.auth.caller(request)
        q = request.query
        rows = self.planner.progress(
            caller.as_rpc(), q["by"], since=q["since"] and q["since"].isoformat(),
            until=q["until"] and q["until"].isoformat())
        return paginate_list(rows, q["page"], q["per_page"])
