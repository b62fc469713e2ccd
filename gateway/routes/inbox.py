"""The caller's in-app inbox, and the delivery log for administrators."""
from __future__ import annotations

from c2p.errors import Forbidden
from gateway.dependencies import TimedRpc
from gateway.http import API, http, json_response, page_params

DELIVERY_FILTERS = ("status", "channel", "recipient_id", "event_id", "event_type", "kind")


class InboxRoutes:
    notify = TimedRpc("notify")

    @http("GET", f"{API}/inbox")
    def get_inbox(self, request):
        caller = self.auth.caller(request)
        page, per_page = page_params(request)
        unread_only = request.args.get("unread", "").lower() in ("1", "true", "yes")
        return json_response(self.notify.list_inbox(caller.id, page, per_page, unread_only))

    @http("GET", f"{API}/inbox/unread-count")
    def get_inbox_unread_count(self, request):
        caller = self.auth.caller(request)
        return json_response(self.notify.count_unread(caller.id))

    @http("POST", f"{API}/inbox/<message_id>/read")
    def mark_inbox_message_read(self, request, message_id):
        caller = self.auth.caller(request)
        return json_response(self.notify.mark_read(caller.id, message_id))

    @http("POST", f"{API}/inbox/read-all")
    def mark_inbox_read(self, request):
        caller = self.auth.caller(request)
        return json_response(self.notify.mark_all_read(caller.id))

    @http("GET", f"{API}/admin/deliveries")
    def get_delivery_log(self, request):
        caller = self.auth.caller(request)
        if caller.role != "admin":
            raise Forbidden("the delivery log is for administrators")
        page, per_page = page_params(request)
        filters = {name: request.args[name] for name in DELIVERY_FILTERS if request.args.get(name)}
        return json_response(self.notify.list_deliveries(caller.as_rpc(), filters, page,
                                                         per_page))
