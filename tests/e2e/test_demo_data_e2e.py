"""`python -m c2p.demo` (run by `./c2pctl up`) against the whole platform: the demo
visits appear for the coaches, a second run adds none, and a run never touches a
visit someone made while trying the platform."""
import uuid
from datetime import datetime, timezone

import requests

from c2p import demo
from support import eventually

API = "/api/v1"


def visits_seen(base, username):
    token = requests.post(f"{base}{API}/auth/token", timeout=10, json={
        "username": username, "password": demo.PASSWORD}).json()["access_token"]
    page = requests.get(f"{base}{API}/submissions", params={"per_page": 100}, timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200, page.text
    return page.json()


def test_demo_visits_appear_once(platform):
    expected = demo.visits(demo.load_template())
    first = demo.run(platform)
    assert first["failed"] == 0 and first["created"] == len(expected)
    for username, facilities in demo.FACILITIES.items():
        seen = visits_seen(platform, username)
        ids = {v["id"] for v in seen["items"]}
        mine = {v["id"] for who, v in expected if who == username}
        assert mine <= ids
        assert {v["facility_id"] for v in seen["items"]} == {f for f, _, _ in facilities}
    # Plans under way, and the latest of each CSCom left for the coach to agree.
    for username, facilities in demo.FACILITIES.items():
        token = demo._sign_in(platform, username, 10)
        drafts = requests.get(f"{platform}/api/v1/plans", headers=token, timeout=10,
                              params={"status": "draft", "per_page": 100}).json()["items"]
        assert sorted(p["facility_id"] for p in drafts) == sorted(f for f, _, _ in facilities)
    # Photos from dtc.niono wait in coach.niono's review queue.
    assert first["evidence"] == demo.EVIDENCE_PER_RUN
    coach = demo._sign_in(platform, "coach.niono", 10)
    queue = requests.get(f"{platform}/api/v1/evidence", headers=coach, timeout=10,
                         params={"status": "pending_review"}).json()
    assert queue["total"] == demo.EVIDENCE_PER_RUN
    again = demo.run(platform)
    assert again["created"] == 0 and again["failed"] == 0
    assert again["present"] == len(expected)
    assert again["agreed"] == 0  # the plans dtc.niono agreed the first time are left alone
    assert sum(len(visits_seen(platform, u)["items"]) for u in demo.FACILITIES) \
        == len(expected)
    assert requests.get(f"{platform}/api/v1/evidence", headers=coach, timeout=10,
                        params={"status": "any"}).json()["total"] == demo.EVIDENCE_PER_RUN

    # Someone tries the platform: a visit of their own at dtc.niono's CSCom (its open
    # actions are carried into the new plan). A third run leaves that plan to them
    # and sends no photo for its actions.
    username, visit = next((u, v) for u, v in expected if v["facility_id"] == "ML-SEG-NIO-CEN")
    tried = {**visit, "id": str(uuid.uuid4()), "visited_at": datetime.now(timezone.utc).isoformat()}
    token = demo._sign_in(platform, username, 10)
    assert requests.post(f"{platform}{API}/submissions", json=tried, headers=token,
                         timeout=10).status_code == 201
    plan = eventually(lambda: requests.get(f"{platform}{API}/submissions/{tried['id']}/plan",
                                           headers=token, timeout=10).json().get("id"))
    third = demo.run(platform)
    assert third["agreed"] == 0 and third["evidence"] == 0
    left = requests.get(f"{platform}{API}/plans/{plan}", headers=token, timeout=10).json()
    assert left["status"] == "draft" and not (left.get("agreement") or {}).get("coachee")
