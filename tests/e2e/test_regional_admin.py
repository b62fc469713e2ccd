"""An admin scoped to one region (Kayes), as the outside probe of issue 12 used one,
across webhooks, org-unit imports, live updates and accounts; and what every
client gets whatever its role: bad JSON refused by name, security headers.

One platform for all of it (each start costs ~20 s), with the production default
for webhook targets (private addresses refused).
"""
import json
import time
import uuid

import pytest
import requests

from support import eventually, sample_submission
from test_live import SseClient

API = "/api/v1"
PASSWORD = "demo-c2p-2025"
NIONO = "/ML/ML-SEG/ML-SEG-NIO"
KAYES = "/ML/ML-KAY"


class User:
    def __init__(self, base, username, password=PASSWORD):
        response = requests.post(f"{base}{API}/auth/token", timeout=10,
                                 json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        self.base, self.token = base, response.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def call(self, method, path, **kwargs):
        return requests.request(method, f"{self.base}{path}", timeout=15,
                                headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)


def webhook(user, url, **extra):
    return user.call("POST", f"{API}/webhooks", json={
        "id": str(uuid.uuid4()), "url": url, "event_types": ["#"], **extra})


@pytest.mark.slow
def test_an_admin_of_one_region_stays_in_it(platform):
    admin = User(platform, "admin")
    suffix = uuid.uuid4().hex[:8]
    made = admin.call("POST", f"{API}/accounts", json={
        "id": f"kay-admin-{suffix}", "username": f"admin.kayes.{suffix}",
        "password": "kayes-admin-2025", "display_name": "Admin Kayes", "role": "admin",
        "scope": [KAYES]})
    assert made.status_code == 201, made.text
    kayes = User(platform, f"admin.kayes.{suffix}", "kayes-admin-2025")
    live = SseClient(f"{platform}{API}/live?access_token={kayes.token}")

    webhooks_of_another_admin_are_out_of_reach(admin, kayes)
    kayes_hook = webhook(kayes, "https://kayes.partner.example.org/c2p")
    assert kayes_hook.status_code == 201, kayes_hook.text
    assert kayes_hook.json()["scope"] == [KAYES]
    national_hook = webhook(admin, "https://tb.partner.example.org/c2p").json()
    webhook_targets_inside_are_refused(kayes)

    # Events in Niono (a visit, its plan, a coach's phone number) and in Kayes.
    niono_visit = sample_submission()
    assert User(platform, "coach.niono").call(
        "POST", f"{API}/submissions", json=niono_visit).status_code == 201
    kayes_visit = sample_submission(facility_id="ML-KAY-KAY-LAF")
    kayes_visit["coachees"] = []
    answer = User(platform, "coach.kayes").call("POST", f"{API}/submissions", json=kayes_visit)
    assert answer.status_code == 201, answer.text
    assert admin.call("PATCH", f"{API}/accounts/u-coach-niono",
                      json={"phone": "+22376001111"}).status_code == 200
    assert admin.call("PATCH", f"{API}/accounts/u-coach-kayes",
                      json={"phone": "+22376002222"}).status_code == 200

    # The national endpoint hears all of them: the regional one only Kayes's.
    def national_types():
        items = admin.call("GET", f"{API}/webhooks/{national_hook['id']}/deliveries",
                           params={"per_page": 100}).json()["items"]
        types = {d["event_type"] for d in items}
        return {"checklist.submitted", "plan.created", "account.updated"} <= types and items
    national = eventually(national_types, timeout=30)
    assert len([d for d in national if d["event_type"] == "checklist.submitted"]) == 2
    regional = kayes.call("GET", f"{API}/webhooks/{kayes_hook.json()['id']}/deliveries",
                          params={"per_page": 100}).json()["items"]
    places = []
    for item in regional:
        detail = kayes.call("GET", f"{API}/webhooks/{kayes_hook.json()['id']}/deliveries/"
                                   f"{item['id']}").json()
        data = detail["envelope"]["data"]
        places.append((item["event_type"], data.get("facility_path") or data.get("scope")))
    assert ("checklist.submitted", f"{KAYES}/ML-KAY-KAY/ML-KAY-KAY-LAF") in places
    assert any(t == "account.updated" for t, _ in places), places
    assert not any(NIONO in json.dumps(p) for _, p in places), places
    assert "+22376001111" not in json.dumps(regional)

    # Live updates: the account events of Kayes only.
    eventually(lambda: any(e["data"].get("account_id") == "u-coach-kayes"
                           for _, _, e in live.events), timeout=15)
    seen = {(t, e["data"].get("account_id")) for _, t, e in live.events}
    assert ("account.updated", "u-coach-niono") not in seen, seen
    assert not any(NIONO in json.dumps(e) for _, _, e in live.events)
    live.close()

    org_unit_imports_stay_in_scope(kayes, admin)
    accounts_of_another_region_are_out_of_reach(kayes)
    bad_json_is_refused_by_name(admin)
    security_headers_on_every_answer(platform, admin)


def webhooks_of_another_admin_are_out_of_reach(admin, kayes):
    theirs = webhook(admin, "https://national.partner.example.org/c2p").json()
    listed = kayes.call("GET", f"{API}/webhooks").json()
    assert listed["total"] == 0 and listed["items"] == []
    base = f"{API}/webhooks/{theirs['id']}"
    for method, path in (("GET", base), ("DELETE", base), ("POST", f"{base}/secret"),
                         ("GET", f"{base}/deliveries"),
                         ("GET", f"{base}/deliveries/{uuid.uuid4()}"),
                         ("POST", f"{base}/deliveries/{uuid.uuid4()}/redeliver")):
        assert kayes.call(method, path).status_code == 404, (method, path)
    # The same id, claimed by another admin: refused without showing the original.
    again = kayes.call("POST", f"{API}/webhooks", json={
        "id": theirs["id"], "url": theirs["url"], "event_types": ["#"]})
    assert again.status_code == 409 and "national.partner" not in again.text
    # A scope beyond one's own is refused; the national admin sees every endpoint.
    wider = webhook(kayes, "https://x.partner.example.org/c2p", scope=["/ML"])
    assert wider.status_code == 422 and "scope" in wider.text
    assert admin.call("GET", base).json()["active"] is True  # not disabled above


def webhook_targets_inside_are_refused(kayes):
    for url in ("http://127.0.0.1:8000/api/v1/me", "http://localhost:5672/",
                "http://169.254.169.254/latest/meta-data/", "http://[::1]:8000/",
                "http://10.0.0.1/hook", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0:8000/"):
        answer = webhook(kayes, url)
        assert answer.status_code == 422, (url, answer.text)
        assert any(e["field"] == "url" for e in answer.json()["errors"]), url


def org_unit_imports_stay_in_scope(kayes, admin):
    def imported(user, text, dry_run):
        answer = user.call("POST", f"{API}/org-units/import",
                           params={"format": "csv", "dry_run": str(dry_run).lower()},
                           data=text.encode("utf-8"), headers={"Content-Type": "text/csv"})
        assert answer.status_code == 200, answer.text
        return {line["id"]: line for line in answer.json()["lines"]}

    move = "id,parent_id,level,name\nML-SEG-NIO-CEN,ML-KAY-KAY,facility,CSCom central de Niono\n"
    for dry_run in (True, False):
        report = imported(kayes, move, dry_run)
        assert report["ML-SEG-NIO-CEN"]["status"] == "rejected", report
    units = admin.call("GET", f"{API}/org-units", params={
        "level": "facility", "parent_id": "ML-SEG-NIO", "per_page": 100}).json()
    units = units["items"] if isinstance(units, dict) else units
    niono = [u for u in units if u["id"] == "ML-SEG-NIO-CEN"][0]
    assert niono["path"] == f"{NIONO}/ML-SEG-NIO-CEN"  # nothing moved
    out = "id,parent_id,level,name\nML-KAY-KAY-LAF,ML-SEG-NIO,facility,CSCom Lafiabougou\n"
    assert imported(kayes, out, True)["ML-KAY-KAY-LAF"]["status"] == "rejected"
    new = "id,parent_id,level,name\nML-KAY-KAY-NEW,ML-KAY-KAY,facility,CSCom neuf\n"
    assert imported(kayes, new, True)["ML-KAY-KAY-NEW"]["status"] == "created"
    # The national admin may move across regions (a dry run: reference data stays).
    assert imported(admin, move, True)["ML-SEG-NIO-CEN"]["status"] == "updated"


def accounts_of_another_region_are_out_of_reach(kayes):
    # Nor programme-wide things: a checklist template scores every region's visits.
    template = kayes.call("POST", f"{API}/templates", json={"code": "pev-mini"})
    assert template.status_code == 403, template.text
    for method, path in (("GET", f"{API}/accounts/u-coach-niono"),
                         ("PATCH", f"{API}/accounts/u-coach-niono"),
                         ("POST", f"{API}/accounts/u-coach-niono/disable")):
        answer = kayes.call(method, path, json={"phone": "+22376003333"})
        assert answer.status_code == 404, (method, path, answer.text)
    listed = kayes.call("GET", f"{API}/accounts", params={"per_page": 100}).json()
    assert all(all(p.startswith(KAYES) for p in a["scope"]) for a in listed["items"])


def bad_json_is_refused_by_name(admin):
    for raw in ('{"display_name": NaN}', '{"display_name": 1e999}'):
        answer = admin.call("PATCH", f"{API}/me", data=raw,
                            headers={"Content-Type": "application/json"})
        assert answer.status_code in (400, 422), answer.text
    for raw in ("[" * 900 + "]" * 900, '{"a":' * 5000 + "1" + "}" * 5000):
        answer = admin.call("PATCH", f"{API}/me", data=raw,
                            headers={"Content-Type": "application/json"})
        assert answer.status_code in (400, 422), answer.text
        assert "nested" in answer.text
    answer = admin.call("PATCH", f"{API}/me", data='{"display_name": "a\\ud800b"}',
                        headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "display_name"
    assert "surrogate" in answer.json()["errors"][0]["reason"]


def security_headers_on_every_answer(platform, admin):
    token = requests.post(f"{platform}{API}/auth/token", timeout=10,
                          json={"username": "admin", "password": PASSWORD})
    assert token.headers["Cache-Control"] == "no-store"
    for answer in (token, admin.call("GET", f"{API}/me"), admin.call("GET", f"{API}/nowhere"),
                   requests.get(f"{platform}/api/docs", timeout=10),
                   requests.get(f"{platform}/api/docs/swagger-ui.css", timeout=10)):
        assert answer.headers["X-Content-Type-Options"] == "nosniff", answer.url
        assert answer.headers["Referrer-Policy"] == "no-referrer", answer.url
    assert admin.call("GET", f"{API}/me").headers["Cache-Control"] == "no-store"
    docs = requests.get(f"{platform}/api/docs", timeout=10)
    assert "frame-ancestors 'none'" in docs.headers["Content-Security-Policy"]
    assert "script-src 'self'" in docs.headers["Content-Security-Policy"]
