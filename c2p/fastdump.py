"""Dumping the quick way, with marshmallow as the fallback: the twin of `fastload`.

Every event a producer emits and every answer the gateway sends is dumped through
its schema (`c2p.contracts.events.dump_data`, `c2p.api.core.dump`); for a plan of
fifteen actions or a visit of 49 answers, `Schema.dump` spends most of its time
in its generic machinery (attribute accessors, per-field `serialize` wrappers),
not in the conversions.

`dumper(schema)` builds, once per schema, a function that reads each declared
key of a plain dict and calls the field's own `_serialize` (nested schemas and
lists of them compiled the same way): the same code, so the same output. Any
other case (an object that is not a dict, a key that is absent where the dict
would answer an attribute of its own, fields computed by methods, dump hooks)
raises `Unsure`, and the caller dumps with marshmallow as before.
tests/unit/test_fastdump.py compares both on every contract and every API view.
"""
from __future__ import annotations

from typing import Callable

from marshmallow import Schema, fields
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import missing

from c2p.fastload import PerSchema, Unsure

Dumper = Callable[[dict], dict]

_DUMPERS = PerSchema(lambda schema: dumper(schema))  # `dumper` is defined below


def quick_dump(schema: Schema, obj):
    """`schema.dump(obj)` by the compiled dumper, or `missing` where it is unsure."""
    dump = _DUMPERS(schema)
    if dump is None:
        return missing
    try:
        return dump(obj)
    except Unsure:
        return missing


def dump(schema: Schema, obj):
    """`schema.dump(obj)`, the quick way where it can."""
    out = quick_dump(schema, obj)
    return schema.dump(obj) if out is missing else out


def dumper(schema: Schema) -> Dumper | None:
    if (schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP] or schema.many
            or type(schema).get_attribute is not Schema.get_attribute
            or schema.dict_class is not dict):
        return None
    steps = []
    for name, field in schema.dump_fields.items():
        convert = _converter(field)
        if convert is None:
            return None
        key = field.data_key if field.data_key is not None else name
        steps.append((field.attribute or name, key, convert, field.dump_default))

    def dump(obj):
        if type(obj) is not dict:
            raise Unsure
        out = {}
        for attribute, key, convert, default in steps:
            value = obj.get(attribute, missing)
            if value is missing:
                if hasattr(dict, attribute):  # marshmallow would read dict.<attribute>
                    raise Unsure
                value = default() if callable(default) else default
                if value is missing:
                    continue
            out[key] = convert(value, attribute, obj)
        return out
    return dump


def _converter(field: fields.Field):
    """`Field._serialize` of a value read from its object, as `Field.serialize` calls it."""
    if not field._CHECK_ATTRIBUTE or "." in (field.attribute or ""):
        return None
    if isinstance(field, (fields.Pluck, fields.Tuple)):
        return None
    if isinstance(field, fields.Nested):
        if (field.many or not isinstance(field.schema, Schema) or field.only
                or field.exclude or field.schema.many):
            return None
        inner = dumper(field.schema)
        if inner is None:
            return None
        return lambda value, attr, obj: None if value is None else inner(value)
    if isinstance(field, fields.List):
        element = _element(field.inner)
        if element is None:
            return None

        def each(value, attr, obj):
            if value is None:
                return None
            if type(value) not in (list, tuple):
                raise Unsure
            return [element(item, attr, obj) for item in value]
        return each

    return _leaf(field)


def _leaf(field: fields.Field):
    def leaf(value, attr, obj):
        try:
            return field._serialize(value, attr, obj)
        except Exception:
            raise Unsure from None
    return leaf


def _element(inner: fields.Field):
    """A list's elements go through `inner._serialize` directly (`List._serialize`)."""
    if isinstance(inner, (fields.Pluck, fields.Tuple, fields.List)):
        return None
    if isinstance(inner, fields.Nested):
        return _converter(inner)
    if not inner._CHECK_ATTRIBUTE:
        return None
    return _leaf(inner)
