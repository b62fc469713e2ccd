"""The championship leaderboard over real visits and plans: the cohort's teams in
the caller's scope, ranked by the documented formula.
(Named *_e2e: tests/unit/test_leaderboard.py holds the formula's unit tests, and
test modules need distinct names.)"""
import uuid

import pytest
import requests

from checklist import domain
from checklist.seed import TEMPLATES_DIR, load_template_file
from support import eventually, sample_submission

API = "/api/v1"


def auth(base, username):
    response = requests.post(f"{base}{API}/auth/token",
                             json={"username": username, "password": "demo-c2p-2025"}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def visit(base, headers, facility_id, visited_at, failing):
    submission = {**sample_submission(failing=failing, facility_id=facility_id),
                  "visited_at": visited_at}
    # The people named are checked: Central's DTC is no coachee of another facility.
    submission["coachees"] = [c for c in submission["coachees"]
                              if facility_id == "ML-SEG-NIO-CEN" or c["id"] != "u-dtc-niono"]
    response = requests.post(f"{base}{API}/submissions", json=submission, headers=headers,
                             timeout=10)
    assert response.status_code == 201, response.text
    return submission


def integrated_visit(base, headers, facility_id, visited_at):
    """A visit on the 49-item integrated checklist, every item passing (100 %)."""
    template = load_template_file(TEMPLATES_DIR / "pev-integrated.json")
    answers = [{"item": item["code"], "value": "yes" if item["type"] == "yes_no" else
                item["pass_range"][0] if item["type"] == "numeric" else
                next(c["value"] for c in item["choices"] if c["ratio"] == 1)}
               for _, item in domain.items(template)]
    submission = {"id": str(uuid.uuid4()), "facility_id": facility_id,
                  "template_code": "pev-integrated", "visited_at": visited_at,
                  "answers": answers}
    response = requests.post(f"{base}{API}/submissions", json=submission, headers=headers,
                             timeout=10)
    assert response.status_code == 201, response.text
    assert response.json()["score"]["percent"] == 100.0
    return submission


def plan_of(base, headers, submission):
    return eventually(lambda: (r := requests.get(
        f"{base}{API}/submissions/{submission['id']}/plan", headers=headers,
        timeout=10)).ok and r.json(), timeout=30)


@pytest.mark.slow
def test_cohort_teams_are_ranked_by_improvement_and_actions_done(platform):
    coach, coachee = auth(platform, "coach.niono"), auth(platform, "dtc.niono")
    # A perfect visit on the 49-item checklist first: never compared with the 5-item
    # demo visits below (it would make Central's "improvement" -97 points).
    integrated_visit(platform, coach, "ML-SEG-NIO-CEN", "2026-11-01T08:00:00+00:00")
    # Central Niono: a poor visit, then a better one, and an action done.
    first = visit(platform, coach, "ML-SEG-NIO-CEN", "2026-11-02T09:00:00+00:00",
                  ("cc_temp_twice_daily", "stock_no_expired", "cc_in_range",
                   "dq_monitoring_chart"))
    plan_of(platform, coach, first)  # visits weeks apart: the first is planned before the next
    latest = visit(platform, coach, "ML-SEG-NIO-CEN", "2026-11-20T09:00:00+00:00",
                   ("cc_temp_twice_daily",))
    # Molodo: one fair visit, nothing done yet.
    visit(platform, coach, "ML-SEG-NIO-MOL", "2026-11-18T09:00:00+00:00",
          ("stock_no_expired", "dq_monitoring_chart"))
    plan = plan_of(platform, coach, latest)
    for who in (coach, coachee):
        assert requests.post(f"{platform}{API}/plans/{plan['id']}/agree", headers=who,
                             timeout=10).ok
    action = plan["actions"][0]["id"]
    for status in ("in_progress", "awaiting_review", "done"):
        response = requests.post(f"{platform}{API}/plans/{plan['id']}/actions/{action}/status",
                                 json={"status": status}, headers=coach, timeout=10)
        assert response.ok, response.text

    url = f"{platform}{API}/dashboards/leaderboard?cohort=cohort-1&since=2026-11-01"
    board = requests.get(url, headers=coach, timeout=10)
    assert board.status_code == 200, board.text
    board = board.json()
    teams = {t["facility_id"]: t for t in board["items"]}
    assert set(teams) == {"ML-SEG-NIO-CEN", "ML-SEG-NIO-MOL"}
    central, molodo = teams["ML-SEG-NIO-CEN"], teams["ML-SEG-NIO-MOL"]
    assert central["visits"] == 2 and central["improvement"] > 0
    assert central["percent_done"] > 0 and central["actions_done"] >= 1
    assert molodo["visits"] == 1 and molodo["improvement"] == 0
    for team in (central, molodo):  # the documented formula
        expected = (0.5 * team["improvement"] + 0.3 * team["percent_done"]
                    + 0.2 * team["latest_percent"])
        assert abs(team["points"] - expected) < 0.2
    assert [t["facility_id"] for t in board["items"]] == ["ML-SEG-NIO-CEN", "ML-SEG-NIO-MOL"]
    assert [t["rank"] for t in board["items"]] == [1, 2]
    assert board["formula"] and board["since"] == "2026-11-01"
    assert board["template_code"] == "pev-mini"  # the template with the most visits

    # The integrated checklist's own board: one visit, no improvement to speak of.
    integrated = requests.get(f"{url}&template_code=pev-integrated", headers=coach,
                              timeout=10).json()
    assert integrated["template_code"] == "pev-integrated"
    [only] = integrated["items"]
    assert (only["facility_id"], only["visits"], only["improvement"],
            only["latest_percent"]) == ("ML-SEG-NIO-CEN", 1, 0, 100.0)
    assert {t["facility_id"] for t in integrated["unranked"]} == {"ML-SEG-NIO-MOL"}

    # The same cohort seen from Kayes holds no team of Niono.
    kayes = requests.get(url, headers=auth(platform, "coach.kayes"), timeout=10).json()
    assert all(not t["facility_path"].startswith("/ML/ML-SEG") for t in kayes["items"])
    # Bad periods name the field.
    bad = requests.get(f"{platform}{API}/dashboards/leaderboard?since=2026-13-01",
                       headers=coach, timeout=10)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "since"
    reversed_period = requests.get(
        f"{platform}{API}/dashboards/leaderboard?since=2026-11-20&until=2026-11-01",
        headers=coach, timeout=10)
    assert reversed_period.status_code == 422

    # Kept per gateway replica (gateway.answer_cache): asked again, 304 with its ETag;
    # a new visit is on the next board all the same.
    again = requests.get(url, headers=coach, timeout=10)
    assert again.json() == board and again.headers["ETag"].startswith('W/"')
    assert requests.get(url, headers={**coach, "If-None-Match": again.headers["ETag"]},
                        timeout=10).status_code == 304
    visit(platform, coach, "ML-SEG-NIO-MOL", "2026-11-21T09:00:00+00:00", ())
    fresh = requests.get(url, headers={**coach, "If-None-Match": again.headers["ETag"]},
                         timeout=10)
    assert fresh.status_code == 200, fresh.status_code
    assert {t["facility_id"]: t["visits"] for t in fresh.json()["items"]}[
        "ML-SEG-NIO-MOL"] == 2
