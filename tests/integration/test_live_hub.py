"""The live hub against the real broker (the gateway in this process): a gateway
with no open stream is sent no event at all; once a stream opens, the events its
user may see reach it from that moment."""
import json
import socket
import threading
import uuid
from datetime import datetime, timezone

import eventlet
import pytest
import requests

from c2p.contracts import Event
from gateway.live import LiveHub
from gateway.service import GatewayService
from support import eventually, publish_raw

NIONO_CEN = "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"


@pytest.fixture
def process_env(process_env):
    return {**process_env, "C2P_LIVE_HEARTBEAT_S": "1"}  # the stream notices a closed client


def plan_completed():
    return Event(type="plan.completed", source="test", data={
        "plan_id": uuid.uuid4(), "facility_id": "ML-SEG-NIO-CEN",
        "facility_name": "CSCom central de Niono", "facility_path": NIONO_CEN,
        "coach_id": "u-coach-niono", "coachee_ids": [],
        "completed_at": datetime.now(timezone.utc), "actions_done": 1, "actions_dropped": 0})


def test_no_stream_no_event_then_a_stream_gets_what_follows(start_service, service_config,
                                                           settings):
    container = start_service(GatewayService)
    hub = next(e for e in container.extensions if isinstance(e, LiveHub))
    base = f"http://{service_config['WEB_SERVER_ADDRESS']}"
    assert hub.wait_ready(10)

    unseen = plan_completed()
    publish_raw(settings.amqp_uri, unseen.to_wire(), "plan.completed")
    eventlet.sleep(0.5)  # time for it to arrive, were the queue bound
    assert hub.bound == set() and list(hub.recent) == []

    token = requests.post(f"{base}/api/v1/auth/token", timeout=10, json={
        "username": "coach.niono", "password": "demo-c2p-2025"}).json()["access_token"]
    response = requests.get(f"{base}/api/v1/live?access_token={token}", stream=True,
                            timeout=(5, 30))
    received = []

    def read():
        try:
            for line in response.iter_lines(decode_unicode=True):
                if line.startswith("data: "):
                    received.append(json.loads(line[len("data: "):])["id"])
        except Exception:
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        eventually(lambda: hub.streams)
        assert "plan.completed" in hub.bound and "account.created" not in hub.bound
        seen = plan_completed()
        publish_raw(settings.amqp_uri, seen.to_wire(), "plan.completed")
        eventually(lambda: received)
        assert received == [str(seen.id)]
    finally:  # shut the socket under the reader (closing the response is not allowed)
        response.raw.connection.sock.shutdown(socket.SHUT_RDWR)
        reader.join(5)
        response.close()
