"""Checklist submissions and their scores."""
from __future__ import annotations

from gateway.dependencies import TimedRpc
from gateway.http import API, http, json_response, read_json


class ChecklistRoutes:
    checklist = TimedRpc("checklist")

    @http("POST", f"{API}/submissions")
    def submit_checklist(self, request):
        caller = self.auth.caller(request)
        result = self.checklist.submit_checklist(read_json(request), caller.as_rpc())
        status = 200 if result["replayed"] else 201
        return json_response(result, status=status,
                             headers={"Location": f"{API}/submissions/{result['id']}"})

    @http("GET", f"{API}/submissions/<submission_id>")
    def get_submission(self, request, submission_id):
        caller = self.auth.caller(request)
        return json_response(self.checklist.get_submission(submission_id, list(caller.scope)))
