"""Live updates across two gateway replicas: every client, on either replica,
gets each event it may see exactly once; a coach in Kayes never sees Niono's."""
import json
import socket
import threading
import time
import uuid
from datetime import datetime, timezone

import pytest
import requests

from c2p.contracts import Event
from c2p.processes import LocalPlatform
from support import eventually, publish_raw, sample_submission

API = "/api/v1"


@pytest.fixture
def replicas(process_env, tmp_path):
    """The platform with two gateway processes (same vhost, same database)."""
    env = {**process_env, "C2P_LIVE_HEARTBEAT_S": "1"}
    running = LocalPlatform(env, str(tmp_path / "logs"), replicas={"gateway": 2}).start()
    yield [f"http://127.0.0.1:{port}" for port in running.gateway_ports]
    stuck = running.stop()
    assert not stuck, f"did not stop on SIGTERM within 15 s: {stuck}"


def token(base, username):
    response = requests.post(f"{base}{API}/auth/token",
                             json={"username": username, "password": "demo-c2p-2025"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


class SseClient:
    """Reads an event stream in the background, as a browser's EventSource would."""

    def __init__(self, url, headers=None):
        self.events, self.comments = [], []
        self.response = requests.get(url, headers=headers or {}, stream=True, timeout=(5, 30))
        assert self.response.status_code == 200, self.response.text
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        buffer = ""
        try:
            # chunk_size=None: hand over each chunk as it arrives (a stream never ends).
            for chunk in self.response.iter_content(chunk_size=None, decode_unicode=True):
                buffer += chunk
                while "\n\n" in buffer:
                    message, buffer = buffer.split("\n\n", 1)
                    self._parse(message)
        except Exception:
            pass  # closed by the test

    def _parse(self, message):
        fields = {}
        for line in message.split("\n"):
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
            elif ":" in line:
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
        if "data" in fields:
            self.events.append((fields.get("id"), fields.get("event"),
                                json.loads(fields["data"])))

    def of_type(self, event_type):
        return [e for e in self.events if e[1] == event_type]

    def close(self):
        # Shut the socket down (closing the response under its reader is not allowed);
        # the reader then sees the end of the stream and stops.
        connection = self.response.raw.connection
        if connection is not None and connection.sock is not None:
            connection.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(5)
        self.response.close()


def kayes_plan_completed():
    now = datetime.now(timezone.utc)
    return Event(type="plan.completed", source="test", data={
        "plan_id": uuid.uuid4(), "facility_id": "ML-KAY-KAY-LAF",
        "facility_name": "CSCom de Lafiabougou", "coach_id": "u-coach-kayes",
        "facility_path": "/ML/ML-KAY/ML-KAY-KAY/ML-KAY-KAY-LAF", "coachee_ids": [],
        "completed_at": now, "actions_done": 2, "actions_dropped": 0})


@pytest.mark.slow
def test_each_replica_streams_each_event_once_and_only_within_scope(replicas, settings):
    first, second = replicas
    niono_token = token(first, "coach.niono")
    kayes_token = token(second, "coach.kayes")
    # One Niono client per replica (header and ?access_token=), Kayes on the second.
    niono_1 = SseClient(f"{first}{API}/live",
                        headers={"Authorization": f"Bearer {niono_token}"})
    niono_2 = SseClient(f"{second}{API}/live?access_token={niono_token}")
    kayes = SseClient(f"{second}{API}/live?access_token={kayes_token}")
    clients = (niono_1, niono_2, kayes)
    try:
        # The stream is open (headers and the first comment already flushed).
        eventually(lambda: all("connected" in c.comments for c in clients))

        submission = sample_submission()
        response = requests.post(f"{first}{API}/submissions", json=submission, timeout=10,
                                 headers={"Authorization": f"Bearer {niono_token}"})
        assert response.status_code == 201, response.text
        for client in (niono_1, niono_2):
            eventually(lambda: client.of_type("checklist.submitted")
                       and client.of_type("plan.created"), timeout=20)
        event = kayes_plan_completed()
        publish_raw(settings.amqp_uri, event.to_wire(), "plan.completed", str(event.id))
        eventually(lambda: kayes.of_type("plan.completed"))
        eventually(lambda: all("keep-alive" in c.comments for c in clients), timeout=5)
        time.sleep(1)  # room for a duplicate or a leak to show up

        for client in (niono_1, niono_2):
            submitted = client.of_type("checklist.submitted")
            assert len(submitted) == 1
            assert submitted[0][2]["data"]["submission_id"] == submission["id"]
            assert submitted[0][0] == submitted[0][2]["id"]  # SSE id = event id
            assert len(client.of_type("plan.created")) == 1
            assert client.of_type("plan.completed") == []  # Kayes's, not theirs
            assert len({e[0] for e in client.events}) == len(client.events)
        assert [e[0] for e in niono_1.events] == [e[0] for e in niono_2.events]
        # Kayes got its own event (and its own notifications), nothing of Niono's.
        assert [e[2]["id"] for e in kayes.of_type("plan.completed")] == [str(event.id)]
        for _, event_type, envelope in kayes.events:
            data = envelope["data"]
            if "facility_path" in data:
                assert data["facility_path"].startswith("/ML/ML-KAY/ML-KAY-KAY/"), event_type
            else:
                assert data["recipient_id"] == "u-coach-kayes", event_type
        assert not kayes.of_type("checklist.submitted") and not kayes.of_type("plan.created")
        # Reconnecting to the *other* replica with Last-Event-ID replays what followed.
        submitted_id = niono_1.of_type("checklist.submitted")[0][0]
        resumed = SseClient(f"{second}{API}/live?access_token={niono_token}",
                            headers={"Last-Event-ID": submitted_id})
        clients += (resumed,)
        eventually(lambda: resumed.of_type("plan.created"))
        assert resumed.of_type("checklist.submitted") == []
        assert resumed.of_type("plan.created") == niono_1.of_type("plan.created")
    finally:
        for client in clients:
            client.close()

    # Without a valid token there is no stream.
    assert requests.get(f"{first}{API}/live", timeout=10).status_code == 401
    assert requests.get(f"{second}{API}/live?access_token=forged.token.here",
                        timeout=10).status_code == 401
