"""Event contracts: envelope round trip, refusal naming the field, upcasting."""
import uuid
from datetime import date, datetime, timezone

import pytest
from marshmallow import ValidationError

from c2p.contracts import Event, REGISTRY
from c2p.contracts.events import UPCASTERS, Data, contract, load_data


def plan_created():
    return Event(type="plan.created", source="planner", data={
        "plan_id": uuid.uuid4(), "submission_id": uuid.uuid4(), "facility_id": "F",
        "facility_name": "CSCom de Ségou", "facility_path": "/ML/F", "coach_id": "c",
        "coachee_ids": ["x"], "actions": [{
            "action_id": uuid.uuid4(), "item_code": "i", "text_fr": "Réparer", "text_en": "Fix",
            "owner_id": None, "owner_role": "dtc", "due_date": date(2026, 12, 1),
            "critical": True, "status": "todo"}]})


def test_envelope_round_trip_keeps_every_field():
    event = plan_created()
    wire = event.to_wire()
    assert set(wire) == {"id", "type", "version", "occurred_at", "source", "correlation_id",
                         "data"}
    back = Event.from_wire(wire)
    assert back.id == event.id and back.data["facility_name"] == "CSCom de Ségou"
    assert back.data["actions"][0]["due_date"] == date(2026, 12, 1)
    assert back.occurred_at.tzinfo is not None


def test_wire_data_breaking_the_contract_names_the_field():
    wire = plan_created().to_wire()
    del wire["data"]["facility_id"]
    with pytest.raises(ValidationError) as error:
        Event.from_wire(wire)
    assert "facility_id" in error.value.messages["data"]


def test_producer_cannot_emit_what_breaks_the_contract():
    event = plan_created()
    event.data["actions"][0]["status"] = None
    with pytest.raises(ValidationError):
        event.to_wire()


def test_unknown_type_is_refused():
    wire = plan_created().to_wire()
    wire["type"] = "plan.exploded"
    with pytest.raises(ValidationError):
        Event.from_wire(wire)


def test_old_versions_are_upcast_for_consumers():
    from marshmallow import fields

    @contract("test.happened", 1)
    class V1(Data):
        name = fields.String(required=True)

    @contract("test.happened", 2)
    class V2(Data):
        full_name = fields.String(required=True)

    UPCASTERS[("test.happened", 1)] = lambda data: {"full_name": data["name"]}
    try:
        assert load_data("test.happened", 1, {"name": "Awa"}) == {"full_name": "Awa"}
    finally:
        for key in [("test.happened", 1), ("test.happened", 2)]:
            REGISTRY.pop(key)
        UPCASTERS.pop(("test.happened", 1))


def test_occurred_at_is_utc_iso():
    event = Event(type="plan.created", data=plan_created().data,
                  occurred_at=datetime(2026, 1, 1, 12, tzinfo=timezone.utc))
    assert event.to_wire()["occurred_at"] == "2026-01-01T12:00:00+00:00"


def test_topic_matching_follows_amqp():
    from c2p.topology import topic_matches
    assert topic_matches("account.*", "account.created")
    assert not topic_matches("account.*", "account.created.v2")
    assert topic_matches("#", "plan.created") and topic_matches("plan.#", "plan")
    assert not topic_matches("plan.created", "plan.agreed")
