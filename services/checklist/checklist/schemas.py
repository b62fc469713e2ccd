"""Request and response shapes of the checklist service."""
from __future__ import annotations

from datetime import timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema, RAISE


class Strict(Schema):
    class Meta:
        unknown = RAISE


class Coachee(Strict):
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = fields.String(load_default="", validate=validate.Length(max=64))
    name = fields.String(load_default="", validate=validate.Length(max=200))


class Answer(Strict):
    item = fields.String(required=True, validate=validate.Length(min=1, max=64))
    value = fields.Raw(required=True, allow_none=True)
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class GpsPoint(Strict):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))


class SubmissionRequest(Strict):
    id = fields.UUID(required=True)
    facility_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    template_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    template_version = fields.Integer(load_default=None, allow_none=True, strict=True,
                                      validate=validate.Range(min=1))
    visited_at = fields.AwareDateTime(required=True, default_timezone=timezone.utc)
    coachees = fields.List(fields.Nested(Coachee), load_default=list)
    answers = fields.List(fields.Nested(Answer), required=True)
    gps = fields.Nested(GpsPoint, load_default=None, allow_none=True)

    @validates_schema
    def one_answer_per_item(self, data, **kwargs):
        seen = set()
        for answer in data.get("answers", []):
            if answer["item"] in seen:
                raise ValidationError(f"item {answer['item']!r} is answered twice", "answers")
            seen.add(answer["item"])
