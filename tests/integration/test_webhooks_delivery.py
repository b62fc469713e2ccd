"""Webhooks against the real broker and database: the gateway in this process,
a real HTTP receiver on localhost, events published on the bus."""
import json
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.orm import Session

from c2p import topology
from c2p.contracts import Event
from gateway import webhook_bindings, webhooks
from gateway.service import GatewayService
from gateway.webhook_models import WebhookBinding, WebhookDelivery, WebhookEndpoint
from support import eventually, free_port, publish_raw, queue_depth

API = "/api/v1"
NIONO_CEN = "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"


@pytest.fixture
def process_env(process_env):
    # Fast delivery and back-off for tests.
    return {**process_env, "C2P_WEBHOOK_INTERVAL_MS": "100", "C2P_WEBHOOK_BACKOFF_MS": "100",
            "C2P_WEBHOOK_BACKOFF_MAX_MS": "400", "C2P_WEBHOOK_MAX_ATTEMPTS": "3",
            "C2P_WEBHOOK_TIMEOUT_S": "2", "C2P_WEBHOOK_ALLOW_PRIVATE": "true"}


class Receiver:
    """A partner's endpoint: records what it gets; answers `status` (a callable)."""

    def __init__(self, status=lambda n: 204):
        self.received, self.status = [], status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status(len(receiver.received)))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(start_service, service_config):
    start_service(GatewayService)
    return f"http://{service_config['WEB_SERVER_ADDRESS']}"


def sign_in(base, username="admin"):
    response = requests.post(f"{base}{API}/auth/token",
                             json={"username": username, "password": "demo-c2p-2025"}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def plan_completed(path=NIONO_CEN):
    now = datetime.now(timezone.utc)
    return Event(type="plan.completed", source="test", data={
        "plan_id": uuid.uuid4(), "facility_id": "ML-SEG-NIO-CEN",
        "facility_name": "CSCom central de Niono", "facility_path": path,
        "coach_id": "u-coach-niono", "coachee_ids": [], "completed_at": now,
        "actions_done": 3, "actions_dropped": 0})


def notification_failed():
    now = datetime.now(timezone.utc)
    return Event(type="notification.failed", source="test", data={
        "notification_id": uuid.uuid4(), "event_id": uuid.uuid4(), "event_type": "plan.created",
        "recipient_id": "u-dtc-niono", "channel": "sms", "attempts": 3, "at": now,
        "error": "provider down"})


def register(base, auth, url, event_types, **extra):
    response = requests.post(f"{base}{API}/webhooks", headers=auth, timeout=10, json={
        "id": str(uuid.uuid4()), "url": url, "event_types": event_types, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def consumed(engine, event) -> bool:
    """Whether the gateway's webhook consumer took this event off its queue."""
    with engine.connect() as conn:
        return conn.execute(text(
            "select count(*) from processed_events where consumer = :c and event_id = :e"),
            {"c": webhook_bindings.QUEUE, "e": event.id}).scalar() > 0


def test_signed_delivery_once_per_event_and_admin_only(gateway, settings, engines):
    admin = sign_in(gateway)
    receiver = Receiver()
    try:
        # No endpoint wants it: the broker does not even route it to the gateway.
        unwanted = plan_completed()
        publish_raw(settings.amqp_uri, unwanted.to_wire(), "plan.completed")
        endpoint = register(gateway, admin, receiver.url, ["plan.*"])
        assert endpoint["secret"].startswith("whsec_")
        event = plan_completed()
        for _ in range(2):  # the bus redelivers: still one delivery
            publish_raw(settings.amqp_uri, event.to_wire(), "plan.completed", str(event.id))
        publish_raw(settings.amqp_uri, notification_failed().to_wire(), "notification.failed")
        eventually(lambda: receiver.received)
        headers, body = receiver.received[0]
        assert webhooks.verify_signature(endpoint["secret"], headers, body)
        assert headers["C2P-Event-Id"] == str(event.id)
        assert headers["C2P-Event-Type"] == "plan.completed"
        assert json.loads(body)["data"]["facility_name"] == "CSCom central de Niono"
        listed = eventually(lambda: requests.get(
            f"{gateway}{API}/webhooks/{endpoint['id']}/deliveries?status=delivered",
            headers=admin, timeout=10).json()["items"])
        assert len(listed) == 1 and listed[0]["event_id"] == str(event.id)
        import eventlet
        eventlet.sleep(0.5)  # time for a second delivery, were there one
        assert len(receiver.received) == 1  # not the redelivery, not notification.failed
        assert consumed(engines["gateway"], event)
        assert not consumed(engines["gateway"], unwanted)
        # The secret is shown once only.
        fetched = requests.get(f"{gateway}{API}/webhooks/{endpoint['id']}", headers=admin,
                               timeout=10).json()
        assert "secret" not in fetched and fetched["event_types"] == ["plan.*"]
        listing = requests.get(f"{gateway}{API}/webhooks", headers=admin, timeout=10).json()
        assert all("secret" not in item for item in listing["items"])
    finally:
        receiver.close()

    coach = sign_in(gateway, "coach.niono")
    for method, path in (("GET", "/webhooks"), ("POST", "/webhooks"),
                         ("GET", f"/webhooks/{endpoint['id']}/deliveries")):
        response = requests.request(method, f"{gateway}{API}{path}", headers=coach, json={},
                                    timeout=10)
        assert response.status_code == 403, (path, response.text)
        # What was refused and why, in the 422's shape, in English and French.
        [refused] = response.json()["errors"]
        assert refused["field"] == "role", (path, refused)
        english, french = refused["reason"].split("; ")
        assert "coach" in english and "admin" in english and "rôle" in french
    assert requests.get(f"{gateway}{API}/webhooks", timeout=10).status_code == 401


def test_failures_are_retried_logged_then_failed_and_redelivered_by_hand(gateway, settings):
    admin = sign_in(gateway)
    answers = {"code": 500}
    receiver = Receiver(status=lambda n: answers["code"])
    try:
        endpoint = register(gateway, admin, receiver.url, ["plan.completed"])
        event = plan_completed()
        publish_raw(settings.amqp_uri, event.to_wire(), "plan.completed", str(event.id))
        deliveries = f"{gateway}{API}/webhooks/{endpoint['id']}/deliveries"
        failed = eventually(lambda: requests.get(f"{deliveries}?status=failed", headers=admin,
                                                 timeout=10).json()["items"])
        assert failed[0]["attempts"] == settings.webhook_max_attempts == 3
        assert failed[0]["last_status_code"] == 500
        assert len(receiver.received) == 3
        detail = requests.get(f"{deliveries}/{failed[0]['id']}", headers=admin,
                              timeout=10).json()
        assert [a["status_code"] for a in detail["attempt_log"]] == [500, 500, 500]
        assert all(a["duration_ms"] >= 0 and "HTTP 500" in a["error"]
                   for a in detail["attempt_log"])

        answers["code"] = 200
        again = requests.post(f"{deliveries}/{failed[0]['id']}/redeliver", headers=admin,
                              timeout=10)
        assert again.status_code == 202, again.text
        eventually(lambda: requests.get(f"{deliveries}/{failed[0]['id']}", headers=admin,
                                        timeout=10).json()["status"] == "delivered")
        assert len(receiver.received) == 4
        assert all(headers["C2P-Event-Id"] == str(event.id) for headers, _ in receiver.received)
        detail = requests.get(f"{deliveries}/{failed[0]['id']}", headers=admin,
                              timeout=10).json()
        assert [a["status_code"] for a in detail["attempt_log"]] == [500, 500, 500, 200]
    finally:
        receiver.close()


def test_bad_registrations_are_refused_naming_the_field(gateway, engines):
    admin = sign_in(gateway)
    good = {"id": str(uuid.uuid4()), "url": "https://tb.example.org/c2p",
            "event_types": ["plan.*"]}
    cases = [({**good, "id": "phone-1"}, "id"), ({**good, "url": "ftp://x"}, "url"),
             ({**good, "event_types": ["plan.eaten"]}, "event_types"),
             ({**good, "event_types": []}, "event_types"),
             ({**good, "secret": "short"}, "secret"), ({**good, "colour": "red"}, "colour"),
             ({**good, "url": "http://tb.example.org/\x00"}, "url"),
             ({**good, "description": "NUL\x00"}, "description")]
    for body, field in cases:
        response = requests.post(f"{gateway}{API}/webhooks", json=body, headers=admin,
                                 timeout=10)
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]
    # A body not sent as JSON is a 415 naming Content-Type, however JSON its text.
    raw = json.dumps(good)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {**admin, "Content-Type": content_type} if content_type else admin
        response = requests.post(f"{gateway}{API}/webhooks", data=raw.encode(),
                                 headers=headers, timeout=10)
        assert response.status_code == 415, (content_type, response.text)
        assert response.headers["Content-Type"].startswith("application/problem+json")
        [refused] = response.json()["errors"]
        assert refused["field"] == "Content-Type" and "application/json" in refused["reason"]
    signing_in = requests.post(f"{gateway}{API}/auth/token", data=json.dumps(
        {"username": "admin", "password": "x"}), headers={"Content-Type": "text/plain"},
        timeout=10)
    assert signing_in.status_code == 415, signing_in.text
    with engines["gateway"].connect() as conn:
        assert conn.execute(text("select count(*) from webhook_endpoints")).scalar() == 0
    # JSON with its charset, or a +json type, is read as JSON.
    assert requests.post(f"{gateway}{API}/webhooks", data=json.dumps(
        {**good, "id": str(uuid.uuid4())}).encode(), timeout=10, headers={
        **admin, "Content-Type": "application/json; charset=utf-8"}).status_code == 201
    # Client-generated id: a retried create answers the original, another body conflicts.
    assert requests.post(f"{gateway}{API}/webhooks", json=good, headers=admin,
                         timeout=10).status_code == 201
    retried = requests.post(f"{gateway}{API}/webhooks", json=good, headers=admin, timeout=10)
    assert retried.status_code == 200 and "secret" not in retried.json()
    assert requests.post(f"{gateway}{API}/webhooks", json={**good, "url": "https://other.org/"},
                         headers=admin, timeout=10).status_code == 409
    # A phone syncing twice at once: one creation, never a server error.
    import eventlet
    same = {**good, "id": str(uuid.uuid4())}
    pool = eventlet.GreenPool(6)
    codes = sorted(pool.imap(lambda _: requests.post(f"{gateway}{API}/webhooks", json=same,
                                                     headers=admin, timeout=10).status_code,
                             range(6)))
    assert codes.count(201) == 1 and set(codes) <= {200, 201, 409}, codes


def test_replicas_claiming_at_once_take_different_deliveries(engines):
    """SKIP LOCKED: a second replica claiming while the first holds its rows takes others."""
    engine = engines["gateway"]
    with Session(engine) as session, session.begin():
        session.add(WebhookEndpoint(id="e1", url="http://127.0.0.1:9/x", event_types=["#"],
                                    secret="s" * 30, description="", active=True,
                                    created_by="u-admin"))
        session.flush()
        for _ in range(6):
            session.add(WebhookDelivery(id=uuid.uuid4(), endpoint_id="e1",
                                        event_id=uuid.uuid4(), event_type="plan.created",
                                        envelope={}, status="pending", attempts=0))
    first, second = Session(engine), Session(engine)
    try:
        # The first replica has selected its rows but not yet committed its claim.
        original_commit = first.commit
        first.commit = lambda: None
        mine = webhooks.claim_due(first, limit=4, lease_s=60, per_endpoint=10)
        theirs = webhooks.claim_due(second, limit=4, lease_s=60, per_endpoint=10)
        original_commit()
        again = webhooks.claim_due(second, limit=4, lease_s=60)  # leased: nothing left
    finally:
        first.close()
        second.close()
    assert len(mine) == 4 and len(theirs) == 2
    assert not {c.id for c in mine} & {c.id for c in theirs}
    assert again == []


def test_settled_deliveries_are_forgotten_after_retention_pending_ones_never(engines):
    from datetime import timedelta
    engine = engines["gateway"]
    old = datetime.now(timezone.utc) - timedelta(days=40)
    with Session(engine) as session, session.begin():
        session.add(WebhookEndpoint(id="e2", url="http://127.0.0.1:9/x", event_types=["#"],
                                    secret="s" * 30, description="", active=True,
                                    created_by="u-admin"))
        session.flush()
        for status, created in (("delivered", old), ("failed", old), ("pending", old),
                                ("delivered", datetime.now(timezone.utc))):
            session.add(WebhookDelivery(id=uuid.uuid4(), endpoint_id="e2", event_id=uuid.uuid4(),
                                        event_type="plan.created", envelope={}, status=status,
                                        attempts=1, created_at=created))
    with Session(engine) as session, session.begin():
        assert webhooks.purge_settled(session, older_than_days=30) == 2
    with engine.connect() as conn:
        left = conn.execute(text("select status from webhook_deliveries order by status")).all()
    assert [row[0] for row in left] == ["delivered", "pending"]


def test_one_endpoint_with_a_backlog_does_not_take_every_slot(engines):
    engine = engines["gateway"]
    with Session(engine) as session, session.begin():
        for endpoint_id in ("down", "up"):
            session.add(WebhookEndpoint(id=endpoint_id, url="http://127.0.0.1:9/x",
                                        event_types=["#"], secret="s" * 30, description="",
                                        active=True, created_by="u-admin"))
        session.flush()
        # The partner that is down has a large backlog, older than the other's rows.
        from datetime import timedelta
        now = datetime.now(timezone.utc)
        for endpoint_id, count, due in (("down", 30, now - timedelta(minutes=10)),
                                        ("up", 3, now - timedelta(minutes=1))):
            for _ in range(count):
                session.add(WebhookDelivery(id=uuid.uuid4(), endpoint_id=endpoint_id,
                                            event_id=uuid.uuid4(), event_type="plan.created",
                                            envelope={}, status="pending", attempts=0,
                                            next_attempt_at=due))
            session.flush()
    with Session(engine) as session:
        claimed = webhooks.claim_due(session, limit=20, lease_s=60, per_endpoint=5)
    with engine.connect() as conn:
        by_id = dict(conn.execute(text("select id, endpoint_id from webhook_deliveries")).all())
    endpoints = [by_id[c.id] for c in claimed]
    assert endpoints.count("down") == 5 and endpoints.count("up") == 3


def _endpoint(patterns, active=True):
    return WebhookEndpoint(id=str(uuid.uuid4()), url="http://127.0.0.1:9/hooks",
                           event_types=patterns, secret="whsec_" + "x" * 30, active=active,
                           created_by="u-admin", scope=["/ML"])


def _binder(settings):
    from kombu import Connection
    with Connection(settings.amqp_uri) as conn:
        topology.EVENTS_EXCHANGE(conn.channel()).declare()
    return webhook_bindings.Broker(settings.amqp_uri, topology.Shape.of(settings))


def _routed(settings, *event_types) -> int:
    """How many of these events the webhook queue (with no consumer here) gets."""
    before = queue_depth(settings.amqp_uri, webhook_bindings.QUEUE)
    for event_type in event_types:
        publish_raw(settings.amqp_uri, {"type": event_type}, event_type)
    return queue_depth(settings.amqp_uri, webhook_bindings.QUEUE) - before


def test_the_webhook_queue_is_bound_only_to_what_active_endpoints_want(engines, settings):
    broker = _binder(settings)
    # As left by an older version (`#`), a since-disabled endpoint (evidence.*) and
    # a registration that crashed before its commit (action.*).
    broker.apply(bind={"#", "evidence.*", "action.*"})
    engine = engines["gateway"]
    with Session(engine) as session, session.begin():
        session.add_all([_endpoint(["plan.*", "checklist.submitted"]),
                         _endpoint(["plan.created"]), _endpoint(["evidence.*"], active=False),
                         WebhookBinding(routing_key="evidence.*"),
                         WebhookBinding(routing_key="action.*")])
    assert _routed(settings, "notification.failed") == 1  # `#`: everything, as before

    with Session(engine) as session, session.begin():
        bound, unbound = webhook_bindings.reconcile(session, broker)
    assert bound == {"plan.*", "plan.created", "checklist.submitted"}
    assert unbound == {"evidence.*", "action.*"}  # and `#`, always
    assert _routed(settings, "plan.created", "plan.completed", "checklist.submitted",
                   "evidence.uploaded", "action.overdue", "notification.failed") == 3
    with engine.connect() as conn:
        recorded = set(conn.execute(text("select routing_key from webhook_bindings")).scalars())
    assert recorded == bound
    with Session(engine) as session, session.begin():  # again: nothing changes
        assert webhook_bindings.reconcile(session, broker) == (bound, set())
    assert _routed(settings, "plan.agreed", "evidence.reviewed") == 1


def test_a_reconcile_waits_for_a_registration_that_has_bound_but_not_committed(
        engines, settings):
    """Two replicas: one registers (bound, not yet committed) while the other
    reconciles. The reconcile must not read the endpoints before that commit, or it
    would unbind the new endpoint's pattern."""
    import eventlet
    broker = _binder(settings)
    engine = engines["gateway"]
    registering = Session(engine)
    registering.begin()
    webhook_bindings.bind_for(registering, broker, ["plan.*"])
    registering.add(_endpoint(["plan.*"]))
    registering.flush()
    results = []

    def reconcile():
        with Session(engine) as session, session.begin():
            results.append(webhook_bindings.reconcile(session, broker))

    other_replica = eventlet.spawn(reconcile)
    eventlet.sleep(0.5)
    assert results == []  # waiting for the registration's commit
    registering.commit()
    registering.close()
    other_replica.wait()
    assert results == [({"plan.*"}, set())]
    assert _routed(settings, "plan.created", "notification.failed") == 1
