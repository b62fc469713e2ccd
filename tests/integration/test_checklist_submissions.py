"""Submissions through the checklist service (RPC, real broker and database):
every rejection names the field and stores nothing; retries return the original;
a new template version never changes a past visit."""
import copy
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from c2p.errors import Conflict, Forbidden, InvalidInput, NotFound, flatten_errors
from checklist.seed import TEMPLATES_DIR, load_template_file
from checklist.service import ChecklistService
from support import COACH_NIONO, rpc_client, sample_submission

ADMIN = {"id": "u-admin", "role": "admin", "scope": ["/ML"]}
COACHEE = {"id": "u-dtc-niono", "role": "coachee",
           "scope": ["/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"]}


def count(engine, sql):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def nothing_stored(engines):
    return all(count(engines["checklist"], f"select count(*) from {table}") == 0
               for table in ("submissions", "submission_gaps", "outbox"))


def with_answers(change):
    payload = sample_submission()
    answers = {a["item"]: a for a in payload["answers"]}
    change(answers)
    payload["answers"] = list(answers.values())
    return payload


def edit(**fields):
    return {**sample_submission(), **fields}


def default_visit(**values):
    """A visit on the shipped integrated template, every item passing but `values`."""
    template = load_template_file(TEMPLATES_DIR / "pev-integrated.json")
    answers = []
    for section in template["sections"]:
        for item in section["items"]:
            if item["type"] == "yes_no":
                value = "yes"
            elif item["type"] == "numeric":
                value = item["pass_range"][0]
            else:
                value = item["choices"][0]["value"]
            answers.append({"item": item["code"], "value": values.get(item["code"], value)})
    return {**sample_submission(), "template_code": "pev-integrated", "answers": answers}


REJECTIONS = [
    (edit(id="not-a-uuid"), "id"),
    (edit(facility_id="ML-NOWHERE"), "facility_id"),
    (edit(facility_id="ML-SEG-NIO"), "facility_id"),  # a district, not a facility
    (edit(template_code="nope"), "template_code"),
    (edit(template_version=7), "template_version"),
    (edit(template_version="1"), "template_version"),
    (edit(visited_at="yesterday"), "visited_at"),
    (edit(visited_at=(datetime.now(timezone.utc) + timedelta(days=3)).isoformat()),
     "visited_at"),
    (with_answers(lambda a: a.pop("stock_no_expired")), "answers.stock_no_expired"),
    (with_answers(lambda a: a["cc_in_range"].update(value="maybe")), "answers.cc_in_range"),
    (with_answers(lambda a: a["cc_in_range"].update(value=3)), "answers.cc_in_range"),
    (with_answers(lambda a: a.update(ghost={"item": "ghost", "value": "yes"})),
     "answers.ghost"),
    (edit(answers=sample_submission()["answers"] + [
        {"item": "cc_in_range", "value": "yes"}]), "answers.cc_in_range"),
    (with_answers(lambda a: a["cc_in_range"].update(comment="x" * 2001)), "answers.cc_in_range.comment"),
    (edit(coachees=[{"id": "u-1", "role": "dtc"}, {"id": "u-1", "role": "vaccinator"}]),
     "coachees.1.id"),
    (edit(coachees=[{"id": "u-1", "role": "sorcerer"}]), "coachees.0.role"),
    (edit(coachees=[{"role": "dtc"}]), "coachees.0.id"),
    (edit(gps={"lat": 95, "lon": -5.9}), "gps.lat"),
    (edit(gps={"lat": 14.2, "lon": "east"}), "gps.lon"),
    (edit(gps={"lat": 14.2}), "gps.lon"),
    (edit(surprise=1), "surprise"),
    # the shipped template: numbers out of their valid range, unknown choices, N/A
    # where a critical item does not allow it
    (default_visit(cc_current_temperature=99), "answers.cc_current_temperature"),
    (default_visit(cc_current_temperature="7"), "answers.cc_current_temperature"),
    (default_visit(dq_dropout_penta1_penta3=-150), "answers.dq_dropout_penta1_penta3"),
    (default_visit(wm_disposal_method="buried"), "answers.wm_disposal_method"),
    (default_visit(stk_no_expired="na"), "answers.stk_no_expired"),
    (with_answers(lambda a: a["cc_in_range"].update(note="?")), "answers.cc_in_range.note"),
]


@pytest.mark.slow
def test_every_rejection_names_the_field_and_stores_nothing(start_service, engines):
    start_service(ChecklistService)
    with rpc_client("checklist") as client:
        for payload, field in REJECTIONS:
            with pytest.raises(InvalidInput) as refused:
                client.submit_checklist(payload, COACH_NIONO)
            # the one field at fault, and only it
            assert list(flatten_errors(refused.value.errors)) == [field], refused.value.errors
        # A facility outside the coach's scope, and accounts that may not submit.
        with pytest.raises(Forbidden, match="facility_id") as refused:
            client.submit_checklist(sample_submission(facility_id="ML-KAY-KAY-LAF"),
                                    COACH_NIONO)
        # Across RPC with what was refused and why, in English and French, naming
        # only the id the caller sent (not the facility's name or path).
        assert refused.value.errors == {"facility_id": [
            "ML-KAY-KAY-LAF is outside your scope",
            "ML-KAY-KAY-LAF est hors de votre périmètre"]}
        for caller in (COACHEE, {**COACH_NIONO, "role": "manager"}):
            with pytest.raises(Forbidden) as refused:
                client.submit_checklist(sample_submission(), caller)
            assert list(refused.value.errors) == ["role"]
        with pytest.raises(InvalidInput):
            client.submit_checklist(["not", "an", "object"], COACH_NIONO)
    assert nothing_stored(engines)


@pytest.mark.slow
def test_copies_sent_at_the_same_time_store_one_visit(start_service, engines):
    # A phone that retries while its first sync is still in flight: every copy is
    # answered with the one visit, stored once, announced once.
    start_service(ChecklistService)
    payload = sample_submission(failing=("cc_temp_twice_daily",))
    with rpc_client("checklist") as client:
        calls = [client.submit_checklist.call_async(copy.deepcopy(payload), COACH_NIONO)
                 for _ in range(6)]
        answers = [call.result() for call in calls]
    assert {a["id"] for a in answers} == {payload["id"]}
    assert sorted(a["replayed"] for a in answers) == [False] + [True] * 5
    assert count(engines["checklist"], "select count(*) from submissions") == 1
    assert count(engines["checklist"],
                 "select count(*) from outbox where type = 'checklist.submitted'") == 1


def test_retry_returns_the_original_and_other_content_is_a_conflict(start_service, engines):
    start_service(ChecklistService)
    payload = sample_submission(failing=("cc_temp_twice_daily", "stock_cards_up_to_date"))
    payload["answers"][0]["comment"] = "Fiche absente le week-end ; le gardien ne relève pas."
    payload["gps"] = {"lat": 14.2521, "lon": -5.9937, "accuracy_m": 12.5}
    payload["comment"] = "Visite conjointe avec l'ESC."
    with rpc_client("checklist") as client:
        first = client.submit_checklist(payload, COACH_NIONO)
        again = client.submit_checklist(copy.deepcopy(payload), COACH_NIONO)
        assert first["replayed"] is False and again["replayed"] is True
        assert {**again, "replayed": False} == first
        assert first["answers"]["cc_temp_twice_daily"]["comment"].startswith("Fiche absente")
        assert first["gps"] == {"lat": 14.2521, "lon": -5.9937, "accuracy_m": 12.5}
        assert first["comment"] == "Visite conjointe avec l'ESC."
        assert [c["role"] for c in first["coachees"]] == ["dtc", "vaccinator"]
        assert first["facility_name"] == "CSCom central de Niono"
        assert first["visited_at"] == "2026-11-20T09:30:00+00:00"
        assert first["received_at"] != first["visited_at"]

        changed = copy.deepcopy(payload)
        changed["answers"][1]["value"] = "no"
        with pytest.raises(Conflict, match="id"):
            client.submit_checklist(changed, COACH_NIONO)
        other_coach = {**COACH_NIONO, "id": "u-other-coach"}
        with pytest.raises(Conflict):
            client.submit_checklist(payload, other_coach)
        # A coach elsewhere re-sending that id (for a facility of their own, or the
        # same one) learns nothing: the answer of any unknown object, not a 409.
        kayes = {"id": "u-coach-kayes", "role": "coach", "scope": ["/ML/ML-KAY"]}
        for resent in (payload, {**payload, "facility_id": "ML-KAY-KAY-LAF"}):
            with pytest.raises(NotFound):
                client.submit_checklist(copy.deepcopy(resent), kayes)
        assert client.get_submission(first["id"], ["/ML/ML-SEG"]) == {**first}
        with pytest.raises(NotFound):
            client.get_submission(first["id"], ["/ML/ML-KAY"])
    assert count(engines["checklist"], "select count(*) from submissions") == 1
    assert count(engines["checklist"], "select count(*) from outbox") == 1
    assert count(engines["checklist"], "select count(*) from submission_gaps") == 2
    # 2 + 2 of 12 points lost: 8 / 12
    assert count(engines["checklist"], "select percent from submissions") == 66.7


@pytest.mark.slow
def test_publishing_a_new_version_never_changes_past_visits(start_service):
    start_service(ChecklistService)
    code = f"test-{uuid.uuid4().hex[:8]}"
    v1 = {**load_template_file(TEMPLATES_DIR / "pev-mini.json"), "code": code}
    del v1["version"]
    with rpc_client("checklist") as client:
        with pytest.raises(Forbidden):
            client.create_template(COACH_NIONO, v1)
        created = client.create_template(ADMIN, v1)
        assert (created["version"], created["created"], created["published_by"]) == (
            1, True, "u-admin")
        assert client.create_template(ADMIN, {**v1, "version": 1})["created"] is False

        visit = {**sample_submission(failing=("cc_temp_twice_daily",)), "template_code": code}
        before = client.submit_checklist(visit, COACH_NIONO)
        assert before["template_version"] == 1 and before["score"]["percent"] == 83.3

        v2 = copy.deepcopy(v1)
        v2["sections"][0]["items"][0]["points"] = 10  # the failed item now weighs more
        v2["thresholds"] = {"green": 90, "amber": 60}
        with pytest.raises(Conflict):
            client.create_template(ADMIN, {**v2, "version": 1})
        with pytest.raises(InvalidInput) as refused:
            client.create_template(ADMIN, {**v2, "sections": []})
        assert "sections" in flatten_errors(refused.value.errors)
        assert client.create_template(ADMIN, v2)["version"] == 2

        after = client.get_submission(before["id"], ["/ML"])
        assert after == {**before, "replayed": False}
        assert after["template_version"] == 1 and after["score"]["percent"] == 83.3
        newer = client.submit_checklist({**visit, "id": str(uuid.uuid4())}, COACH_NIONO)
        assert (newer["template_version"], newer["score"]["percent"]) == (2, 50.0)
        pinned = client.submit_checklist({**visit, "id": str(uuid.uuid4()),
                                          "template_version": 1}, COACH_NIONO)
        assert pinned["score"]["percent"] == 83.3

        listed = client.list_templates(COACH_NIONO, code=code)
        assert [t["version"] for t in listed] == [2, 1]
        assert client.get_template(COACH_NIONO, code)["thresholds"]["green"] == 90
        assert client.get_template(COACH_NIONO, code, 1)["version"] == 1
        default = client.get_template(COACH_NIONO, "pev-integrated")
        assert default["item_count"] >= 40 and default["section_count"] == 9
        assert len(default["sections"]) == 9
