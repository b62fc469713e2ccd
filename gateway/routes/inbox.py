"""The caller's in-app inbox, and the notification delivery log for administrators.

The inbox belongs to whoever is signed in: every call names the caller as the
recipient, so nobody reads or marks another person's messages. The delivery
log (every message on every channel, with attempts and errors) is for admins,
scoped to the org units under their scope like every other object.
"""
from __future__ import annotations

from c2p.api import Page
from c2p.api.inbox import (DELIVERY_FILTERS, InboxMessageView, InboxQuery, MarkedView,
                           NotificationDeliveryQuery, NotificationDeliveryView, UnreadCountView)
from c2p.errors import Forbidden
from gateway.dependencies import TimedRpc
from gateway.http import API, http
from gateway.openapi import route


class InboxRoutes:
    notify = TimedRpc("notify")

    @route(summary="The caller's inbox, newest first", query=InboxQuery,
           response=Page(InboxMessageView), tags=["inbox"])
    @http("GET", f"{API}/inbox")
    def get_inbox(self, request):
        caller = self.auth.caller(request)
        q = request.query
        return self.notify.list_inbox(caller.id, q["page"], q["per_page"], q["unread"])

    @route(summary="How many inbox messages the caller has not read", response=UnreadCountView,
           tags=["inbox"])
    @http("GET", f"{API}/inbox/unread-count")
    def get_inbox_unread_count(self, request):
        caller = self.auth.caller(request)
        return self.notify.count_unread(caller.id)

    @route(summary="Mark one of the caller's inbox messages read", response=InboxMessageView,
           errors=(404,), tags=["inbox"])
    @http("POST", f"{API}/inbox/<message_id>/read")
    def mark_inbox_message_read(self, request, message_id):
        caller = self.auth.caller(request)
        return self.notify.mark_read(caller.id, message_id)

    @route(summary="Mark all the caller's inbox messages read", response=MarkedView,
           tags=["inbox"])
    @http("POST", f"{API}/inbox/read-all")
    def mark_inbox_read(self, request):
        caller = self.auth.caller(request)
        return self.notify.mark_all_read(caller.id)

    @route(summary="Notification delivery log (admin): every message on every channel",
           query=NotificationDeliveryQuery, response=Page(NotificationDeliveryView),
           tags=["inbox"])
    @http("GET", f"{API}/admin/deliveries")
    def get_delivery_log(self, request):
        caller = self.auth.caller(request)
        if caller.role != "admin":
            raise Forbidden("role", "the delivery log is for administrators",
                            "le journal des envois est réservé aux administrateurs")
        q = request.query
        filters = {name: str(q[name]) for name in DELIVERY_FILTERS if q.get(name)}
        return self.notify.list_deliveries(caller.as_rpc(), filters, q["page"], q["per_page"])
