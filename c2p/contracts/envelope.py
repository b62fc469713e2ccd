"""The one envelope every C2P event travels in.

`id`, `type`, `version`, `occurred_at`, `source`, `correlation_id`, `data`: the
producer and every consumer (inside C2P or in a subscribing programme) read the
same fields. `data` is checked against the schema registered for
(`type`, `version`) in `c2p.contracts.events`.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate


class EnvelopeSchema(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+\.[a-z_]+$"))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=timezone.utc)
    source = fields.String(required=True, validate=validate.Length(min=1, max=64))
    correlation_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    data = fields.Dict(required=True)


_ENVELOPE = EnvelopeSchema()  # built once (see c2p.contracts.events._INSTANCES)


@dataclass(frozen=True)
class Event:
    """A fact that happened, as it travels on the bus (data already validated)."""
    type: str
    data: dict
    version: int = 1
    source: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    correlation_id: str = ""

    def to_wire(self) -> dict:
        """The JSON-ready envelope, `data` dumped with its contract schema."""
        from c2p.contracts.events import dump_data
        return {
            "id": str(self.id),
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at.astimezone(timezone.utc).isoformat(),
            "source": self.source,
            "correlation_id": self.correlation_id or str(self.id),
            "data": dump_data(self.type, self.version, self.data),
        }

    @classmethod
    def from_wire(cls, body) -> "Event":
        """Parse and validate an envelope; raise ValidationError naming the field."""
        from c2p.contracts.events import load_data
        from c2p import fastload
        if not isinstance(body, dict):
            raise ValidationError({"_envelope": ["must be a JSON object"]})
        envelope = fastload.load(_ENVELOPE, body)
        data = load_data(envelope["type"], envelope["version"], envelope["data"])
        return cls(type=envelope["type"], version=envelope["version"],
                   source=envelope["source"], id=envelope["id"],
                   occurred_at=envelope["occurred_at"],
                   correlation_id=envelope["correlation_id"], data=data)
