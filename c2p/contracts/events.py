"""The registry of event contracts: one marshmallow schema per type and version.

The schemas live in one module per producing service (`checklist.py`,
`planner.py`, ...); importing `c2p.contracts` registers all of them.

Producers dump `data` through these schemas and consumers load it through the
same ones, so a field renamed on one side fails loudly in the contract tests
instead of silently on the bus.

How an event changes safely:

- **A new optional field** needs no new version: consumers leave out fields their
  contract does not know (`load_data`, at every level of the data), so an event
  from a newer producer is never parked for carrying one. Producers stay strict:
  they write declared fields only, and the AsyncAPI document says so.
- **An incompatible shape** (a field renamed, removed, made required, its meaning
  changed) is a new version registered beside the old one. The new version's
  schema carries `upcast(data)`, turning data of the previous version into its
  own shape (eventsourcing's `upcast_v1_v2`); `contract()` files it in
  `UPCASTERS`. Consumers load any version and upcast it to the newest they know.
- **Deploy consumers first.** A consumer that does not know version N+1 cannot
  read it (the message is parked as unreadable), while one that knows N+1 still
  reads N through the upcaster. So: release the contract with both versions,
  deploy every consumer, then the producer that emits N+1. Keep version N (and
  its upcaster) while events of N may still wait in queues, outboxes or parked
  queues; partners reading the AsyncAPI document get both versions too.
"""
from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields

from c2p.fastdump import dump
from c2p.fastload import quick_load

REGISTRY: dict[tuple[str, int], type[Schema]] = {}
# (type, old_version) -> function(data) -> data of old_version + 1
UPCASTERS: dict[tuple[str, int], callable] = {}


def contract(event_type: str, version: int = 1):
    """Register a schema as the contract of `event_type` at `version`; its own
    `upcast` (if it defines one) turns data of `version - 1` into this version's."""
    def register(schema_cls):
        REGISTRY[(event_type, version)] = schema_cls
        schema_cls.event_type = event_type
        schema_cls.event_version = version
        upcast = schema_cls.__dict__.get("upcast")  # its own, not a parent version's
        if upcast is not None:
            UPCASTERS[(event_type, version - 1)] = upcast.__func__ \
                if isinstance(upcast, staticmethod) else upcast
        return schema_cls
    return register


def latest_version(event_type: str) -> int:
    versions = [v for (t, v) in REGISTRY if t == event_type]
    if not versions:
        raise KeyError(event_type)
    return max(versions)


# One instance per contract class: building a marshmallow schema deep-copies its
# fields, which costs more than loading an event; an instance keeps no state
# between loads and dumps, so every worker may share it.
_INSTANCES: dict[type[Schema], Schema] = {}


def _schema(event_type, version):
    try:
        schema_cls = REGISTRY[(event_type, version)]
    except KeyError:
        raise ValidationError(
            {"type": [f"unknown event type/version {event_type} v{version}"]}) from None
    schema = _INSTANCES.get(schema_cls)
    if schema is None:
        schema = _INSTANCES[schema_cls] = schema_cls()
    return schema


def dump_data(event_type: str, version: int, data: dict) -> dict:
    """Serialise producer data to JSON-ready form, refusing what breaks the contract."""
    schema = _schema(event_type, version)
    dumped = dump(schema, data)
    if quick_load(schema, dumped, drop_unknown=False) is None:
        errors = schema.validate(dumped)  # the judge, and the errors' names
        if errors:
            raise ValidationError({"data": errors})
    return dumped


def load_data(event_type: str, version: int, data: dict) -> dict:
    """Validate wire data and upcast it to the newest version a consumer knows."""
    schema = _schema(event_type, version)
    loaded = quick_load(schema, data, drop_unknown=True)
    if loaded is None:
        try:
            loaded = schema.load(known_fields(schema, data))
        except ValidationError as exc:
            raise ValidationError({"data": exc.messages}) from None
    while (event_type, version) in UPCASTERS:
        loaded = UPCASTERS[(event_type, version)](loaded)
        version += 1
    return loaded


def known_fields(schema: Schema, data):
    """`data` without the fields `schema` does not declare, at every level (nested
    objects and lists of them): what a consumer keeps of a newer producer's event."""
    if not isinstance(data, dict):
        return data
    kept = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if key in data:
            kept[key] = _known_in(field, data[key])
    return kept


def _known_in(field, value):
    if isinstance(field, fields.Nested):
        nested = field.schema
        if field.many and isinstance(value, list):
            return [known_fields(nested, item) for item in value]
        return known_fields(nested, value)
    if isinstance(field, fields.List) and isinstance(value, list):
        return [_known_in(field.inner, item) for item in value]
    return value


class Data(Schema):
    """Base of every event's data schema: strict (a producer writes declared fields
    only, and the AsyncAPI document says so); consumers drop what they do not know
    before loading (`load_data`)."""
    class Meta:
        unknown = RAISE


def event_types() -> list[str]:
    return sorted({t for (t, _) in REGISTRY})
