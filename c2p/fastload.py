"""Loading event data the quick way, with marshmallow as the judge.

Every event is loaded through its contract (`c2p.contracts.events.load_data`) by
each of its consumers, and checked again by its producer (`dump_data`): a
49-item visit's `checklist.submitted` and its plan's `plan.created` took about
1 ms each through `Schema.load`, most of it marshmallow's generic machinery
around each field (error stores, getters, hook look-ups), not the conversions.

`loader(schema)` builds, once per contract, a plain function that walks the
schema's fields and calls each field's own conversion (`Field._deserialize`) and
validators directly: the same code turns the same input into the same output.
The schema's own validators (`@validates`, `@validates_schema`) run after, as
`Schema.load` runs them. It takes only the plain path: anything else (a missing
required field, a null where none is allowed, a value a conversion or validator
refuses, an unknown key where the schema refuses them, a schema with pre_load or
post_load hooks) raises `Unsure`, and
the caller loads with marshmallow itself, which accepts or names the fault
exactly as before. So the fast path may only ever accept what marshmallow
accepts, and give what it gives; tests/unit/test_fastload.py compares the two on
every registered contract with generated and broken data.
"""
from __future__ import annotations

import weakref
from typing import Callable

from marshmallow import RAISE, Schema, fields
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.utils import missing


class Unsure(Exception):
    """Not on the plain path: let marshmallow load it."""


Loader = Callable[[dict], dict]

class PerSchema:
    """What `build` compiles for a schema, built once: by class for instances made
    with the class's own options (a route may make one per request: compiling each
    time would cost more than it saves), by instance otherwise."""

    def __init__(self, build):
        self.build = build
        self.by_class: dict[type, object] = {}
        self.by_instance: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __call__(self, schema: Schema):
        plain = plain_instance(schema)
        cache, key = (self.by_class, type(schema)) if plain else (self.by_instance, schema)
        try:
            return cache[key]
        except KeyError:
            built = cache[key] = self.build(schema)
            return built


# (strict loader, consumer's loader that leaves undeclared keys out), each None
# where the schema is not compiled.
_LOADERS = PerSchema(lambda schema: (loader(schema, drop_unknown=False),
                                     loader(schema, drop_unknown=True)))


def quick_load(schema: Schema, data, drop_unknown: bool):
    """`data` loaded by the schema's compiled loader, or None where it is unsure:
    then load it with marshmallow, which decides and names the faults."""
    load = _LOADERS(schema)[drop_unknown]
    if load is None:
        return None
    try:
        return load(data)
    except Unsure:
        return None


def load(schema: Schema, data) -> dict:
    """`schema.load(data)` (unknown keys refused as the schema says), the quick way
    where it can; marshmallow's ValidationError otherwise."""
    loaded = quick_load(schema, data, drop_unknown=False)
    return schema.load(data) if loaded is None else loaded


def plain_instance(schema: Schema) -> bool:
    """Made with its class's own options: any two such instances load and dump alike."""
    return (schema.only is None and not schema.exclude and not schema.many
            and not schema.partial and not schema.load_only and not schema.dump_only
            and schema.unknown == type(schema).opts.unknown)


def loader(schema: Schema, drop_unknown: bool) -> Loader | None:
    """A function loading data as `schema.load` would (keys the schema does not
    declare left out if `drop_unknown`, else refused), raising `Unsure` off the
    plain path; None if the schema cannot be compiled (hooks, options)."""
    if not drop_unknown and schema.unknown != RAISE:
        return None  # EXCLUDE or INCLUDE: not what contracts use
    steps = _steps(schema, drop_unknown)
    if steps is None:
        return None
    checks = _checks(schema)
    if checks is None:
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
        if checks:
            try:
                for check in checks:
                    check(out)
            except Exception:
                raise Unsure from None
        return out
    return load


def _checks(schema: Schema):
    """The schema's own validators (`@validates`, `@validates_schema`), called as
    `Schema.load` calls them on data without field errors; None if the schema has
    hooks that change data (pre_load, post_load) or want the raw input."""
    hooks = schema._hooks
    if hooks[PRE_LOAD] or hooks[POST_LOAD]:
        return None
    checks = []
    for name, _, options in hooks[VALIDATES]:
        for field_name in options["field_names"]:
            field = schema.fields.get(field_name)
            if field is None:
                return None
            key = field.data_key if field.data_key is not None else field_name
            checks.append(_field_check(getattr(schema, name), field.attribute or field_name,
                                       key))
    # Those taking the whole collection first, as `Schema.load` runs them.
    for collection in (True, False):
        for name, hook_many, options in hooks[VALIDATES_SCHEMA]:
            if hook_many != collection:
                continue
            if options.get("pass_original"):
                return None
            checks.append(_schema_check(getattr(schema, name), schema.unknown))
    return checks


def _field_check(validator, attribute, key):
    def check(out):
        if attribute in out and validator(out[attribute], data_key=key) is missing:
            raise Unsure  # marshmallow would drop the value: not the plain path
    return check


def _schema_check(validator, unknown):
    return lambda out: validator(out, partial=None, many=False, unknown=unknown)


def _steps(schema: Schema, drop_unknown: bool):
    if schema.many or schema.partial:
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
    if isinstance(field, (fields.Pluck, fields.Tuple)):
        return None  # their own shapes: left to marshmallow
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
