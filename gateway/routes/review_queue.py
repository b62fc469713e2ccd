"""The review queue: evidence of the caller's area in one status, oldest first.

    GET /api/v1/evidence?status=pending_review&facility_id=&district_id=&page=&per_page=

`pending_review` (or its older name `accepted`, the default) is evidence whose
file was verified and that waits for a coach's review: the coach's queue, oldest upload first, each item with its
thumbnail link, the photo's capture time and place and its distance from the
facility. Other statuses list the rest (a coachee sees what was rejected, with
the coach's comment; `settled`: never reviewed, its action closed meanwhile, e.g.
verified on a follow-up visit; `any`: every status). Scope is enforced by the evidence service in SQL: nothing
outside the caller's area is listed or counted.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway.dependencies import TimedRpc
from gateway.http import API, http, json_response, page_params
from gateway.openapi import route

STATUSES = ["pending_review", "accepted", "approved", "rejected", "needs_more", "settled",
            "refused", "pending_upload", "withdrawn", "any"]


class QueueQuery(Schema):
    status = fields.String(load_default="accepted", validate=validate.OneOf(STATUSES),
                           metadata={"description": "default `accepted`: waiting for review"})
    facility_id = fields.String(validate=validate.Length(min=1, max=64))
    district_id = fields.String(validate=validate.Length(min=1, max=64))
    page = fields.Integer(metadata={"description": "from 1"})
    per_page = fields.Integer(metadata={"description": "1 to 100 (default 20)"})


class ReviewQueueRoutes:
    evidence = TimedRpc("evidence")

    @route(summary="Evidence of the caller's area in one status, oldest first (the review "
                   "queue)", query=QueueQuery, description=__doc__, tags=["evidence"])
    @http("GET", f"{API}/evidence")
    def list_evidence_queue(self, request):
        caller = self.auth.caller(request)
        page, per_page = page_params(request)
        return json_response(self.evidence.list_evidence_queue(
            caller.as_rpc(), status=request.args.get("status") or "accepted",
            facility_id=request.args.get("facility_id") or None, page=page,
            per_page=per_page, district_id=request.args.get("district_id") or None))
