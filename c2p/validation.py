"""Loading a request through its marshmallow schema, the one way every service does it:
anything refused becomes InvalidInput naming each field and the reason. Loaded by
the schema's compiled loader where it is sure, else by marshmallow
(`c2p.fastload`)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError

from c2p import fastload
from c2p.errors import InvalidInput


def load(schema: Schema, payload) -> dict:
    """`payload` loaded by `schema`, or InvalidInput (a body that is not an object
    is named as such, not as a schema error)."""
    if not isinstance(payload, dict):
        raise InvalidInput({"body": ["must be a JSON object"]})
    try:
        return fastload.load(schema, payload)
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None
