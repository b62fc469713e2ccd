"""A coachee's and a coach's daily lists: my actions and the conversation on an
action (the review queue is `gateway.routes.review_queue`, the facility's page and
visit planning `gateway.routes.facilities`).

- `GET /me/actions`: the caller's actions across plans (owned by them; for a
  coach, also those of the plans they lead), open ones by default, overdue first
  then by due date;
- `GET|POST /plans/{id}/actions/{id}/comments`: the comments of coach and
  coachees on one action; each new one alerts the other side.

The planner checks scope (NotFound outside it) and who may write; answers are
dumped through the views of `c2p.api.plans`.
"""
from __future__ import annotations

from c2p.api import Page
from c2p.api.plans import (CommentPage, CommentQuery, CommentView, MyActionFilters,
                           MyActionView, NewComment)
from gateway.dependencies import TimedRpc
from gateway.http import API, Reply, http, read_json
from gateway.openapi import route


class WorkdayRoutes:
    planner = TimedRpc("planner")

    @route(summary="My actions across plans: overdue first, then by due date",
           query=MyActionFilters, response=Page(MyActionView), tags=["workday"],
           description="A coachee's actions are those they own; a coach's, those they own "
                       "and those of the plans they lead. Open actions by default.")
    @http("GET", f"{API}/me/actions")
    def my_actions(self, request):
        caller = self.auth.caller(request)
        filters = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                   for k, v in request.query.items() if v is not None}
        return self.planner.my_actions(caller.as_rpc(), filters)

    @route(summary="The conversation on an action, oldest first", query=CommentQuery,
           response=CommentPage, errors=(404,), tags=["plans"])
    @http("GET", f"{API}/plans/<plan_id>/actions/<action_id>/comments")
    def list_action_comments(self, request, plan_id, action_id):
        caller = self.auth.caller(request)
        q = request.query
        return self.planner.list_comments(plan_id, action_id, caller.as_rpc(), q["page"],
                                          q["per_page"])

    @route(summary="Comment on an action (coach or coachee); the other side is alerted",
           request=NewComment, response=CommentView, status=(201, 200), errors=(404, 409),
           tags=["plans"], description="The client-generated `id` makes a retried sync "
                                       "return the comment made (200).")
    @http("POST", f"{API}/plans/<plan_id>/actions/<action_id>/comments")
    def add_action_comment(self, request, plan_id, action_id):
        caller = self.auth.caller(request)
        result = self.planner.add_comment(plan_id, action_id, read_json(request),
                                          caller.as_rpc())
        return Reply(result["comment"], status=200 if result["replayed"] else 201, headers={
            "Location": f"{API}/plans/{plan_id}/actions/{action_id}/comments"})
