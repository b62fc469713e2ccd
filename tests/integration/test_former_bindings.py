"""An upgrade that changes what a subscription queue is bound to loses nothing and
handles nothing twice, whatever the order in which the services are upgraded.

`c2p.topology.FORMER_BINDINGS` names the event types a queue was bound to in an
earlier release. A new broker never binds them. On an upgraded broker they stay
bound until `python -m c2p.queues retire`: meanwhile the subscription handles an
event of a former type from an older producer (no `batched` in its data), acks
unhandled one that a newer producer also put in a batch (`batched`), and handles
the batch; once retired, the former type no longer reaches the queue.
"""
from __future__ import annotations

import uuid

import eventlet
import pytest
from kombu import Connection
from sqlalchemy import text

from c2p import deadletters, topology
from c2p.contracts import REGISTRY, Event, latest_version
import support
from support import eventually, publish_raw, queue_depth, sample_data

SEEN: dict[str, list[str]] = {}


def probe_service(queue: str):
    """The queue's probe (`support.probe_service`), recording each event's type."""
    return support.probe_service(queue, lambda event: SEEN.setdefault(queue, []).append(
        event.type), prefix="Former")


def wire_of(event_type: str, **data) -> dict:
    version = latest_version(event_type)
    return Event(type=event_type, version=version, source="a release",
                 data={**sample_data(REGISTRY[(event_type, version)]()), **data}).to_wire()


def bound_keys(amqp, queue) -> set:
    """The routing keys `queue` is bound to on c2p.events, read back from the broker."""
    import subprocess
    vhost = amqp.rsplit("/", 1)[1]
    from urllib.parse import unquote
    out = subprocess.run(["rabbitmqctl", "-q", "list_bindings", "-p", unquote(vhost),
                          "source_name", "destination_name", "routing_key",
                          "--no-table-headers"], capture_output=True, text=True, check=True)
    return {line.split("\t")[2] for line in out.stdout.splitlines()
            if line.startswith("c2p.events\t") and line.split("\t")[1] == queue}


@pytest.mark.parametrize("queue", sorted(topology.FORMER_BINDINGS))
def test_a_former_binding_keeps_older_producers_heard_until_retired(
        queue, start_service, settings, engines):
    service = queue.split(".", 1)[0]
    support.probe_table(engines[service])
    amqp = settings.amqp_uri
    former = topology.FORMER_BINDINGS[queue]
    # The earlier release's broker: the queue bound to its former types.
    with Connection(amqp) as conn:
        topology.subscription_queue(queue, topology.Shape.of(settings))(conn.channel()).declare()
        assert not bound_keys(amqp, queue) & set(former)  # a new broker: never bound
        channel = conn.channel()
        for key in former:
            channel.queue_bind(queue, topology.EVENTS_EXCHANGE.name, key)
    SEEN[queue] = []
    start_service(probe_service(queue))  # the new release beside an older producer
    assert set(former) <= bound_keys(amqp, queue)  # starting unbinds nothing

    older = [wire_of(key) for key in former]  # an older producer: no `batched`
    newer = [wire_of(key, batched=True) for key in former]  # a newer one: in a batch too
    current = next(t for t in (k for k, _ in REGISTRY)
                   if topology.topic_matches(topology.SUBSCRIPTIONS[queue][0], t))
    batch = wire_of(current)
    for wire in [*older, *newer, batch]:
        publish_raw(amqp, wire, wire["type"], wire["id"])
    eventually(lambda: sorted(SEEN[queue]) == sorted([*former, current]))
    eventually(lambda: queue_depth(amqp, queue) == 0)
    eventlet.sleep(0.5)
    assert sorted(SEEN[queue]) == sorted([*former, current])  # the batched ones: not handled
    assert deadletters.list_parked(amqp, queue) == []
    with engines[service].connect() as conn:
        for wire in newer:
            assert conn.execute(text("select count(*) from probe_effects where event_id = :e"),
                                {"e": uuid.UUID(wire["id"])}).scalar() == 0

    # Retired (python -m c2p.queues retire): the former types no longer reach it.
    with Connection(amqp) as conn:
        assert set(topology.retire_former_bindings(conn)) >= {(queue, key) for key in former}
    assert not bound_keys(amqp, queue) & set(former)
    late = wire_of(former[0])
    publish_raw(amqp, late, late["type"], late["id"])
    eventlet.sleep(0.5)
    assert queue_depth(amqp, queue) == 0 and SEEN[queue].count(former[0]) == 1
