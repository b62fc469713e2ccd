"""Notify's shapes: the requests it accepts (marshmallow, unknown fields refused),
the views its RPCs answer and the data its events carry."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, pre_load, validate

from c2p.api import page_of
from c2p.clock import iso
from c2p.contracts.notify import CHANNELS
from notify.models import DELIVERY_STATUSES

TEXT_REASON = "must be text of at most 200 characters, without NUL"


class Text(fields.String):
    """A short filter value: text of at most 200 characters, without NUL."""

    def __init__(self, choices=None, **kwargs):
        checks = [validate.Length(max=200, error=TEXT_REASON)]
        if choices is not None:
            checks.append(validate.OneOf(choices, error=f"must be one of {', '.join(choices)}"))
        super().__init__(validate=checks,
                         error_messages={"invalid": TEXT_REASON, "null": TEXT_REASON},
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("invalid")
        return text


class DeliveryFilters(Schema):
    """What the delivery log can be filtered by; an empty value filters nothing."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "unknown filter"}

    status = Text(choices=DELIVERY_STATUSES)
    channel = Text(choices=CHANNELS)
    recipient_id = Text()
    event_id = fields.UUID(error_messages={"invalid_uuid": "must be a UUID",
                                           "invalid": "must be a UUID"})
    event_type = Text()
    kind = Text()

    @pre_load
    def drop_empty(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        return {name: value for name, value in data.items() if value != ""}


# --- views: what the RPCs answer -----------------------------------------------------


def page(total, page_number, per_page, items) -> dict:
    return page_of(items, total, page_number, per_page)


def inbox_view(m) -> dict:
    return {"id": str(m.id), "kind": m.kind, "title_fr": m.title_fr, "title_en": m.title_en,
            "body_fr": m.body_fr, "body_en": m.body_en, "link": m.link,
            "created_at": iso(m.created_at), "read": m.read_at is not None,
            "read_at": iso(m.read_at)}


def delivery_view(d) -> dict:
    return {"id": str(d.id), "notification_id": str(d.notification_id),
            "event_id": str(d.event_id), "event_type": d.event_type, "kind": d.kind,
            "recipient_id": d.recipient_id, "channel": d.channel, "address": d.address,
            "language": d.language, "subject": d.subject, "status": d.status,
            "attempts": d.attempts, "next_attempt_at": iso(d.next_attempt_at),
            "facility_path": d.facility_path, "last_error": d.last_error,
            "digest_id": str(d.digest_id) if d.digest_id else None,
            "created_at": iso(d.created_at), "finished_at": iso(d.finished_at)}


def known_action_view(action) -> dict | None:
    """What the evidence alerts say of the action (evidence events carry only ids)."""
    if action is None:
        return None
    return {"facility_name": action.facility_name, "text_fr": action.text_fr,
            "text_en": action.text_en}


def author_view(author) -> dict | None:
    """Who wrote a comment, for the alert's text."""
    return {"author": author.display_name} if author else None


def recipient_values(event) -> dict:
    """The replica's columns from an `account.*` event."""
    data = event.data
    return dict(
        username=data["username"], display_name=data["display_name"], role=data["role"],
        scope=list(data["scope"]), language=data["language"], email=data.get("email"),
        phone=data.get("phone"), facility_id=data.get("facility_id"),
        coaching=[dict(a) for a in data.get("coaching") or ()],
        preferences=dict(data.get("preferences") or {}),
        active=bool(data["active"]) and event.type != "account.disabled",
        as_of=event.occurred_at)
