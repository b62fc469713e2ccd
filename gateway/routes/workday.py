"""A coachee's and a coach's daily lists: my actions and the conversation on an
action (the review queue is `gateway.routes.review_queue`).

- `GET /me/actions`: the caller's actions across plans (owned by them; for a
  coach, also those of the plans they lead), open ones by default, overdue first
  then by due date;
- `GET|POST /plans/{id}/actions/{id}/comments`: the comments of coach and
  coachees on one action; each new one alerts the other side.

The planner and the evidence service check scope (NotFound outside it) and who
may write; the routes read the request and dump the answer through its schema.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway.dependencies import TimedRpc
from gateway.http import API, http, json_response, page_params, read_json
from gateway.openapi import Page, route
from gateway.routes.facilities import load_query

ACTION_STATUSES = ["todo", "in_progress", "awaiting_review", "done", "dropped"]


# --- my actions --------------------------------------------------------------

class MyActionsQuery(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(
        ACTION_STATUSES + ["open", "closed", "all"]),
        metadata={"description": "a status, or open (default), closed, all"})
    overdue = fields.Boolean(metadata={"description": "true: only overdue; false: none"})
    due_before = fields.Date(metadata={"description": "due on or before this day"})
    due_after = fields.Date(metadata={"description": "due on or after this day"})
    facility_id = fields.String(validate=validate.Length(min=1, max=64))
    page = fields.Integer(validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(validate=validate.Range(min=1, max=100))


class MyAction(Schema):
    id = fields.String(required=True)
    plan_id = fields.String(required=True)
    plan_status = fields.String(required=True)
    submission_id = fields.String(required=True)
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    item_code = fields.String(required=True, allow_none=True)
    text_fr = fields.String(required=True)
    text_en = fields.String(required=True)
    verification_fr = fields.String(required=True)
    verification_en = fields.String(required=True)
    owner_id = fields.String(required=True, allow_none=True)
    relation = fields.String(required=True, metadata={
        "enum": ["owner", "coach"], "description": "why it is on the caller's list"})
    status = fields.String(required=True)
    due_date = fields.String(required=True)
    critical = fields.Boolean(required=True)
    overdue = fields.Boolean(required=True)
    days_late = fields.Integer(required=True, allow_none=True,
                               metadata={"description": "overdue actions only"})
    days_left = fields.Integer(required=True, allow_none=True,
                               metadata={"description": "open actions not yet overdue"})
    comments = fields.Integer(required=True, metadata={"description": "how many comments"})
    verified_by_submission_id = fields.String(required=True, allow_none=True)
    closed_at = fields.String(required=True, allow_none=True)


# --- comments ------------------------------------------------------------------

class NewComment(Schema):
    id = fields.UUID(required=True, metadata={"description": "client-generated: a retried "
                                                            "sync returns the original"})
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class Comment(Schema):
    id = fields.String(required=True)
    action_id = fields.String(required=True)
    plan_id = fields.String(required=True)
    author_id = fields.String(required=True)
    author_role = fields.String(required=True)
    text = fields.String(required=True)
    created_at = fields.String(required=True)


class CommentList(Schema):
    action_id = fields.String(required=True)
    items = fields.List(fields.Nested(Comment), required=True, metadata={
        "description": "oldest first"})
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class PageQuery(Schema):
    page = fields.Integer(validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(validate=validate.Range(min=1, max=100))


def _dump(schema, payload):
    return json_response(schema.dump(payload))


class WorkdayRoutes:
    planner = TimedRpc("planner")

    @route(summary="My actions across plans: overdue first, then by due date",
           query=MyActionsQuery, response=Page(MyAction), tags=["workday"],
           description="A coachee's actions are those they own; a coach's, those they own "
                       "and those of the plans they lead. Open actions by default.")
    @http("GET", f"{API}/me/actions")
    def my_actions(self, request):
        caller = self.auth.caller(request)
        query = load_query(MyActionsQuery(), request)
        page, per_page = page_params(request)
        filters = {"status": query["status"], "page": page, "per_page": per_page}
        for name in ("overdue", "facility_id"):
            if name in query:
                filters[name] = query[name]
        for name in ("due_before", "due_after"):
            if name in query:
                filters[name] = query[name].isoformat()
        return _dump(Page(MyAction)(), self.planner.my_actions(caller.as_rpc(), filters))

    @route(summary="The conversation on an action, oldest first", query=PageQuery,
           response=CommentList, errors=(404,), tags=["plans"])
    @http("GET", f"{API}/plans/<plan_id>/actions/<action_id>/comments")
    def list_action_comments(self, request, plan_id, action_id):
        caller = self.auth.caller(request)
        load_query(PageQuery(), request)
        page, per_page = page_params(request)
        return _dump(CommentList(), self.planner.list_comments(
            plan_id, action_id, caller.as_rpc(), page, per_page))

    @route(summary="Comment on an action (coach or coachee); the other side is alerted",
           request=NewComment, response=Comment, status=(201, 200), errors=(404, 409),
           tags=["plans"])
    @http("POST", f"{API}/plans/<plan_id>/actions/<action_id>/comments")
    def add_action_comment(self, request, plan_id, action_id):
        caller = self.auth.caller(request)
        result = self.planner.add_comment(plan_id, action_id, read_json(request),
                                          caller.as_rpc())
        return json_response(Comment().dump(result["comment"]),
                             status=200 if result["replayed"] else 201, headers={
                                 "Location": f"{API}/plans/{plan_id}/actions/{action_id}"
                                             "/comments"})
