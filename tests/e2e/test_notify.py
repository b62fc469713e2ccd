"""Notifications end to end: every service as its own process, a real local SMTP
server and SMS/WhatsApp HTTP provider; a visit submitted over HTTP and events on
the bus reach each person on their channels in their language, and the inbox
and the delivery log are served by the gateway."""
import importlib.util
import os
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import text

from c2p.contracts import Event
from support import eventually, publish_raw, sample_submission

API = "/api/v1"
UTC = timezone.utc
NAME = "CSCom central de Niono"
FACILITY = "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"
_spec = importlib.util.spec_from_file_location("notify_sinks", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration",
    "test_notify_sinks.py"))
sinks_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sinks_module)


@pytest.fixture
def sinks():
    running = sinks_module.Sinks()
    yield running
    running.stop()


@pytest.fixture
def process_env(process_env, sinks):
    return {**process_env, **sinks.env(), "NOTIFY_INTERVAL_S": "1",
            "NOTIFY_RETRY_DELAYS_S": "1,1"}


def sign_in(base, username, password="demo-c2p-2025"):
    response = requests.post(f"{base}{API}/auth/token",
                             json={"username": username, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def publish(amqp_uri, event_type, data, occurred_at=None):
    event = Event(type=event_type, data=data, source="test",
                  occurred_at=occurred_at or datetime.now(UTC))
    publish_raw(amqp_uri, event.to_wire(), event_type, str(event.id))


def account(account_id, username, role, scope, language, channels, email=None, phone=None,
            coaching=()):
    return {"account_id": account_id, "username": username, "display_name": username,
            "role": role, "scope": scope, "language": language, "email": email,
            "phone": phone, "coaching": [{"facility_id": p.rsplit("/", 1)[-1],
                                          "facility_path": p} for p in coaching],
            "preferences": {"channels": channels}, "active": True}


@pytest.mark.slow
def test_alerts_reach_people_in_their_language_and_the_gateway_serves_inbox_and_log(
        platform, process_env, engines, sinks):
    amqp = process_env["C2P_AMQP_URI"]
    # The gateway announces accounts as account.* events; here they come straight
    # from the bus, a minute later than any state the seed may have announced.
    later = datetime.now(UTC) + timedelta(minutes=1)
    for data in (
        account("u-coach-niono", "coach.niono", "coach", ["/ML/ML-SEG/ML-SEG-NIO"], "fr",
                ["inbox", "email", "sms"], email="awa@c2p.test", phone="+22376000101",
                coaching=[FACILITY]),
        account("u-dtc-niono", "dtc.niono", "coachee", [FACILITY], "en",
                ["inbox", "email", "whatsapp"], email="fatoumata@c2p.test",
                phone="+22376000103"),
        account("u-champion-segou", "champion.segou", "champion", ["/ML/ML-SEG"], "en",
                ["inbox", "email"], email="ibrahim@c2p.test")):
        publish(amqp, "account.updated", data, occurred_at=later)
    eventually(lambda: _count(engines["notify"], "select count(*) from recipients "
                              "where as_of > now()") == 3, timeout=20)

    coach = sign_in(platform, "coach.niono")
    visit = sample_submission(failing=("cc_in_range", "cc_temp_twice_daily"))
    assert requests.post(f"{platform}{API}/submissions", json=visit, headers=coach,
                         timeout=10).status_code == 201
    plan = eventually(lambda: (r := requests.get(
        f"{platform}{API}/submissions/{visit['id']}/plan", headers=coach, timeout=10)).ok
        and r.json(), timeout=20)

    # New plan to agree: the coach in French by e-mail and SMS, the DTC in English by
    # e-mail and WhatsApp; the visit is flagged: the district's champion, in English.
    subjects = lambda to: [m["subject"] for m in sinks.mail(to)]  # noqa: E731
    eventually(lambda: f"Nouveau plan d'amélioration à valider : {NAME}"
               in subjects("awa@c2p.test"), timeout=20)
    eventually(lambda: f"New improvement plan to agree: {NAME}"
               in subjects("fatoumata@c2p.test"))
    eventually(lambda: f"Visit flagged for a critical gap: {NAME}"
               in subjects("ibrahim@c2p.test"))
    assert eventually(lambda: sinks.texts("+22376000101"))[0]["text"].startswith(
        f"Nouveau plan d'amélioration à valider : {NAME}.")
    whatsapp = eventually(lambda: sinks.texts("+22376000103"))[0]
    assert whatsapp["channel"] == "whatsapp"
    assert whatsapp["text"].endswith(f"https://c2p.test{API}/plans/{plan['id']}")

    # Evidence sent back with a comment, and an overdue action (owner then coach).
    action = next(a for a in plan["actions"] if a["owner_id"] == "u-dtc-niono")
    ref = {"plan_id": plan["id"], "facility_id": "ML-SEG-NIO-CEN", "facility_name": NAME,
           "facility_path": FACILITY, "coach_id": "u-coach-niono",
           "coachee_ids": ["u-dtc-niono", "u-vacc-1"]}
    publish(amqp, "evidence.reviewed", {
        "evidence_id": uuid.uuid4(), "action_id": action["id"], "plan_id": plan["id"],
        "facility_id": "ML-SEG-NIO-CEN", "facility_path": FACILITY,
        "coach_id": "u-coach-niono", "uploaded_by": "u-dtc-niono", "decision": "rejected",
        "comment": "The thermometer is not readable on the photo",
        "reviewed_by": "u-coach-niono", "reviewed_at": datetime.now(UTC)})
    publish(amqp, "action.overdue", {
        **ref, "action_id": action["id"], "item_code": action["item_code"],
        "text_fr": action["text_fr"], "text_en": action["text_en"],
        "owner_id": "u-dtc-niono", "due_date": date.fromisoformat(action["due_date"]),
        "status": "todo", "days_late": 4})
    rejected = eventually(lambda: [m for m in sinks.mail("fatoumata@c2p.test")
                                   if m["subject"] == f"Evidence rejected: {NAME}"])
    assert "The thermometer is not readable on the photo" in rejected[0]["body"]
    assert action["text_en"] in rejected[0]["body"]
    eventually(lambda: f"Action 4 days overdue: {NAME}" in subjects("fatoumata@c2p.test"))
    eventually(lambda: f"Action en retard de 4 jours : {NAME}" in subjects("awa@c2p.test"))

    # The inbox over HTTP: list, unread count, mark one, mark all.
    inbox = requests.get(f"{platform}{API}/inbox", headers=coach, timeout=10).json()
    kinds = {m["kind"] for m in inbox["items"]}
    assert {"plan.to_agree", "action.overdue"} <= kinds and "visit.flagged" not in kinds
    unread = requests.get(f"{platform}{API}/inbox/unread-count", headers=coach,
                          timeout=10).json()["unread"]
    assert unread == inbox["total"]
    first = inbox["items"][0]["id"]
    marked = requests.post(f"{platform}{API}/inbox/{first}/read", headers=coach, timeout=10)
    assert marked.status_code == 200 and marked.json()["read"] is True
    assert requests.get(f"{platform}{API}/inbox/unread-count", headers=coach,
                        timeout=10).json()["unread"] == unread - 1
    champion = sign_in(platform, "champion.segou")
    assert requests.post(f"{platform}{API}/inbox/{first}/read", headers=champion,
                         timeout=10).status_code == 404  # not theirs
    assert requests.post(f"{platform}{API}/inbox/read-all", headers=coach,
                         timeout=10).json()["marked"] == unread - 1
    assert requests.get(f"{platform}{API}/inbox?unread=true", headers=coach,
                        timeout=10).json()["items"] == []

    # The delivery log: admins only.
    admin = sign_in(platform, "admin")
    log = requests.get(f"{platform}{API}/admin/deliveries", headers=admin, timeout=10,
                       params={"recipient_id": "u-dtc-niono", "channel": "email"}).json()
    assert {d["kind"] for d in log["items"]} >= {"plan.to_agree", "evidence.rejected",
                                                 "action.overdue"}
    assert all(d["status"] == "delivered" and d["language"] == "en" for d in log["items"])
    assert requests.get(f"{platform}{API}/admin/deliveries", headers=coach,
                        timeout=10).status_code == 403
    bad = requests.get(f"{platform}{API}/admin/deliveries", headers=admin, timeout=10,
                       params={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


def _count(engine, sql):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()
