"""The registry of event contracts: one marshmallow schema per type and version.

The schemas live in one module per producing service (`checklist.py`,
`planner.py`, ...); importing `c2p.contracts` registers all of them.

Producers dump `data` through these schemas and consumers load it through the
same ones, so a field renamed on one side fails loudly in the contract tests
instead of silently on the bus. A new incompatible shape is a new version
registered beside the old one, with an upcaster in `UPCASTERS`, so consumers
keep reading events written before the change.
"""
from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError

REGISTRY: dict[tuple[str, int], type[Schema]] = {}
# (type, old_version) -> function(data) -> data of old_version + 1
UPCASTERS: dict[tuple[str, int], callable] = {}


def contract(event_type: str, version: int = 1):
    """Register a schema as the contract of `event_type` at `version`."""
    def register(schema_cls):
        REGISTRY[(event_type, version)] = schema_cls
        schema_cls.event_type = event_type
        schema_cls.event_version = version
        return schema_cls
    return register


def latest_version(event_type: str) -> int:
    versions = [v for (t, v) in REGISTRY if t == event_type]
    if not versions:
        raise KeyError(event_type)
    return max(versions)


def _schema(event_type, version):
    try:
        return REGISTRY[(event_type, version)]()
    except KeyError:
        raise ValidationError(
            {"type": [f"unknown event type/version {event_type} v{version}"]}) from None


def dump_data(event_type: str, version: int, data: dict) -> dict:
    """Serialise producer data to JSON-ready form, refusing what breaks the contract."""
    schema = _schema(event_type, version)
    dumped = schema.dump(data)
    errors = schema.validate(dumped)
    if errors:
        raise ValidationError({"data": errors})
    return dumped


def load_data(event_type: str, version: int, data: dict) -> dict:
    """Validate wire data and upcast it to the newest version a consumer knows."""
    try:
        loaded = _schema(event_type, version).load(data)
    except ValidationError as exc:
        raise ValidationError({"data": exc.messages}) from None
    while (event_type, version) in UPCASTERS:
        loaded = UPCASTERS[(event_type, version)](loaded)
        version += 1
    return loaded


class Data(Schema):
    """Base of every event's data schema: unknown fields are refused."""
    class Meta:
        unknown = RAISE


def event_types() -> list[str]:
    return sorted({t for (t, _) in REGISTRY})
