"""Events published by the checklist service."""
from marshmallow import fields, validate

from c2p.contracts.events import Data, contract
from c2p.contracts.common import Person, Score, Gap


@contract("checklist.submitted", 1)
class ChecklistSubmitted(Data):
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
