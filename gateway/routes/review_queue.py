"""The review queue: evidence of the caller's area in one status, oldest first.

    GET /api/v1/evidence?status=pending_review&facility_id=&district_id=&page=&per_page=

`accepted` (the default; also named `pending_review`) is evidence whose file was
verified and that waits for a coach's review: the coach's queue, oldest upload first, each item with its
thumbnail link, the photo's capture time and place and its distance from the
facility. Other statuses list the rest (a coachee sees what was rejected, with
the coach's comment; `settled`: never reviewed, its action closed meanwhile, e.g.
verified on a follow-up visit; `any`: every status). Scope is enforced by the evidence service in SQL: nothing
outside the caller's area is listed or counted.
"""
from __future__ import annotations

from c2p.api import Page
from c2p.api.evidence import EvidenceQueueQuery, EvidenceView
from gateway.dependencies import TimedRpc
from gateway.http import API, http
from gateway.openapi import route


class ReviewQueueRoutes:
    evidence = TimedRpc("evidence")

    @route(summary="Evidence of the caller's area in one status, oldest first (the review "
                   "queue)", query=EvidenceQueueQuery, response=Page(EvidenceView),
           description=__doc__, tags=["evidence"])
    @http("GET", f"{API}/evidence")
    def list_evidence_queue(self, request):
        caller = self.auth.caller(request)
        q = request.query
        return self.evidence.list_evidence_queue(
            caller.as_rpc(), status=q["status"], facility_id=q.get("facility_id"),
            page=q["page"], per_page=q["per_page"], district_id=q.get("district_id"),
            order=q["order"])
