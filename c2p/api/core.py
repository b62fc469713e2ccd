"""Base classes of the API's schemas, and the dump that turns a service's answer
into what the client gets.

- `Strict`: a request body; an unknown field is refused, naming it.
- `Query`: the query string of one route; an unknown parameter is refused
  (the gateway answers 400 naming it: a client that believes it filtered must
  learn that it did not).
- `View`: an answer. `dump(View, data)` keeps exactly the declared fields; with
  `strict=True` (tests, `C2P_STRICT_VIEWS`) a field the data has but the view
  does not declare is an error instead of being dropped silently, so a service
  cannot grow a field the document does not describe.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime

from marshmallow import RAISE, Schema, ValidationError, fields

from c2p import fastdump as quick


class Strict(Schema):
    """A request body: unknown fields are refused."""

    class Meta:
        unknown = RAISE


class Query(Strict):
    """The query parameters of one route: unknown ones are refused."""


class View(Schema):
    """An answer's shape; dumped by the gateway, documented in the OpenAPI document."""


class Timestamp(fields.String):
    """A UTC ISO 8601 date-time, sent as the service wrote it (or formatted here)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("format", "date-time")
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime):
            return value.isoformat()
        return super()._serialize(value, attr, obj, **kwargs)


class Day(fields.Date):
    """A date (YYYY-MM-DD); in, a full ISO date-time is accepted and reduced to its
    day; out, a date or an ISO string is sent as a date."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and "T" in value:
            try:
                return fields.DateTime()._deserialize(value, attr, data, **kwargs).date()
            except ValidationError:
                pass
        return super()._deserialize(value, attr, data, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, str):
            return value[:10]
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            return value.isoformat()
        return super()._serialize(value, attr, obj, **kwargs)


class ViewDrift(TypeError):
    """The data holds fields its view does not declare."""


# What a value may be, per field class, for `undeclared` (first match wins).
_TYPES = [
    (fields.Boolean, (bool,)),
    (fields.Integer, (int,)),
    (fields.Float, (int, float)),
    (fields.Number, (int, float)),
    (fields.UUID, (str, uuid.UUID)),
    (Timestamp, (str, datetime)),
    (Day, (str, date)),
    (fields.DateTime, (str, datetime)),
    (fields.Date, (str, date)),
    (fields.String, (str,)),
    (fields.Dict, (dict,)),
    (fields.List, (list, tuple)),
    (fields.Nested, (dict, list)),
]


def _misfit(field, value) -> str | None:
    """Why `value` cannot be dumped by `field` faithfully (None: it can)."""
    for kind, allowed in _TYPES:
        if isinstance(field, kind):
            if isinstance(value, bool) and kind in (fields.Integer, fields.Float,
                                                      fields.Number):
                return "a boolean"
            if not isinstance(value, allowed):
                return f"a {type(value).__name__}"
            return None
    return None


def _check(field, value, path) -> list[str]:
    if value is None:
        return []
    why = _misfit(field, value)
    if why:
        return [f"{path} ({why}, declared {type(field).__name__})"]
    if isinstance(field, fields.Nested):
        if field.many or isinstance(value, list):
            if not (field.many and isinstance(value, list)):
                return [f"{path} (a {type(value).__name__}, declared Nested)"]
            return [p for i, item in enumerate(value)
                    for p in _check_object(field.schema, item, f"{path}.{i}")]
        return undeclared(field.schema, value, path)
    if isinstance(field, fields.List):
        return [p for i, item in enumerate(value) for p in _check(field.inner, item,
                                                                  f"{path}.{i}")]
    if isinstance(field, fields.Dict) and field.value_field is not None:
        return [p for key, item in value.items()
                for p in _check(field.value_field, item, f"{path}.{key}")]
    return []


def _check_object(schema, value, path) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path} (a {type(value).__name__}, declared an object)"]
    return undeclared(schema, value, path)


def undeclared(schema: Schema, data, path: str = "") -> list[str]:
    """Where `data` holds what `schema` does not declare: unknown keys, and values
    of another kind than declared (a dict where a list is, a number as text...),
    as dotted paths. Empty: the dump is faithful."""
    if not isinstance(data, dict):
        return [f"{path or '.'} (a {type(data).__name__}, declared an object)"]
    by_key = {(f.attribute or name): f for name, f in schema.fields.items()
              if not f.load_only}
    found = []
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        field = by_key.get(key)
        if field is None:
            found.append(f"{where} (not declared)")
        else:
            found += _check(field, value, where)
    return found


def dump(view: type[Schema] | Schema, data, strict: bool = False):
    """`data` as `view` declares it. Strict: undeclared fields raise ViewDrift."""
    schema = view() if isinstance(view, type) else view
    if strict:
        extra = undeclared(schema, data)
        if extra:
            raise ViewDrift(f"{type(schema).__name__} does not declare "
                            f"{', '.join(sorted(extra))}: add them to the view (c2p/api)")
    return quick.dump(schema, data)  # Schema.dump where the quick way steps aside
