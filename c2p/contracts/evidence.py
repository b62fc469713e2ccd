"""Events published by the evidence service."""
from marshmallow import fields, validate

from c2p.contracts.events import Data, contract


class EvidenceRef(Data):
    evidence_id = fields.UUID(required=True)
    action_id = fields.UUID(required=True)
    plan_id = fields.UUID(required=True)
    facility_id = fields.String(required=True)
    facility_path = fields.String(required=True)
    coach_id = fields.String(required=True)
    uploaded_by = fields.String(required=True)


@contract("evidence.uploaded", 1)
class EvidenceUploaded(EvidenceRef):
    content_type = fields.String(required=True)
    size_bytes = fields.Integer(required=True, validate=validate.Range(min=1))
    sha256 = fields.String(required=True, validate=validate.Length(equal=64))
    filename = fields.String(load_default="", dump_default="")
    captured_at = fields.AwareDateTime(required=True, allow_none=True)
    uploaded_at = fields.AwareDateTime(required=True)


@contract("evidence.reviewed", 1)
class EvidenceReviewed(EvidenceRef):
    decision = fields.String(required=True,
                             validate=validate.OneOf(["approved", "rejected", "needs_more"]))
    comment = fields.String(load_default="", dump_default="")
    reviewed_by = fields.String(required=True)
    reviewed_at = fields.AwareDateTime(required=True)


@contract("evidence.withdrawn", 1)
class EvidenceWithdrawn(EvidenceRef):
    withdrawn_at = fields.AwareDateTime(required=True)
