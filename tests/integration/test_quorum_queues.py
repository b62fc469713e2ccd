"""Quorum queues: the delivery limit parks what kills its consumer, and moving a
deployment's classic queues to quorum queues loses no message.

For the migration, the bus is first declared as before quorum queues (classic), with messages
waiting in a subscription queue, a parked queue, a delay queue and an RPC
queue. `python -m c2p.queues migrate` runs as operators run it. Afterwards
every queue is a quorum queue, holds the same messages, no holding queue is
left, and the new planner consumes what waited.
"""
import json
import subprocess
import sys
import uuid
from urllib.parse import quote, unquote, urlsplit

import pytest
import requests
from kombu import Connection, Queue

from c2p import topology
from c2p import deadletters
from c2p.bus import Bus
from c2p.config import load_settings
from c2p.queues import target_queues
from planner.service import PlannerService
from support import ROOT, eventually, queue_depth

CLASSIC = topology.Shape("classic")
LONG_DELAY = 600000  # the delayed message must still wait when we look


def envelope(submission_id):
    return {"id": str(uuid.uuid4()), "type": "checklist.submitted", "version": 1,
            "occurred_at": "2026-11-20T10:00:00+00:00", "source": "checklist",
            "correlation_id": "migration-test",
            "data": {"submission_id": submission_id}}


def queue_types(infra, amqp_uri) -> dict:
    """{queue: type} as the broker reports it (management API, else rabbitmqctl)."""
    vhost = unquote(urlsplit(amqp_uri).path[1:])
    if infra["rabbit_api"]:
        rows = requests.get(f"{infra['rabbit_api']}/api/queues/{quote(vhost, safe='')}",
                            timeout=10).json()
        return {row["name"]: row["type"] for row in rows}
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type",
                          "--no-table-headers"], capture_output=True, text=True, check=True)
    return dict(line.split("\t")[:2] for line in out.stdout.splitlines() if "\t" in line)


def bodies(amqp_uri, name):
    """Message bodies of a queue, left in place."""
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        found = []
        while (message := Queue(name, no_declare=True)(channel).get(no_ack=False)) is not None:
            found.append(message.body if isinstance(message.body, str)
                         else message.body.decode())
        channel.close()
        return sorted(found)


@pytest.mark.slow
def test_classic_queues_become_quorum_without_losing_a_message(infra, process_env,
                                                               start_service):
    env = {**process_env, "C2P_RETRY_DELAYS_S": str(LONG_DELAY // 1000)}
    settings = load_settings(env)
    amqp_uri = settings.amqp_uri
    subscription = "planner.on_checklist_submitted"
    with Connection(amqp_uri) as conn:
        topology.declare(conn, [LONG_DELAY], CLASSIC)
        topology.rpc_queue("notify", CLASSIC)(conn.channel()).declare()

    bus = Bus(amqp_uri)
    try:
        waiting = [envelope(str(uuid.uuid4())) for _ in range(3)]
        for event in waiting:  # to every subscriber of checklist.submitted
            bus.publish(event, exchange=topology.EVENTS_EXCHANGE.name,
                        routing_key="checklist.submitted", message_id=event["id"])
        bus.publish({"not": "an event"}, exchange="", routing_key=f"{subscription}.parked",
                    message_id="parked-1", headers={"x-c2p-error": "invalid envelope"})
        bus.publish(envelope("delayed"), exchange=f"c2p.delay.{LONG_DELAY}",
                    routing_key=subscription, headers={"x-c2p-attempts": 1})
        bus.publish({"args": [], "kwargs": {}}, exchange="nameko-rpc",
                    routing_key="notify.unread_count", message_id="rpc-1")
    finally:
        bus.close()
    queues = {q.name: q for q in target_queues(settings)}
    watched = [subscription, f"{subscription}.parked", f"c2p.delay.{LONG_DELAY}",
               "rpc-notify", "notify.on_checklist_submitted"]
    before = {name: bodies(amqp_uri, name) for name in watched}
    assert [len(before[name]) for name in watched] == [3, 1, 1, 1, 3]
    assert {queue_types(infra, amqp_uri)[name] for name in watched} == {"classic"}

    status = subprocess.run([sys.executable, "-m", "c2p.queues", "status", "--json"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert status.returncode == 1  # queues to migrate
    assert {r["queue"]: r["state"] for r in json.loads(status.stdout)}[subscription] == \
        "migrate"
    done = subprocess.run([sys.executable, "-m", "c2p.queues", "migrate", "--json"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = {r["queue"]: r for r in json.loads(done.stdout)}
    assert results[subscription] == {"queue": subscription, "result": "migrated", "moved": 3}

    types = queue_types(infra, amqp_uri)
    assert {name: types[name] for name in queues if name in types} == {
        name: "quorum" for name in queues if name in types}
    assert not [name for name in types if name.endswith(".migrating")]
    for name in watched:
        assert bodies(amqp_uri, name) == before[name], name
    again = subprocess.run([sys.executable, "-m", "c2p.queues", "status"], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout

    # The new code starts on the migrated queues (it would fail to declare them
    # had they stayed classic) and consumes what waited there.
    start_service(PlannerService)
    eventually(lambda: queue_depth(amqp_uri, subscription) == 0, timeout=30)


def test_a_message_whose_consumer_keeps_dying_is_parked_by_the_broker(amqp_uri):
    """The second poison guard: no handler code runs to count attempts when the
    process dies with the message, so the broker counts deliveries itself."""
    subscription = "notify.on_plan_created"
    with Connection(amqp_uri) as conn:
        topology.declare(conn, [LONG_DELAY], topology.Shape("quorum", delivery_limit=2))
    bus = Bus(amqp_uri)
    try:
        bus.publish(envelope("killer"), exchange="", routing_key=subscription,
                    message_id="kills-its-consumer")
    finally:
        bus.close()
    deliveries = 0
    for _ in range(10):
        with Connection(amqp_uri) as conn:  # a consumer that dies holding it
            message = Queue(subscription, no_declare=True)(conn.channel()).get(no_ack=False)
            if message is None:
                break
            deliveries += 1
        eventually(lambda: queue_depth(amqp_uri, subscription)
                   + queue_depth(amqp_uri, f"{subscription}.parked") == 1, timeout=10)
    assert deliveries == 3  # the first delivery and two more: the limit
    parked = eventually(lambda: deadletters.list_parked(amqp_uri, subscription), timeout=10)
    assert [p["message_id"] for p in parked] == ["kills-its-consumer"]
    assert "delivery_limit" in parked[0]["error"]


def test_classic_mode_for_an_old_single_node_broker_runs_the_cycle(infra, service_config,
                                                                   start_service, engines):
    """C2P_QUEUE_TYPE=classic: the queues as before quorum queues, same behaviour."""
    import dataclasses
    from nameko import config
    from checklist.service import ChecklistService
    from support import COACH_NIONO, rpc_client, sample_submission
    from test_reliable_events import count
    settings = dataclasses.replace(service_config["C2P_SETTINGS"], queue_type="classic")
    with config.patch({"C2P_SETTINGS": settings}):
        start_service(ChecklistService)
        start_service(PlannerService)
        with rpc_client("checklist") as client:
            client.submit_checklist(sample_submission(), COACH_NIONO)
        eventually(lambda: count(engines["planner"], "select count(*) from plans") == 1)
    types = queue_types(infra, settings.amqp_uri)
    assert types["planner.on_checklist_submitted"] == "classic"
    assert types["rpc-checklist"] == "classic"
    assert set(types.values()) == {"classic"}
