"""The thin path through every hop: gateway -> checklist -> bus -> planner -> notify."""
import pytest
import requests
from sqlalchemy import text

from support import eventually, sample_submission

API = "/api/v1"


def sign_in(base, username="coach.niono", password="demo-c2p-2025"):
    response = requests.post(f"{base}{API}/auth/token",
                             json={"username": username, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def count(engine, sql):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


@pytest.mark.slow
def test_submission_becomes_plan_and_inbox_alert(platform, engines):
    auth = sign_in(platform)
    submission = sample_submission(failing=("cc_temp_twice_daily", "stock_no_expired",
                                            "cc_in_range"))
    first = requests.post(f"{platform}{API}/submissions", json=submission, headers=auth,
                          timeout=10)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["score"]["flagged"] is True  # a critical item failed
    assert [gap["item_code"] for gap in body["gaps"]][:2] == ["cc_in_range", "stock_no_expired"]

    # A retried sync gets the original back, and nothing new happens.
    again = requests.post(f"{platform}{API}/submissions", json=submission, headers=auth,
                          timeout=10)
    assert again.status_code == 200
    assert {**again.json(), "replayed": False} == body

    plan = eventually(lambda: (r := requests.get(
        f"{platform}{API}/submissions/{submission['id']}/plan", headers=auth,
        timeout=10)).ok and r.json())
    assert [a["item_code"] for a in plan["actions"]] == [
        "cc_in_range", "stock_no_expired", "cc_temp_twice_daily"]
    assert plan["actions"][0]["owner_id"] == "u-dtc-niono"  # role dtc
    # The vaccinator named has no account: the DTC answers for their action.
    assert plan["actions"][1]["owner_id"] == "u-dtc-niono"  # role vaccinator

    inbox = eventually(lambda: requests.get(f"{platform}{API}/inbox", headers=auth,
                                            timeout=10).json()["items"])
    assert len(inbox) == 1
    assert inbox[0]["kind"] == "plan.to_agree"
    assert inbox[0]["link"] == f"{API}/plans/{plan['id']}"
    assert "CSCom central de Niono" in inbox[0]["title_fr"]

    fetched = requests.get(f"{platform}{API}/plans/{plan['id']}", headers=auth, timeout=10)
    assert fetched.json() == plan
    assert count(engines["checklist"], "select count(*) from submissions") == 1
    assert count(engines["checklist"], "select count(*) from outbox") == 1
    assert count(engines["planner"], "select count(*) from plans") == 1


@pytest.mark.slow
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(platform, engines):
    auth = sign_in(platform)
    cases = [
        ({**sample_submission(), "id": "not-a-uuid"}, 422, "id"),
        ({**sample_submission(), "facility_id": "NOPE"}, 422, "facility_id"),
        ({**sample_submission(), "template_code": "nope"}, 422, "template_code"),
        ({**sample_submission(), "visited_at": "yesterday"}, 422, "visited_at"),
        ({**sample_submission(), "answers": [{"item": "cc_in_range", "value": "maybe"}]},
         422, "answers.cc_in_range"),
        ({**sample_submission(), "answers": sample_submission()["answers"]
          + [{"item": "ghost", "value": "yes"}]}, 422, "answers.ghost"),
        ({**sample_submission(), "surprise": 1}, 422, "surprise"),
        (sample_submission(facility_id="ML-KAY-KAY-LAF"), 403, None),  # outside scope
    ]
    for payload, status, field in cases:
        response = requests.post(f"{platform}{API}/submissions", json=payload, headers=auth,
                                 timeout=10)
        assert response.status_code == status, (field, response.text)
        assert response.headers["Content-Type"].startswith("application/problem+json")
        if field:
            assert field in [e["field"] for e in response.json()["errors"]], response.text
    raw = requests.post(f"{platform}{API}/submissions", data=b"{not json", headers={
        **auth, "Content-Type": "application/json"}, timeout=10)
    assert raw.status_code == 422 and raw.json()["errors"][0]["field"] == "body"
    anonymous = requests.post(f"{platform}{API}/submissions", json=sample_submission(),
                              timeout=10)
    assert anonymous.status_code == 401
    assert count(engines["checklist"], "select count(*) from submissions") == 0
    assert count(engines["checklist"], "select count(*) from outbox") == 0


@pytest.mark.slow
def test_wrong_password_and_foreign_reads_are_refused(platform):
    bad = requests.post(f"{platform}{API}/auth/token",
                        json={"username": "coach.niono", "password": "wrong"}, timeout=10)
    assert bad.status_code == 401
    niono, kayes = sign_in(platform), sign_in(platform, "coach.kayes")
    submission = sample_submission()
    assert requests.post(f"{platform}{API}/submissions", json=submission, headers=niono,
                         timeout=10).status_code == 201
    # A coach in Kayes cannot read Niono's visit, nor its plan.
    assert requests.get(f"{platform}{API}/submissions/{submission['id']}",
                        headers=kayes, timeout=10).status_code == 404
    eventually(lambda: requests.get(f"{platform}{API}/submissions/{submission['id']}/plan",
                                    headers=niono, timeout=10).ok)
    assert requests.get(f"{platform}{API}/submissions/{submission['id']}/plan",
                        headers=kayes, timeout=10).status_code == 404
