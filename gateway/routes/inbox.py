"""The caller's in-app inbox."""
from __future__ import annotations

from gateway.dependencies import TimedRpc
from gateway.http import API, http, json_response, page_params


class InboxRoutes:
    notify = TimedRpc("notify")

    @http("GET", f"{API}/inbox")
    def get_inbox(self, request):
        caller = self.auth.caller(request)
        page, per_page = page_params(request)
        return json_response(self.notify.list_inbox(caller.id, page, per_page))
