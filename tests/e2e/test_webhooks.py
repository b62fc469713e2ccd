"""A partner programme's webhook receiver, on localhost, gets signed deliveries for
a whole supervision cycle, although it was down when the cycle started; with two
gateway replicas delivering, each event arrives once."""
import json
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from c2p.contracts import Event
from c2p.processes import LocalPlatform
from gateway import webhooks
from support import eventually, free_port, publish_raw, sample_submission

API = "/api/v1"
WANTED = ["checklist.*", "plan.*", "action.*", "evidence.*", "account.*"]


@pytest.fixture
def replicas(process_env, tmp_path):
    env = {**process_env, "C2P_WEBHOOK_INTERVAL_MS": "200", "C2P_WEBHOOK_BACKOFF_MS": "200",
           "C2P_WEBHOOK_BACKOFF_MAX_MS": "1000", "C2P_WEBHOOK_MAX_ATTEMPTS": "60",
           "C2P_WEBHOOK_TIMEOUT_S": "2", "C2P_WEBHOOK_ALLOW_PRIVATE": "true"}
    running = LocalPlatform(env, str(tmp_path / "logs"), replicas={"gateway": 2}).start()
    yield [f"http://127.0.0.1:{port}" for port in running.gateway_ports]
    stuck = running.stop()
    assert not stuck, f"did not stop on SIGTERM within 15 s: {stuck}"


class Receiver:
    def __init__(self, port):
        self.received = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def auth(base, username):
    response = requests.post(f"{base}{API}/auth/token",
                             json={"username": username, "password": "demo-c2p-2025"}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


@pytest.mark.slow
def test_receiver_down_at_first_gets_every_lifecycle_event_signed_once(replicas, settings):
    first, second = replicas
    admin, coach = auth(first, "admin"), auth(first, "coach.niono")
    coachee = auth(second, "dtc.niono")
    port = free_port()  # nothing listens there yet: the partner is down
    endpoint = ok(requests.post(f"{first}{API}/webhooks", headers=admin, timeout=10, json={
        "id": str(uuid.uuid4()), "url": f"http://127.0.0.1:{port}/c2p-events",
        "event_types": WANTED, "description": "Programme national tuberculose"}), 201)

    # A supervision cycle, through the gateway (both replicas) and the bus.
    submission = sample_submission()
    ok(requests.post(f"{first}{API}/submissions", json=submission, headers=coach, timeout=10),
       201)
    plan = eventually(lambda: (r := requests.get(
        f"{second}{API}/submissions/{submission['id']}/plan", headers=coach,
        timeout=10)).ok and r.json(), timeout=20)
    ok(requests.post(f"{first}{API}/plans/{plan['id']}/agree", headers=coach, timeout=10))
    ok(requests.post(f"{second}{API}/plans/{plan['id']}/agree", headers=coachee, timeout=10))
    done, dropped = plan["actions"][0], plan["actions"][1]
    status_url = f"{first}{API}/plans/{plan['id']}/actions"
    ok(requests.post(f"{status_url}/{done['id']}/status", headers=coachee, timeout=10,
                     json={"status": "in_progress"}))
    now = datetime.now(timezone.utc)
    uploaded = Event(type="evidence.uploaded", source="evidence", data={
        "evidence_id": uuid.uuid4(), "action_id": done["id"], "plan_id": plan["id"],
        "facility_id": plan["facility_id"], "facility_path": plan["facility_path"],
        "coach_id": "u-coach-niono", "uploaded_by": "u-dtc-niono", "content_type": "image/jpeg",
        "size_bytes": 52311, "sha256": "ab" * 32, "filename": "registre.jpg",
        "captured_at": now, "uploaded_at": now})
    publish_raw(settings.amqp_uri, uploaded.to_wire(), "evidence.uploaded", str(uploaded.id))
    ok(requests.post(f"{status_url}/{done['id']}/status", headers=coachee, timeout=10,
                     json={"status": "awaiting_review"}))
    ok(requests.post(f"{status_url}/{done['id']}/status", headers=coach, timeout=10,
                     json={"status": "done", "comment": "Registre vu, conforme"}))
    ok(requests.post(f"{status_url}/{dropped['id']}/status", headers=coach, timeout=10,
                     json={"status": "dropped", "reason": "Réfrigérateur remplacé"}))

    # An administrator gives the facility a new vaccinator account.
    newcomer = {"id": f"u-vacc-{uuid.uuid4().hex[:6]}", "username": f"vacc.{uuid.uuid4().hex[:6]}",
                "password": "vaccinateur-2025", "display_name": "Mariam Touré",
                "role": "coachee", "scope": [plan["facility_path"]],
                "facility_id": plan["facility_id"]}
    ok(requests.post(f"{second}{API}/accounts", json=newcomer, headers=admin, timeout=10), 201)

    # While the partner is down, deliveries are tried, fail, and are retried.
    deliveries = f"{first}{API}/webhooks/{endpoint['id']}/deliveries"

    def retried():
        items = requests.get(f"{deliveries}?status=pending&per_page=100", headers=admin,
                             timeout=10).json()["items"]
        return any(d["attempts"] >= 2 for d in items) and items
    pending = eventually(retried, timeout=20)
    assert all(d["last_status_code"] is None for d in pending if d["attempts"])
    assert any("Connection" in (d["last_error"] or "") for d in pending)
    types_wanted = {"checklist.submitted", "plan.created", "plan.agreed",
                    "action.status_changed", "evidence.uploaded", "plan.completed",
                    "account.created"}
    eventually(lambda: types_wanted <= {d["event_type"] for d in requests.get(
        f"{deliveries}?per_page=100", headers=admin, timeout=10).json()["items"]}, timeout=20)

    receiver = Receiver(port)  # the partner comes back
    try:
        def all_delivered():
            body = requests.get(f"{deliveries}?per_page=100", headers=admin, timeout=10).json()
            return all(d["status"] == "delivered" for d in body["items"]) and body
        listing = eventually(all_delivered, timeout=30)
        by_id = {}
        for headers, body in receiver.received:
            assert webhooks.verify_signature(endpoint["secret"], headers, body), headers
            envelope = json.loads(body)
            assert headers["C2P-Event-Id"] == envelope["id"]
            assert headers["C2P-Event-Type"] == envelope["type"]
            by_id.setdefault(envelope["id"], []).append(envelope)
        # Each event exactly once, although two replicas were delivering.
        assert all(len(copies) == 1 for copies in by_id.values()), by_id
        assert len(by_id) == listing["total"] == len(receiver.received)
        received_types = [copies[0]["type"] for copies in by_id.values()]
        assert types_wanted <= set(received_types)
        assert received_types.count("action.status_changed") == 4
        assert not [t for t in received_types if not webhooks.wants(WANTED, t)]
        completed = next(c[0] for c in by_id.values() if c[0]["type"] == "plan.completed")
        assert completed["data"]["plan_id"] == plan["id"]
        assert completed["data"]["actions_done"] == 1
        assert completed["data"]["actions_dropped"] == 1
        assert any(c[0]["type"] == "account.created"
                   and c[0]["data"]["account_id"] == newcomer["id"] for c in by_id.values())
        # The attempts while it was down are in the log.
        early = max(listing["items"], key=lambda d: d["attempts"])
        detail = ok(requests.get(f"{deliveries}/{early['id']}", headers=admin, timeout=10))
        assert detail["attempt_log"][-1]["status_code"] == 200
        assert all(a["status_code"] is None and a["error"] for a in detail["attempt_log"][:-1])
        assert len(detail["attempt_log"]) == detail["attempts"] >= 2
    finally:
        receiver.close()
