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


@contract("checklist.submitted", 2)
class ChecklistSubmittedV2(ChecklistSubmitted):
    """Version 2 adds what a follow-up visit needs to verify open actions, and who
    answers for staff without an account."""
    # Items that earned all their points on this visit: an open action on one of
    # them is verified by the visit.
    passed_items = fields.List(fields.String(), required=True)
    # The facility's DTC account (the coachee named as DTC, else the facility's
    # oldest active coachee account), or None.
    dtc_id = fields.String(load_default=None, dump_default=None, allow_none=True)

    @staticmethod
    def upcast(v1: dict) -> dict:
        # A v1 visit said nothing of passing items: it verifies no action.
        return {**v1, "passed_items": [], "dtc_id": None}
