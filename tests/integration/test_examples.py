"""The subscriber kit's examples (examples/) against the real thing.

- The TB programme's subscriber reads its own queue on the real broker as a
  RabbitMQ user that may read only that queue (set up as the guide says), checks
  events against C2P's AsyncAPI document, counts flagged visits per district once
  each, and parks what it cannot understand (a new version, a broken message).
- The webhook receiver takes real deliveries from the gateway (in this process),
  and refuses forged, tampered or replayed ones.
"""
import copy
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from amqp import Message
from amqp.exceptions import AccessRefused
from kombu import Connection, Exchange, Queue, binding

from c2p import topology
from c2p.contracts import Event
from gateway import webhooks
from gateway.openapi import build_asyncapi
from gateway.service import GatewayService
from support import eventually, free_port, publish_raw

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import tb_flagged_visits  # noqa: E402
import webhook_receiver  # noqa: E402

QUEUE = "tb.flagged_visits"


@pytest.fixture
def process_env(process_env):
    # The receiver listens on localhost, which webhooks refuse unless allowed.
    return {**process_env, "C2P_WEBHOOK_INTERVAL_MS": "100",
            "C2P_WEBHOOK_ALLOW_PRIVATE": "true"}


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)


@pytest.fixture
def tb_user(amqp_uri):
    """The operator's steps of examples/README.md: the queue, its binding and
    dead-letter queue, and a user who may only read that queue, in this vhost."""
    vhost = amqp_uri.rsplit("/", 1)[1]
    with Connection(amqp_uri) as conn:
        topology.declare(conn, (1000,))
        channel = conn.channel()
        Queue(f"{QUEUE}.parked", exchange=Exchange(""), routing_key=f"{QUEUE}.parked",
              durable=True)(channel).declare()
        Queue(QUEUE, durable=True, bindings=[binding(topology.EVENTS_EXCHANGE,
                                                     routing_key="checklist.submitted")],
              queue_arguments={"x-dead-letter-exchange": "",
                               "x-dead-letter-routing-key": f"{QUEUE}.parked"})(
            channel).declare()
    user, password = f"tb-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    rabbitmqctl("add_user", user, password)
    from urllib.parse import unquote
    rabbitmqctl("set_permissions", "-p", unquote(vhost), user, "^$", "^$",
                f"^{QUEUE.replace('.', chr(92) + '.')}$")
    yield amqp_uri.replace("guest:guest@", f"{user}:{password}@")
    rabbitmqctl("delete_user", user)


def submitted(path, flagged, version=2, **data):
    now = datetime.now(timezone.utc)
    event = Event(type="checklist.submitted", source="checklist", data={
        "submission_id": uuid.uuid4(), "facility_id": path.rsplit("/", 1)[1],
        "facility_name": "CSCom", "facility_path": path, "coach_id": "u-coach",
        "coachees": [], "template_code": "pev-mini", "template_version": 1,
        "visited_at": now, "received_at": now,
        "score": {"percent": 40.0, "points": 2, "max_points": 5, "colour": "red",
                  "flagged": flagged, "sections": []}, "gaps": []})
    wire = event.to_wire()          # version 1 on the wire
    wire["version"] = version
    if version >= 2:
        wire["data"].update(passed_items=[], dtc_id=None)
    wire["data"].update(data)
    return wire


def test_tb_subscriber_counts_flagged_visits_per_district_from_its_own_queue(amqp_uri,
                                                                            tb_user):
    niono = "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"
    kayes = "/ML/ML-KAY/ML-KAY-KAY/ML-KAY-KAY-LAF"
    twice = submitted(niono, True)
    events = [submitted(niono, True, version=1), twice, twice, submitted(niono, False),
              submitted(kayes, True)]
    newer = submitted(kayes, True, version=3, district_code="KAY")  # not published yet
    broken = submitted(kayes, True)
    del broken["data"]["score"]
    for wire in events + [newer, broken]:
        publish_raw(amqp_uri, wire, "checklist.submitted", wire["id"])   # as C2P does

    counter = tb_flagged_visits.FlaggedVisits(tb_flagged_visits.Validators(build_asyncapi()))
    tb_flagged_visits.consume(tb_user, QUEUE, counter, idle_s=1.5)
    assert dict(counter.by_district) == {"ML-SEG-NIO": 2, "ML-KAY-KAY": 1}
    parked = dict(counter.parked)
    assert "checklist.submitted.v3 is not in the AsyncAPI document" in parked[newer["id"]]
    assert "'score' is a required property" in parked[broken["id"]]
    with Connection(amqp_uri) as conn:   # dead-lettered to the programme's parked queue
        waiting = Queue(f"{QUEUE}.parked")(conn.channel()).queue_declare(passive=True)
        assert waiting.message_count == 2

    # The programme's user may read its queue and nothing else.
    with Connection(tb_user) as conn, pytest.raises(AccessRefused):
        Queue("planner.on_checklist_submitted", no_declare=True)(conn.channel()).get()
    with Connection(tb_user) as conn, pytest.raises(AccessRefused):
        Queue("tb.mine", durable=True)(conn.channel()).declare()
    with Connection(tb_user) as conn, pytest.raises(AccessRefused):
        channel = conn.default_channel
        channel.basic_publish(Message(b"{}"), exchange=topology.EVENTS_EXCHANGE.name,
                              routing_key="checklist.submitted")
        channel.queue_declare(QUEUE, passive=True)   # the refusal comes with the next reply


def test_a_version_the_subscriber_was_not_written_for_is_parked_even_if_valid():
    # C2P publishes version 3 (here: the same data, the version number moved on).
    document = copy.deepcopy(build_asyncapi())
    schemas, messages = document["components"]["schemas"], document["components"]["messages"]
    schemas["checklist.submitted.v3"] = copy.deepcopy(schemas["checklist.submitted.v2"])
    schemas["checklist.submitted.v3"]["properties"]["version"]["const"] = 3
    messages["checklist.submitted.v3"] = {
        **messages["checklist.submitted.v2"],
        "payload": {"$ref": "#/components/schemas/checklist.submitted.v3"}}
    validators = tb_flagged_visits.Validators(document)
    counter = tb_flagged_visits.FlaggedVisits(validators)
    outcome, why = counter.handle(submitted("/ML/ML-SEG/ML-SEG-NIO/X", True, version=3))
    assert outcome == "park" and "written for [1, 2]" in why


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    app = webhook_receiver.Receiver(["whsec_old"])
    server = make_server("127.0.0.1", free_port(), app, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.url = f"http://127.0.0.1:{server.server_port}/c2p"
    yield app
    server.shutdown()


def test_webhook_receiver_takes_real_deliveries_and_refuses_forged_ones(
        start_service, service_config, settings, receiver):
    start_service(GatewayService)
    base = f"http://{service_config['WEB_SERVER_ADDRESS']}/api/v1"
    token = requests.post(f"{base}/auth/token", timeout=10, json={
        "username": "admin", "password": "demo-c2p-2025"}).json()["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    endpoint = requests.post(f"{base}/webhooks", headers=admin, timeout=10, json={
        "id": str(uuid.uuid4()), "url": receiver.url,
        "event_types": ["checklist.submitted"]}).json()
    receiver.secrets.append(endpoint["secret"])

    wire = submitted("/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN", True)
    for _ in range(2):   # the bus redelivers
        publish_raw(settings.amqp_uri, wire, "checklist.submitted", wire["id"])
    eventually(lambda: receiver.events, timeout=20)
    assert [e["id"] for e in receiver.events] == [wire["id"]]

    # Forged, tampered and replayed deliveries are refused; a repeat is taken once.
    body = webhooks.encode(wire)
    good = webhooks.signed_headers(wire, endpoint["secret"], body)
    post = lambda data, headers: requests.post(receiver.url, data=data,  # noqa: E731
                                               headers=headers, timeout=5).status_code
    assert post(body, good) == 204
    assert post(body.replace(b"true", b"false"), good) == 401
    assert post(body, webhooks.signed_headers(wire, "whsec_someone_else", body)) == 401
    stale = webhooks.signed_headers(wire, endpoint["secret"], body, now=time.time() - 3600)
    assert post(body, stale) == 401
    assert post(body, {k: v for k, v in good.items() if k != "C2P-Signature"}) == 401
    assert post(b"not json", webhooks.signed_headers(wire, endpoint["secret"],
                                                     b"not json")) == 400
    assert len(receiver.events) == 1
