"""Role × scope × endpoint × object: nobody reaches anything outside their scope.

Objects of a facility in Niono (a visit, its plan and actions, an inbox message,
evidence, an account) are made first. Then every HTTP route of GatewayService,
enumerated from the class at test time (so routes added later are covered too),
is called by a user of each role whose scope is elsewhere (Kayes):

- a route naming a Niono object in its path must not answer 2xx, whatever the
  method;
- a route naming no object (lists, counts, dashboards, creations) may answer
  2xx, but must not mention any Niono object, and a list's `total` must count
  only what it shows (so no hidden object is counted);
- an in-scope user whose role the policy refuses gets 403;
- the owner (coach.niono) does reach the objects: the ids are real.

A new route with a path parameter this test does not know fails it, until the
parameter is mapped below to the object it names.
"""
import json
import struct
import uuid
import zlib

import pytest
import requests
from sqlalchemy import text

from gateway import policy
from gateway.openapi import documented, http_routes, openapi_path
from gateway.service import GatewayService
from support import eventually, sample_submission

API = "/api/v1"
PASSWORD = "demo-c2p-2025"
NIONO = "/ML/ML-SEG/ML-SEG-NIO"
KAYES_REGION, KAYES_FACILITY = "/ML/ML-KAY", "/ML/ML-KAY/ML-KAY-KAY/ML-KAY-KAY-LAF"

# Path parameters naming no object of a facility: reference data shared by all
# (templates, the docs viewer's files). Webhooks are not among them: an endpoint
# belongs to its owner, and only a national admin sees another's (issue 12).
UNSCOPED_PARAMS = {"code", "asset", "name", "section", "rest"}
# Routes whose 2xx answers are the same for everyone (reference data, documents).
REFERENCE_ROUTES = {"health", "openapi_document", "asyncapi_document", "api_docs",
                    "api_docs_asset", "list_templates", "get_template", "list_org_units",
                    "web_app", "web_app_root", "web_app_asset", "web_app_screen"}
# Routes that cannot be exercised generically (a stream stays open; sign-in and
# friends take no caller).
NOT_CALLED = {"live_updates", "sign_in", "refresh_session", "sign_out"}


def tiny_png() -> bytes:
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


class Client:
    def __init__(self, base, username, password=PASSWORD):
        response = requests.post(f"{base}{API}/auth/token", timeout=10,
                                 json={"username": username, "password": password})
        assert response.status_code == 200, (username, response.text)
        self.base, self.username = base, username
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def call(self, method, path, **kwargs):
        return requests.request(method, f"{self.base}{path}", headers={
            **self.headers, **kwargs.pop("headers", {})}, timeout=15, **kwargs)


def make_account(admin, role, scope, facility_id=None):
    suffix = uuid.uuid4().hex[:8]
    body = {"id": f"mx-{role}-{suffix}", "username": f"mx.{role}.{suffix}",
            "password": "matrix-pass-2025", "display_name": f"Matrix {role}", "role": role,
            "scope": scope, "facility_id": facility_id, "cohort": "cohort-1"}
    response = admin.call("POST", f"{API}/accounts", json=body)
    assert response.status_code == 201, response.text
    return body


@pytest.mark.slow
def test_no_access_outside_scope_on_any_route(platform, engines):
    admin = Client(platform, "admin")
    owner = Client(platform, "coach.niono")
    coachee = Client(platform, "dtc.niono")

    # --- objects of Niono ------------------------------------------------------
    target = make_account(admin, "coachee", [f"{NIONO}/ML-SEG-NIO-MOL"], "ML-SEG-NIO-MOL")
    hook_id = str(uuid.uuid4())
    hook = admin.call("POST", f"{API}/webhooks", json={
        "id": hook_id, "url": "https://partner.example.org/c2p", "event_types": ["#"]})
    assert hook.status_code == 201, hook.text
    visit = sample_submission(failing=("cc_temp_twice_daily", "stock_no_expired"))
    assert owner.call("POST", f"{API}/submissions", json=visit).status_code == 201
    plan = eventually(lambda: (r := owner.call(
        "GET", f"{API}/submissions/{visit['id']}/plan")).ok and r.json())
    action_id = plan["actions"][0]["id"]
    message = eventually(lambda: owner.call("GET", f"{API}/inbox").json()["items"])[0]
    # The national admin's webhook (receiving Niono's events) and one of its deliveries.
    delivery = eventually(lambda: admin.call(
        "GET", f"{API}/webhooks/{hook_id}/deliveries").json()["items"])[0]
    objects = {"submission_id": visit["id"], "plan_id": plan["id"], "action_id": action_id,
               "account_id": target["id"], "message_id": message["id"],
               "facility_id": "ML-SEG-NIO-CEN", "evidence_id": str(uuid.uuid4()),
               "endpoint_id": hook_id, "delivery_id": delivery["id"]}
    routes = http_routes(GatewayService)
    if any(name == "stream_evidence" for name, _, _ in routes):
        evidence_id = str(uuid.uuid4())
        uploaded = eventually(lambda: (r := coachee.call(
            "PUT", f"{API}/evidence/{evidence_id}/content", data=tiny_png(),
            params={"action_id": action_id, "filename": "frigo.png"},
            headers={"Content-Type": "image/png"})).status_code in (200, 201) and r, timeout=20)
        assert uploaded.json()["id"] == evidence_id
        objects["evidence_id"] = evidence_id
    # Admin objects of all Mali (hence of Niono too): a DHIS2 export and an org-unit
    # import, which an admin of Kayes must not read.
    export = admin.call("POST", f"{API}/hmis/exports", json={"period": "202611",
                                                             "dry_run": True})
    assert export.status_code == 202, export.text
    pull = admin.call("POST", f"{API}/org-units/dhis2-imports", json={"root": "OuMali00001"})
    assert pull.status_code == 202, pull.text
    objects.update(run_id=export.json()["id"], job_id=pull.json()["id"])
    markers = {str(v) for k, v in objects.items() if k != "facility_id"} | {"ML-SEG-NIO",
                                                                           "Niono"}

    # --- users elsewhere, one per role ----------------------------------------
    outsiders = {"coach": Client(platform, "coach.kayes")}
    for role, scope, facility in (("coachee", [KAYES_FACILITY], "ML-KAY-KAY-LAF"),
                                  ("champion", [KAYES_REGION], None),
                                  ("manager", [KAYES_REGION], None),
                                  ("admin", [KAYES_REGION], None)):
        account = make_account(admin, role, scope, facility)
        outsiders[role] = Client(platform, account["username"], account["password"])
    insiders = {"coachee": coachee, "coach": owner,
                "champion": Client(platform, "champion.segou"),
                "manager": Client(platform, "manager.national"), "admin": admin}

    leaks, unknown, reached, listed_to_outsiders, lists = [], [], set(), set(), set()
    for name, method, url in routes:
        if name in NOT_CALLED:
            continue
        path, params = openapi_path(url)
        names = [p for p, _ in params]
        if set(names) - UNSCOPED_PARAMS - set(objects):
            unknown.append((name, sorted(set(names) - UNSCOPED_PARAMS - set(objects))))
            continue
        if set(names) & UNSCOPED_PARAMS:
            continue
        concrete = path.format(**objects)
        body = body_for(name, objects)
        for role, user in outsiders.items():
            response = user.call(method, concrete, params=filters_for(name, objects), json=body)
            assert response.status_code < 500, (name, role, response.text)
            if names and 200 <= response.status_code < 300:
                leaks.append((role, method, concrete, response.status_code))
            elif not names and name not in REFERENCE_ROUTES:
                if method == "GET":
                    lists.add(name)
                    if response.ok:
                        listed_to_outsiders.add(name)
                leak = mentions(response, markers) or miscounts(response)
                if leak:
                    leaks.append((role, method, concrete, leak))
        # The role check of the policy, by in-scope users.
        for role, user in insiders.items():
            if not policy.may_call(role, name):
                response = user.call(method, concrete, json=body)
                if response.status_code != 403:
                    leaks.append((f"in-scope {role}", method, concrete, response.status_code))
        if names and method == "GET" and owner.call(method, concrete).ok:
            reached.add(name)

    assert not unknown, f"routes with path parameters the matrix does not know: {unknown}"
    # The list checks bite only if lists answer: most must, to outsiders too.
    assert {"list_accounts", "get_inbox"} <= listed_to_outsiders
    assert len(listed_to_outsiders) * 2 >= len(lists), (listed_to_outsiders, lists)
    assert not leaks, "\n".join(map(str, leaks))
    assert {"get_submission", "get_plan", "get_plan_for_submission", "get_account"} <= reached
    for path in (f"hmis/exports/{objects['run_id']}",
                 f"org-units/dhis2-imports/{objects['job_id']}"):
        assert admin.call("GET", f"{API}/{path}").ok, path   # real ids, out of reach above
    if objects["evidence_id"] and any(n == "get_evidence" for n, _, _ in routes):
        assert "get_evidence" in reached

    # Counts: the Kayes admin lists exactly the accounts of Kayes.
    kayes_admin = outsiders["admin"]
    listed = kayes_admin.call("GET", f"{API}/accounts", params={"per_page": 100}).json()
    with engines["gateway"].connect() as conn:
        scopes = conn.execute(text("select id, scope from accounts")).all()
    expected = sorted(i for i, scope in scopes if scope and all(
        p == KAYES_REGION or p.startswith(KAYES_REGION + "/") for p in scope))
    assert listed["total"] == len(expected)
    assert sorted(a["id"] for a in listed["items"]) == expected[:100]
    assert target["id"] not in {a["id"] for a in listed["items"]}
    assert kayes_admin.call("GET", f"{API}/accounts", params={
        "q": target["username"]}).json()["total"] == 0


def filters_for(name, objects):
    """Query parameters pointing a list at Niono, among the filters the route knows
    (an unknown parameter is refused with 400, so only those are sent)."""
    wanted = {"facility_id": objects["facility_id"], "facility": objects["facility_id"],
              "path": NIONO, "org_unit": "ML-SEG-NIO", "district_id": "ML-SEG-NIO",
              "submission_id": objects["submission_id"], "plan_id": objects["plan_id"],
              "action_id": objects["action_id"], "per_page": 100}
    query = documented(name).get("query")
    known = {f.data_key or n for n, f in query().fields.items()} if query else set()
    return {key: value for key, value in wanted.items() if key in known}


def body_for(name, objects):
    """A JSON body aimed at Niono's objects for a route that takes one."""
    if name == "submit_checklist":
        return sample_submission()
    if name in ("create_account", "update_account"):
        suffix = uuid.uuid4().hex[:8]
        return {"id": f"mx-x-{suffix}", "username": f"mx.x.{suffix}",
                "password": "matrix-pass-2025", "display_name": "Intruder", "role": "coach",
                "scope": [NIONO]}
    return {"id": str(uuid.uuid4()), "facility_id": objects["facility_id"],
            "action_id": objects["action_id"], "plan_id": objects["plan_id"],
            "submission_id": objects["submission_id"], "account_id": objects["account_id"],
            "evidence_id": objects["evidence_id"], "filename": "x.png", "text": "x",
            "content_type": "image/png", "size_bytes": 100, "status": "done",
            "decision": "approved", "comment": "x", "text_fr": "x", "text_en": "x"}


def mentions(response, markers):
    if not 200 <= response.status_code < 300:
        return None
    found = sorted(m for m in markers if m in response.text)
    return f"mentions {found}" if found else None


def miscounts(response):
    """A 2xx page whose total counts more than it shows (per_page 100)."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("total"), int) and isinstance(
            body.get("items"), list) and body["total"] < 100 and body["total"] != len(
            body["items"]):
        return f"total {body['total']} but {len(body['items'])} items: {json.dumps(body)[:300]}"
    return None
