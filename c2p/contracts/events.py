"""One marshmallow schema per event type and version: the contracts.

Producers dump `data` through these schemas and consumers load it through the
same ones, so a field renamed on one side fails loudly in the contract tests
instead of silently on the bus. A new incompatible shape is a new version
registered beside the old one, with an upcaster in `UPCASTERS`, so consumers
keep reading events written before the change.
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, RAISE, INCLUDE

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


class _Data(Schema):
    class Meta:
        unknown = RAISE


# --- shared pieces ---------------------------------------------------------

class CorrectiveAction(_Data):
    text_fr = fields.String(required=True)
    text_en = fields.String(required=True)
    responsible_role = fields.String(required=True)
    verification_fr = fields.String(load_default="", dump_default="")
    verification_en = fields.String(load_default="", dump_default="")
    delay_days = fields.Integer(required=True, validate=validate.Range(min=0, max=365))


class Gap(_Data):
    item_code = fields.String(required=True)
    section_code = fields.String(required=True)
    label_fr = fields.String(required=True)
    label_en = fields.String(required=True)
    answer = fields.Raw(required=True, allow_none=True)
    critical = fields.Boolean(required=True)
    points_lost = fields.Float(required=True)
    action = fields.Nested(CorrectiveAction, required=True)


class SectionScore(_Data):
    code = fields.String(required=True)
    title_fr = fields.String(load_default="", dump_default="")
    title_en = fields.String(load_default="", dump_default="")
    points = fields.Float(required=True)
    max_points = fields.Float(required=True)
    percent = fields.Float(required=True, allow_none=True)


class Score(_Data):
    percent = fields.Float(required=True, allow_none=True)
    points = fields.Float(required=True)
    max_points = fields.Float(required=True)
    colour = fields.String(required=True, validate=validate.OneOf(["green", "amber", "red", "grey"]))
    flagged = fields.Boolean(required=True)
    sections = fields.List(fields.Nested(SectionScore), required=True)


class Person(_Data):
    id = fields.String(required=True)
    role = fields.String(load_default="", dump_default="")
    name = fields.String(load_default="", dump_default="")


# --- checklist --------------------------------------------------------------

@contract("checklist.submitted", 1)
class ChecklistSubmitted(_Data):
    submission_id = fields.UUID(required=True)
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    coach_id = fields.String(required=True)
    coachees = fields.List(fields.Nested(Person), load_default=list, dump_default=list)
    template_code = fields.String(required=True)
    template_version = fields.Integer(required=True)
    visited_at = fields.AwareDateTime(required=True)
    received_at = fields.AwareDateTime(required=True)
    score = fields.Nested(Score, required=True)
    gaps = fields.List(fields.Nested(Gap), required=True)


# --- planner ----------------------------------------------------------------

class PlannedAction(_Data):
    action_id = fields.UUID(required=True)
    item_code = fields.String(required=True, allow_none=True)
    text_fr = fields.String(required=True)
    text_en = fields.String(required=True)
    owner_id = fields.String(required=True, allow_none=True)
    owner_role = fields.String(required=True)
    due_date = fields.Date(required=True)
    critical = fields.Boolean(required=True)
    status = fields.String(required=True)


@contract("plan.created", 1)
class PlanCreated(_Data):
    plan_id = fields.UUID(required=True)
    submission_id = fields.UUID(required=True)
    facility_id = fields.String(required=True)
    facility_name = fields.String(required=True)
    facility_path = fields.String(required=True)
    coach_id = fields.String(required=True)
    coachee_ids = fields.List(fields.String(), load_default=list, dump_default=list)
    actions = fields.List(fields.Nested(PlannedAction), required=True)


def event_types() -> list[str]:
    return sorted({t for (t, _) in REGISTRY})
