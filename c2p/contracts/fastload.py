"""Loading event data the quick way, with marshmallow as the judge.

Every event is loaded through its contract (`c2p.contracts.events.load_data`) by
each of its consumers, and checked again by its producer (`dump_data`): a
49-item visit's `checklist.submitted` and its plan's `plan.created` took about
1 ms each through `Schema.load`, most of it marshmallow's generic machinery
around each field (error stores, getters, hook look-ups), not the conversions.

`loader(schema)` builds, once per contract, a plain function that walks the
schema's fields and calls each field's own conversion (`Field._deserialize`) and
validators directly: the same code turns the same input into the same output.
It takes only the plain path: anything else (a missing required field, a null
where none is allowed, a value a conversion or validator refuses, an unknown
key where the schema refuses them, a schema with hooks) raises `Unsure`, and
the caller loads with marshmallow itself, which accepts or names the fault
exactly as before. So the fast path may only ever accept what marshmallow
accepts, and give what it gives; tests/unit/test_fastload.py compares the two on
every registered contract with generated and broken data.
"""
from __future__ import annotations

from typing import Callable

from marshmallow import RAISE, Schema, fields
from marshmallow.utils import missing


class Unsure(Exception):
    """Not on the plain path: let marshmallow load it."""


Loader = Callable[[dict], dict]


def loader(schema: Schema, drop_unknown: bool) -> Loader | None:
    """A function loading data as `schema.load` would (keys the schema does not
    declare left out if `drop_unknown`, else refused), raising `Unsure` off the
    plain path; None if the schema cannot be compiled (hooks, options)."""
    if not drop_unknown and schema.unknown != RAISE:
        return None  # EXCLUDE or INCLUDE: not what contracts use
    steps = _steps(schema, drop_unknown)
    if steps is None:
        return None
    declared = frozenset(key for key, _, _ in steps)
    refuse_unknown = not drop_unknown

    def load(data):
        if type(data) is not dict:
            raise Unsure
        if refuse_unknown and not declared.issuperset(data):
            raise Unsure
        out = {}
        for key, attribute, convert in steps:
            value = data.get(key, missing)
            value = convert(value, key, data)
            if value is not missing:
                out[attribute] = value
        return out
    return load


def _steps(schema: Schema, drop_unknown: bool):
    if any(schema._hooks.values()) or schema.many or schema.partial:
        return None
    steps = []
    for name, field in schema.load_fields.items():
        convert = _converter(field, drop_unknown)
        if convert is None:
            return None
        key = field.data_key if field.data_key is not None else name
        steps.append((key, field.attribute or name, convert))
    return steps


def _converter(field: fields.Field, drop_unknown: bool):
    """`Field.deserialize` without its machinery: missing, null, conversion and
    validators, each as the field itself does them; `Unsure` wherever it would
    raise."""
    if getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        return None
    if isinstance(field, fields.Nested):
        if (field.many or not isinstance(field.schema, Schema) or field.only
                or field.exclude or field.unknown is not None):
            return None
        inner = loader(field.schema, drop_unknown)
        if inner is None:
            return None
        convert_value = lambda value, key, data: inner(value)  # noqa: E731
    elif isinstance(field, fields.List):
        element = _converter(field.inner, drop_unknown)
        if element is None:
            return None

        def convert_value(value, key, data):
            if type(value) is not list:
                raise Unsure
            return [element(each, key, data) for each in value]
    elif isinstance(field, fields.Tuple):
        return None
    else:
        deserialize = field._deserialize
        convert_value = lambda value, key, data: deserialize(value, key, data)  # noqa: E731

    required, allow_none = field.required, field.allow_none
    default = field.load_default
    validators = tuple(field.validators)

    def convert(value, key, data):
        if value is missing:
            if required:
                raise Unsure
            return default() if callable(default) else default
        if value is None:
            if allow_none:
                return None
            raise Unsure
        try:
            output = convert_value(value, key, data)
            for validator in validators:
                if validator(output) is False:  # marshmallow's rule for a False answer
                    raise Unsure
        except Unsure:
            raise
        except Exception:
            raise Unsure from None
        return output
    return convert
