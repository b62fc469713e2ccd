"""Improvement plans end to end: HTTP to the gateway, every service its own process,
and a second planner process beside the first.

The evidence service is built elsewhere, so its reviews are published straight on
the bus as `evidence.reviewed` events (the contract in c2p/contracts/evidence.py).
Visits are dated two days ago, so one action is already overdue and one due soon
whatever day the suite runs."""
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import text

from c2p.contracts import Event
from support import MINI_ITEMS, ROOT, eventually, publish_raw, sample_submission, tap

API = "/api/v1"


@pytest.fixture
def process_env(process_env):
    # Sweep for due dates every half second instead of every minute.
    return {**process_env, "PLANNER_ALERT_INTERVAL_S": "0.5"}


@pytest.fixture
def second_planner(platform, process_env, tmp_path):
    """Another planner process on the same queues and database."""
    with open(tmp_path / "planner-2.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "c2p.run", "planner"], env=process_env,
                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    yield process
    process.terminate()
    process.wait(15)


def sign_in(base, username="coach.niono"):
    response = requests.post(f"{base}{API}/auth/token",
                             json={"username": username, "password": "demo-c2p-2025"},
                             timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def submit(base, auth, failing, days_ago=2):
    visit = sample_submission(failing=failing)
    visit["visited_at"] = (datetime.now(timezone.utc) - timedelta(days=days_ago)).isoformat()
    response = requests.post(f"{base}{API}/submissions", json=visit, headers=auth, timeout=10)
    assert response.status_code == 201, response.text
    return eventually(lambda: (r := requests.get(
        f"{base}{API}/submissions/{visit['id']}/plan", headers=auth, timeout=10)).ok
        and r.json(), timeout=20)


def approve(amqp_uri, plan, action, decision="approved", comment=""):
    event = Event(type="evidence.reviewed", source="test", data={
        "evidence_id": uuid.uuid4(), "action_id": uuid.UUID(action["id"]),
        "plan_id": uuid.UUID(plan["id"]), "facility_id": plan["facility_id"],
        "facility_path": plan["facility_path"], "coach_id": plan["coach_id"],
        "uploaded_by": "u-dtc-niono", "decision": decision, "comment": comment,
        "reviewed_by": "u-coach-niono", "reviewed_at": datetime.now(timezone.utc)})
    publish_raw(amqp_uri, event.to_wire(), "evidence.reviewed", str(event.id))


def move(base, auth, plan, action, status, **extra):
    return requests.post(f"{base}{API}/plans/{plan['id']}/actions/{action['id']}/status",
                         json={"status": status, **extra}, headers=auth, timeout=10)


def get(base, auth, path):
    response = requests.get(f"{base}{API}{path}", headers=auth, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def count(engine, sql):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


@pytest.mark.slow
def test_plan_from_five_gaps_agreed_proved_completed_and_carried_over(
        platform, second_planner, amqp_uri, engines):
    overdue, completed = tap(amqp_uri, "action.overdue"), tap(amqp_uri, "plan.completed")
    coach, dtc = sign_in(platform), sign_in(platform, "dtc.niono")
    plan = submit(platform, coach, MINI_ITEMS)
    actions = plan["actions"]
    assert [a["item_code"] for a in actions] == [
        "cc_in_range", "stock_no_expired", "cc_temp_twice_daily", "stock_cards_up_to_date",
        "dq_monitoring_chart"]
    assert plan["status"] == "draft"

    # Both sides agree; each confirmation is recorded.
    assert requests.post(f"{platform}{API}/plans/{plan['id']}/agree", headers=coach,
                         timeout=10).json()["status"] == "draft"
    agreed = requests.post(f"{platform}{API}/plans/{plan['id']}/agree", headers=dtc,
                           timeout=10).json()
    assert agreed["status"] == "agreed"
    assert (agreed["agreement"]["coach"]["by"], agreed["agreement"]["coachee"]["by"]) == (
        "u-coach-niono", "u-dtc-niono")

    # The coachee starts and submits every action; the coach approves the evidence of
    # all but stock_no_expired, sent back for more.
    for action in actions:
        assert move(platform, dtc, plan, action, "in_progress").status_code == 200
        assert move(platform, dtc, plan, action, "awaiting_review").status_code == 200
    assert get(platform, coach, f"/plans/{plan['id']}")["status"] == "in_progress"
    approve(amqp_uri, plan, actions[1], "needs_more", "Montrer la fiche de stock")
    for action in actions[:1] + actions[2:]:
        approve(amqp_uri, plan, action)
    current = eventually(lambda: (p := get(platform, coach, f"/plans/{plan['id']}"))
                         ["actions"][1]["comment"] and sum(a["status"] == "done"
                                                           for a in p["actions"]) == 4 and p)
    assert current["actions"][1]["status"] == "in_progress"
    assert current["actions"][1]["overdue"] is True  # due yesterday
    assert current["status"] == "in_progress"

    # A second visit finds stock_no_expired still failing: the open action is carried over.
    second = submit(platform, coach, ("stock_no_expired", "cc_temp_twice_daily"), days_ago=1)
    assert second["id"] != plan["id"]
    carried, new = second["actions"]
    assert carried["id"] == actions[1]["id"]
    assert (carried["recurring"], carried["carried_over"], new["recurring"]) == (
        True, True, False)
    assert count(engines["planner"], "select count(*) from actions") == 6
    progress = get(platform, coach, "/dashboards/progress?by=facility")["items"]
    assert [(p["key"], p["done"], p["open"], p["overdue"], p["total"], p["percent_done"])
            for p in progress] == [("ML-SEG-NIO-CEN", 4, 2, 1, 6, 66.7)]
    by_plan = {p["key"]: p for p in get(platform, coach, "/dashboards/progress?by=plan")["items"]}
    assert (by_plan[plan["id"]]["total"], by_plan[second["id"]]["total"]) == (5, 2)

    # The carried action is proved done (late): the first plan completes, once.
    approve(amqp_uri, plan, carried)
    done = eventually(lambda: (p := get(platform, coach, f"/plans/{plan['id']}"))["status"]
                      == "completed" and p)
    assert done["actions"][1]["late"] is True and done["actions"][0]["late"] is False
    assert get(platform, coach, f"/plans/{second['id']}")["actions"][0]["status"] == "done"
    progress = get(platform, coach, "/dashboards/progress?by=facility")["items"]
    assert [(p["done"], p["open"], p["overdue"], p["total"]) for p in progress] == [
        (5, 1, 0, 6)]
    history = get(platform, coach, f"/plans/{plan['id']}/history")["items"]
    assert "plan.agreed" in [h["change"] for h in history]

    # Two planner processes: one plan per visit, one overdue alert per action.
    assert count(engines["planner"], "select count(*) from plans") == 2
    got = eventually(lambda: completed())
    alerts = eventually(lambda: overdue())
    import time
    time.sleep(2)  # several sweeps by both planners
    got, alerts = got + completed(), alerts + overdue()
    assert [e["data"]["plan_id"] for e in got] == [plan["id"]]
    assert [e["data"]["action_id"] for e in alerts] == [actions[1]["id"]]
    assert second_planner.poll() is None


@pytest.mark.slow
def test_refusals_through_the_gateway(platform):
    coach, dtc = sign_in(platform), sign_in(platform, "dtc.niono")
    manager, kayes = sign_in(platform, "manager.national"), sign_in(platform, "coach.kayes")
    plan = submit(platform, coach, ("cc_in_range", "stock_no_expired"))
    action = plan["actions"][0]
    url = f"{platform}{API}/plans/{plan['id']}"

    def problem(response, status):
        assert response.status_code == status, response.text
        assert response.headers["Content-Type"].startswith("application/problem+json")
        return response.json()

    # 409: not agreed yet; 403: a manager reads only.
    assert "not agreed" in problem(move(platform, dtc, plan, action, "in_progress"),
                                   409)["detail"]
    problem(requests.post(f"{url}/agree", headers=manager, timeout=10), 403)
    for who in (coach, dtc):
        requests.post(f"{url}/agree", headers=who, timeout=10).raise_for_status()
    problem(move(platform, coach, plan, action, "done"), 409)  # skips the review
    body = problem(move(platform, coach, plan, action, "dropped"), 422)
    assert [e["field"] for e in body["errors"]] == ["reason"]
    body = problem(move(platform, coach, plan, action, "finished"), 422)
    assert [e["field"] for e in body["errors"]] == ["status"]
    body = problem(requests.patch(f"{url}/actions/{action['id']}",
                                  json={"due_date": "2001-01-01"}, headers=coach,
                                  timeout=10), 422)
    assert [e["field"] for e in body["errors"]] == ["due_date"]
    problem(requests.patch(f"{url}/actions/{action['id']}", json={"text_fr": "x"},
                           headers=dtc, timeout=10), 403)
    problem(requests.get(f"{platform}{API}/dashboards/progress?by=region", headers=coach,
                         timeout=10), 422)

    # The coach's own action, retried: created once.
    own = {"id": str(uuid.uuid4()), "text_fr": "Former le vaccinateur à la lecture du "
           "thermomètre", "due_date": plan["actions"][0]["due_date"]}
    first = requests.post(f"{url}/actions", json=own, headers=coach, timeout=10)
    again = requests.post(f"{url}/actions", json=own, headers=coach, timeout=10)
    assert (first.status_code, again.status_code) == (201, 200)
    assert len(again.json()["actions"]) == 3
    grow = requests.put(f"{url}/grow", json={"goal": "Zéro excursion de température"},
                        headers=coach, timeout=10)
    assert grow.json()["grow"]["goal"] == "Zéro excursion de température"

    # Out of scope: as if it did not exist.
    for response in (requests.get(url, headers=kayes, timeout=10),
                     requests.post(f"{url}/agree", headers=kayes, timeout=10),
                     requests.get(f"{url}/history", headers=kayes, timeout=10),
                     move(platform, kayes, plan, action, "dropped", reason="x")):
        problem(response, 404)
    assert get(platform, kayes, "/plans")["total"] == 0
    listed = get(platform, coach, "/plans?status=in_progress&per_page=5")
    assert listed["total"] == 0
    listed = get(platform, manager, "/plans?facility_id=ML-SEG-NIO-CEN")
    assert [p["id"] for p in listed["items"]] == [plan["id"]]
    assert listed["items"][0]["status"] == "agreed"

    # A filter or an export the route does not have is refused, naming it, never
    # answered as if it had filtered (every plan) or exported (JSON).
    for query, name in (("overdue=true", "overdue"), ("format=csv", "format"),
                        ("status=agreed&status=draft", "status")):
        body = problem(requests.get(f"{platform}{API}/plans?{query}", headers=coach,
                                    timeout=10), 400)
        assert [e["field"] for e in body["errors"]] == [name]
    body = problem(requests.get(f"{url}?verbose=1", headers=coach, timeout=10), 400)
    assert [e["field"] for e in body["errors"]] == ["verbose"]
