"""The caller's in-app inbox, and the notification delivery log for administrators.

The inbox belongs to whoever is signed in: every call names the caller as the
recipient, so nobody reads or marks another person's messages. The delivery
log (every message on every channel, with attempts and errors) is for admins,
scoped to the org units under their scope like every other object.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from c2p.contracts.notify import CHANNELS
from c2p.errors import Forbidden
from gateway.dependencies import TimedRpc
from gateway.http import API, http, json_response, page_params
from gateway.openapi import Page, route

DELIVERY_FILTERS = ("status", "channel", "recipient_id", "event_id", "event_type", "kind")
DELIVERY_STATUSES = ("pending", "held", "digest", "sending", "delivered", "failed", "digested",
                     "cancelled")


class InboxQuery(Schema):
    page = fields.Integer(validate=validate.Range(min=1))
    per_page = fields.Integer(validate=validate.Range(min=1, max=100))
    unread = fields.Boolean(metadata={"description": "only unread messages"})


class InboxMessageView(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"description": "plan.to_agree, ..."})
    title_fr = fields.String(required=True)
    title_en = fields.String(required=True)
    body_fr = fields.String(required=True)
    body_en = fields.String(required=True)
    link = fields.String(required=True, metadata={"description": "the API path concerned"})
    created_at = fields.DateTime(required=True)
    read = fields.Boolean(required=True)
    read_at = fields.DateTime(allow_none=True)


class UnreadCountView(Schema):
    unread = fields.Integer(required=True)


class MarkedView(Schema):
    marked = fields.Integer(required=True)


class NotificationDeliveryQuery(Schema):
    page = fields.Integer(validate=validate.Range(min=1))
    per_page = fields.Integer(validate=validate.Range(min=1, max=100))
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    recipient_id = fields.String()
    event_id = fields.UUID()
    event_type = fields.String()
    kind = fields.String()


class NotificationDeliveryView(Schema):
    id = fields.UUID(required=True)
    notification_id = fields.UUID(required=True)
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    kind = fields.String(required=True)
    recipient_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    address = fields.String(allow_none=True)
    language = fields.String(required=True)
    subject = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(DELIVERY_STATUSES))
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    facility_path = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    digest_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)


class InboxRoutes:
    notify = TimedRpc("notify")

    @route(summary="The caller's inbox, newest first", query=InboxQuery,
           response=Page(InboxMessageView), tags=["inbox"])
    @http("GET", f"{API}/inbox")
    def get_inbox(self, request):
        caller = self.auth.caller(request)
        page, per_page = page_params(request)
        unread_only = request.args.get("unread", "").lower() in ("1", "true", "yes")
        return json_response(self.notify.list_inbox(caller.id, page, per_page, unread_only))

    @route(summary="How many inbox messages the caller has not read", response=UnreadCountView,
           tags=["inbox"])
    @http("GET", f"{API}/inbox/unread-count")
    def get_inbox_unread_count(self, request):
        caller = self.auth.caller(request)
        return json_response(self.notify.count_unread(caller.id))

    @route(summary="Mark one of the caller's inbox messages read", response=InboxMessageView,
           errors=(404,), tags=["inbox"])
    @http("POST", f"{API}/inbox/<message_id>/read")
    def mark_inbox_message_read(self, request, message_id):
        caller = self.auth.caller(request)
        return json_response(self.notify.mark_read(caller.id, message_id))

    @route(summary="Mark all the caller's inbox messages read", response=MarkedView,
           tags=["inbox"])
    @http("POST", f"{API}/inbox/read-all")
    def mark_inbox_read(self, request):
        caller = self.auth.caller(request)
        return json_response(self.notify.mark_all_read(caller.id))

    @route(summary="Notification delivery log (admin): every message on every channel",
           query=NotificationDeliveryQuery, response=Page(NotificationDeliveryView),
           tags=["inbox"])
    @http("GET", f"{API}/admin/deliveries")
    def get_delivery_log(self, request):
        caller = self.auth.caller(request)
        if caller.role != "admin":
            raise Forbidden("the delivery log is for administrators")
        page, per_page = page_params(request)
        filters = {name: request.args[name] for name in DELIVERY_FILTERS
                   if request.args.get(name)}
        return json_response(self.notify.list_deliveries(caller.as_rpc(), filters, page,
                                                         per_page))
