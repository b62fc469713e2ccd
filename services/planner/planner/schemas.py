"""Requests the planner accepts: what may be changed, and in which shape."""
from __future__ import annotations

from marshmallow import (RAISE, Schema, ValidationError, fields, validate, validates_schema)

from planner.domain import ACTION_STATUSES, PLAN_STATUSES

TEXT = validate.Length(min=1, max=2000)
NOTE = validate.Length(max=5000)
PERSON = validate.Length(min=1, max=64)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ActionChange(Strict):
    """A coach rewords an action, moves its due date or gives it to someone else."""
    text_fr = fields.String(validate=TEXT)
    text_en = fields.String(validate=TEXT)
    verification_fr = fields.String(validate=validate.Length(max=2000))
    verification_en = fields.String(validate=validate.Length(max=2000))
    due_date = fields.Date()
    owner_id = fields.String(validate=PERSON, allow_none=True)

    @validates_schema
    def something(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of " + ", ".join(sorted(self.fields)), "_")


class StatusChange(Strict):
    status = fields.String(required=True, validate=validate.OneOf(ACTION_STATUSES))
    comment = fields.String(load_default="", validate=NOTE)
    reason = fields.String(load_default="", validate=NOTE)  # required to drop


class NewAction(Strict):
    """An action the coach adds; its client-generated id makes a retried sync harmless."""
    id = fields.UUID(required=True)
    text_fr = fields.String(validate=TEXT)
    text_en = fields.String(validate=TEXT)
    verification_fr = fields.String(load_default="", validate=validate.Length(max=2000))
    verification_en = fields.String(load_default="", validate=validate.Length(max=2000))
    responsible_role = fields.String(load_default="", validate=validate.Length(max=64))
    owner_id = fields.String(load_default=None, validate=PERSON, allow_none=True)
    due_date = fields.Date(required=True)
    critical = fields.Boolean(load_default=False)

    @validates_schema
    def some_text(self, data, **kwargs):
        if not data.get("text_fr") and not data.get("text_en"):
            raise ValidationError("text_fr or text_en is required", "text_fr")


class GrowNotes(Strict):
    """The GROW conversation's notes; fields left out are kept."""
    goal = fields.String(validate=NOTE)
    reality = fields.String(validate=NOTE)
    options = fields.String(validate=NOTE)
    will = fields.String(validate=NOTE)

    @validates_schema
    def something(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of goal, reality, options, will", "_")


class PlanFilters(Strict):
    facility_id = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(PLAN_STATUSES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class Day(fields.Date):
    """A date; a full ISO datetime is accepted too and reduced to its day."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and "T" in value:
            try:
                return fields.DateTime()._deserialize(value, attr, data, **kwargs).date()
            except ValidationError:
                pass
        return super()._deserialize(value, attr, data, **kwargs)


class ProgressQuery(Strict):
    by = fields.String(required=True,
                       validate=validate.OneOf(["plan", "coachee", "facility", "district"]))
    since = Day(load_default=None, allow_none=True)
    until = Day(load_default=None, allow_none=True)

    @validates_schema
    def ordered(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError("must not be after until", "since")
