"""Reading ids that arrive as text (URL segments, RPC arguments).

A malformed id names nothing, so it is answered like an unknown one (404), never
422 and never a 500: `parse_uuid` returns None and the caller's lookup finds
nothing.
"""
from __future__ import annotations

import uuid


def parse_uuid(value) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None
