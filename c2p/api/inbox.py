"""The in-app inbox of the signed-in person, and the notification delivery log
(administrators)."""
from __future__ import annotations

from marshmallow import fields, validate

from c2p.api.core import Timestamp, View
from c2p.api.pages import PageQuery
from c2p.contracts.notify import CHANNELS

DELIVERY_FILTERS = ("status", "channel", "recipient_id", "event_id", "event_type", "kind")
DELIVERY_STATUSES = ("pending", "held", "digest", "sending", "delivered", "failed", "digested",
                     "cancelled")


class InboxQuery(PageQuery):
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread messages"})


class InboxMessageView(View):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"description": "plan.to_agree, ..."})
    title_fr = fields.String(required=True)
    title_en = fields.String(required=True)
    body_fr = fields.String(required=True)
    body_en = fields.String(required=True)
    link = fields.String(required=True, metadata={"description": "the API path concerned"})
    created_at = Timestamp(required=True)
    read = fields.Boolean(required=True)
    read_at = Timestamp(allow_none=True)


class UnreadCountView(View):
    unread = fields.Integer(required=True)


class MarkedView(View):
    marked = fields.Integer(required=True)


class NotificationDeliveryQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    recipient_id = fields.String()
    event_id = fields.UUID()
    event_type = fields.String()
    kind = fields.String()


class NotificationDeliveryView(View):
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
    next_attempt_at = Timestamp(allow_none=True)
    facility_path = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    digest_id = fields.UUID(allow_none=True)
    created_at = Timestamp(required=True)
    finished_at = Timestamp(allow_none=True)
