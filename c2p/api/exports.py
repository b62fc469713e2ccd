"""Exports: the query strings of the CSV exports and of the printable visit report."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from c2p.api.core import Day, Query

DEFAULT_PERIOD_DAYS = 90


class ExportQuery(Query):
    since = Day(metadata={"description": f"default: until − {DEFAULT_PERIOD_DAYS} days"})
    until = Day(metadata={"description": "default: today (both ends included)"})
    facility_id = fields.String(validate=validate.Length(min=1, max=64))
    district_id = fields.String(validate=validate.Length(min=1, max=64))
    template = fields.String(validate=validate.Length(min=1, max=64))

    @validates_schema
    def ordered(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError({"since": ["must not be after until"]})


class ReportQuery(Query):
    lang = fields.String(load_default="fr", validate=validate.OneOf(["fr", "en"]))
