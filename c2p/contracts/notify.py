"""Events published by the notify service."""
from marshmallow import fields, validate

from c2p.contracts.events import Data, contract

CHANNELS = ["inbox", "email", "sms", "whatsapp"]


class Delivery(Data):
    notification_id = fields.UUID(required=True)
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    recipient_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    attempts = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)
    # What the alert is about (plan.to_agree, evidence.rejected, digest, ...).
    kind = fields.String(load_default=None, dump_default=None, allow_none=True)


@contract("notification.delivered", 1)
class NotificationDelivered(Delivery):
    """A message left the platform on an outside channel (e-mail, SMS, WhatsApp).

    Not published for in-app (`inbox`) alerts: the inbox message is the delivery,
    written with the event that caused it (`channel` keeps `inbox` among its values
    for events published before)."""


@contract("notification.failed", 1)
class NotificationFailed(Delivery):
    """A message could not be sent on an outside channel; retries are over."""
    error = fields.String(required=True)
