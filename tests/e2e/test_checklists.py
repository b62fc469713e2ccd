"""The checklist API end to end (every service its own process, HTTP only): the
default checklist submitted twice, queries, the gaps dashboard, templates, org units."""
import uuid

import pytest
import requests
from sqlalchemy import text

from checklist import domain
from checklist.seed import TEMPLATES_DIR, load_template_file
from support import eventually, tap

API = "/api/v1"
DEFAULT = load_template_file(TEMPLATES_DIR / "pev-integrated.json")


def sign_in(base, username):
    response = requests.post(f"{base}{API}/auth/token",
                             json={"username": username, "password": "demo-c2p-2025"},
                             timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def count(engine, sql):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def passing(item):
    if item["type"] == "yes_no":
        return "yes"
    if item["type"] == "numeric":
        return item["pass_range"][0]
    return next(c["value"] for c in item["choices"] if c["ratio"] == 1)


def default_visit(**values):
    return {
        "id": str(uuid.uuid4()), "facility_id": "ML-SEG-NIO-CEN",
        "template_code": "pev-integrated", "visited_at": "2026-11-18T10:15:00+00:00",
        "coachees": [{"id": "u-dtc-niono", "role": "dtc", "name": "Fatoumata Diarra"}],
        "gps": {"lat": 14.2526, "lon": -5.9929, "accuracy_m": 8},
        "answers": [{"item": item["code"], "value": values.get(item["code"], passing(item)),
                     "comment": "Relevés absents le dimanche" if item["code"] in values else ""}
                    for _, item in domain.items(DEFAULT)],
    }


@pytest.mark.slow
def test_checklist_api(platform, engines, process_env):
    events = tap(process_env["C2P_AMQP_URI"], "checklist.submitted")
    coach, champion = sign_in(platform, "coach.niono"), sign_in(platform, "champion.segou")
    kayes, admin = sign_in(platform, "coach.kayes"), sign_in(platform, "admin")

    # The default checklist, synced twice: one submission, one event, same answer.
    visit = default_visit(cc_days_both_readings=20, stk_no_expired="no")
    first = requests.post(f"{platform}{API}/submissions", json=visit, headers=coach, timeout=10)
    assert first.status_code == 201, first.text
    again = requests.post(f"{platform}{API}/submissions", json=visit, headers=coach, timeout=10)
    assert again.status_code == 200
    body = first.json()
    assert {**again.json(), "replayed": False} == body
    assert body["score"]["flagged"] is True and len(body["score"]["sections"]) == 9
    assert [g["item_code"] for g in body["gaps"]] == ["stk_no_expired", "cc_days_both_readings"]
    assert count(engines["checklist"], "select count(*) from submissions") == 1
    assert count(engines["checklist"], "select count(*) from outbox") == 1
    eventually(lambda: count(engines["planner"], "select count(*) from plans") == 1)
    assert count(engines["planner"], "select count(*) from plans") == 1
    published = eventually(events)
    assert [e["data"]["submission_id"] for e in published] == [visit["id"]]
    assert published[0]["data"]["score"]["percent"] == body["score"]["percent"]

    # Queries, scoped.
    listed = requests.get(f"{platform}{API}/submissions", headers=champion, timeout=10, params={
        "district_id": "ML-SEG-NIO", "since": "2026-11-01", "until": "2026-11-30"}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == visit["id"]
    assert listed["items"][0]["facility_name"] == "CSCom central de Niono"
    assert requests.get(f"{platform}{API}/submissions", headers=kayes,
                        timeout=10).json()["total"] == 0
    bad = requests.get(f"{platform}{API}/submissions", headers=coach, timeout=10,
                       params={"since": "last week"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "since"
    history = requests.get(f"{platform}{API}/facilities/ML-SEG-NIO-CEN/scores", headers=coach,
                           timeout=10).json()
    assert [v["submission_id"] for v in history["visits"]] == [visit["id"]]
    assert requests.get(f"{platform}{API}/facilities/ML-SEG-NIO-CEN/scores", headers=kayes,
                        timeout=10).status_code == 404

    # The gaps dashboard.
    gaps = requests.get(f"{platform}{API}/dashboards/gaps", headers=champion, timeout=10,
                        params={"level": "district"}).json()
    assert [row["district_id"] for row in gaps["items"]] == ["ML-SEG-NIO"]
    assert gaps["items"][0]["mean_percent"] == body["score"]["percent"]
    assert gaps["top_gaps"][0]["item_code"] == "stk_no_expired"
    assert gaps["top_gaps"][0]["failures"] == 1 and gaps["top_gaps"][0]["visits"] == 1
    assert requests.get(f"{platform}{API}/dashboards/gaps", headers=kayes,
                        timeout=10).json()["items"] == []
    wrong = requests.get(f"{platform}{API}/dashboards/gaps", headers=champion, timeout=10,
                         params={"level": "country"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "level"
    # The desk map's filters, over HTTP: a district and a template; an area out of
    # scope is unknown, an unknown template is named.
    niono = requests.get(f"{platform}{API}/dashboards/gaps", headers=champion, timeout=10,
                         params={"area_id": "ML-SEG-NIO",
                                 "template_code": "pev-integrated"}).json()
    assert [row["facility_id"] for row in niono["items"]] == ["ML-SEG-NIO-CEN"]
    assert niono["items"][0]["template_code"] == "pev-integrated"
    assert requests.get(f"{platform}{API}/dashboards/gaps", headers=kayes, timeout=10,
                        params={"area_id": "ML-SEG-NIO"}).status_code == 404
    unknown = requests.get(f"{platform}{API}/dashboards/gaps", headers=champion, timeout=10,
                           params={"template_code": "no-such"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "template_code"
    # Every dashboard names an unknown template the same way (not an empty 200).
    for path in ("dashboards/leaderboard", "dashboards/map", "facilities/ML-SEG-NIO-CEN/scores"):
        unknown = requests.get(f"{platform}{API}/{path}", headers=champion, timeout=10,
                               params={"template_code": "no-such"})
        assert unknown.status_code == 422, (path, unknown.text)
        assert unknown.json()["errors"][0]["field"] == "template_code", path
    # The desk map's layer: every facility of the area in one page, with its place.
    layer = requests.get(f"{platform}{API}/dashboards/map", headers=champion, timeout=10,
                         params={"area_id": "ML-SEG-NIO"}).json()
    assert layer["template_code"] == "pev-integrated" and layer["per_page"] == 5000, layer
    assert [(p["facility_id"], p["colour"], p["flagged"]) for p in layer["items"]] == [
        ("ML-SEG-NIO-CEN", niono["items"][0]["colour"], True)]
    assert layer["items"][0]["latitude"] and layer["items"][0]["longitude"]
    # Kept per replica (gateway.answer_cache): asked again unchanged, 304 Not Modified;
    # after a new visit, the next request shows it.
    asked = requests.get(f"{platform}{API}/dashboards/map", headers=champion, timeout=10,
                         params={"area_id": "ML-SEG-NIO"})
    assert asked.json() == layer and asked.headers["ETag"].startswith('W/"')
    same = requests.get(f"{platform}{API}/dashboards/map", timeout=10,
                        params={"area_id": "ML-SEG-NIO"},
                        headers={**champion, "If-None-Match": asked.headers["ETag"]})
    assert same.status_code == 304 and same.content == b""
    better = {**default_visit(), "visited_at": "2026-11-19T10:15:00+00:00"}  # the latest
    assert requests.post(f"{platform}{API}/submissions", json=better, headers=coach,
                         timeout=10).status_code == 201
    fresh = requests.get(f"{platform}{API}/dashboards/map", timeout=10,
                         params={"area_id": "ML-SEG-NIO"},
                         headers={**champion, "If-None-Match": asked.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != asked.headers["ETag"]
    assert fresh.json()["items"][0]["latest_submission_id"] == better["id"]
    assert fresh.json()["items"][0]["visits"] == layer["items"][0]["visits"] + 1
    assert requests.get(f"{platform}{API}/dashboards/map", headers=kayes, timeout=10,
                        params={"area_id": "ML-SEG-NIO"}).status_code == 404
    assert requests.get(f"{platform}{API}/dashboards/map", headers=kayes,
                        timeout=10).json()["items"] == []
    too_many = requests.get(f"{platform}{API}/dashboards/map", headers=champion, timeout=10,
                            params={"per_page": 5001})
    assert too_many.status_code in (400, 422), too_many.text

    # Templates: listed for everyone, published by admins only.
    codes = {t["code"] for t in requests.get(f"{platform}{API}/templates", headers=coach,
                                             timeout=10).json()["items"]}
    assert {"pev-mini", "pev-integrated"} <= codes
    new = {**load_template_file(TEMPLATES_DIR / "pev-mini.json"),
           "code": f"e2e-{uuid.uuid4().hex[:6]}"}
    del new["version"]
    assert requests.post(f"{platform}{API}/templates", json=new, headers=coach,
                         timeout=10).status_code == 403
    created = requests.post(f"{platform}{API}/templates", json=new, headers=admin, timeout=10)
    assert created.status_code == 201 and created.json()["version"] == 1
    fetched = requests.get(f"{platform}{API}/templates/{new['code']}", headers=coach,
                           timeout=10).json()
    assert fetched["sections"][0]["title_fr"] == "Chaîne du froid"

    # Org units: a coach lists the facilities of their district; admins import.
    facilities = requests.get(f"{platform}{API}/org-units", headers=coach, timeout=10,
                              params={"level": "facility"}).json()["items"]
    assert {"ML-SEG-NIO-CEN", "ML-SEG-NIO-MOL"} <= {f["id"] for f in facilities}
    assert all(f["path"].startswith("/ML/ML-SEG/ML-SEG-NIO/") for f in facilities)
    csv_text = "id,parent_id,level,name\nML-SEG-NIO-E2E,ML-SEG-NIO,facility,CSCom d'essai\n"
    assert requests.post(f"{platform}{API}/org-units/import?format=csv", data=csv_text,
                         headers=coach, timeout=10).status_code == 403
    report = requests.post(f"{platform}{API}/org-units/import?format=csv&dry_run=true",
                           data=csv_text.encode("utf-8"), headers=admin, timeout=10)
    assert report.status_code == 200, report.text
    assert report.json()["created"] == 1 and report.json()["lines"][0]["line"] == 2
    assert count(engines["checklist"],
                 "select count(*) from org_units where id = 'ML-SEG-NIO-E2E'") == 0
