"""Live updates (Server-Sent Events): what the stream's URL may carry."""
from __future__ import annotations

from marshmallow import fields, validate

from c2p.api.core import Query


class LiveQuery(Query):
    access_token = fields.String(validate=validate.Length(max=4000), metadata={
        "description": "the bearer token, for EventSource (which cannot set headers)"})
    last_event_id = fields.String(validate=validate.Length(max=100), metadata={
        "description": "as the Last-Event-ID header: replay what was missed"})
