"""An upgrade that changes what a subscription queue is bound to loses nothing.

`c2p.topology.FORMER_BINDINGS` names the event types a queue was bound to in an
earlier release. For each such queue: a message of the former type waiting in the
queue when the new release starts is handled (not parked), the service unbinds
the former type when it declares the topology, and from then on an event of that
type no longer reaches the queue (it would wait there for ever: nobody subscribes
to it any more).
"""
from __future__ import annotations

import uuid

import eventlet
import pytest
from kombu import Connection
from sqlalchemy import text

from c2p import deadletters, topology
from c2p.contracts import REGISTRY, Event, latest_version
from c2p.entrypoints import subscribe
from c2p.service import PlatformService
from support import eventually, publish_raw, queue_depth, sample_data

SEEN: dict[str, list[str]] = {}


def probe_service(queue: str):
    """A service named like the queue's owner whose handler records each event's type."""
    service, method = queue.split(".", 1)

    def handler(self, event):
        SEEN.setdefault(queue, []).append(event.type)
        self.db.session.execute(text("insert into probe_effects (queue, event_id) "
                                     "values (:queue, :event_id)"),
                                {"queue": queue, "event_id": event.id})

    handler.__name__ = method
    return type(f"Former_{service}", (PlatformService,), {
        "name": service, method: subscribe(topology.SUBSCRIPTIONS[queue][0])(handler)})


def wire_of(event_type: str) -> dict:
    version = latest_version(event_type)
    return Event(type=event_type, version=version, source="an earlier release",
                 data=sample_data(REGISTRY[(event_type, version)]())).to_wire()


@pytest.mark.parametrize("queue", sorted(topology.FORMER_BINDINGS))
def test_a_former_binding_is_drained_then_removed(queue, start_service, settings, engines):
    service = queue.split(".", 1)[0]
    with engines[service].begin() as conn:
        conn.execute(text("create table if not exists probe_effects "
                          "(queue text not null, event_id uuid not null)"))
    amqp = settings.amqp_uri
    former = topology.FORMER_BINDINGS[queue]
    # The earlier release's broker: the queue, bound to its former types, with an
    # event of each waiting in it.
    with Connection(amqp) as conn:
        topology.subscription_queue(queue, topology.Shape.of(settings))(conn.channel()).declare()
        channel = conn.channel()
        for key in former:
            channel.queue_bind(queue, topology.EVENTS_EXCHANGE.name, key)
    waiting = [wire_of(key) for key in former]
    for wire in waiting:
        publish_raw(amqp, wire, wire["type"], wire["id"])
    assert queue_depth(amqp, queue) == len(waiting)

    SEEN[queue] = []
    start_service(probe_service(queue))  # the new release
    eventually(lambda: sorted(SEEN[queue]) == sorted(former))
    eventually(lambda: queue_depth(amqp, queue) == 0)
    assert deadletters.list_parked(amqp, queue) == []

    # Unbound: an event of a former type no longer reaches the queue...
    late = wire_of(former[0])
    publish_raw(amqp, late, late["type"], late["id"])
    # ...while one of the type it is bound to now does.
    current = next(t for t in (k for k, _ in REGISTRY)
                   if topology.topic_matches(topology.SUBSCRIPTIONS[queue][0], t))
    now = wire_of(current)
    publish_raw(amqp, now, now["type"], now["id"])
    eventually(lambda: current in SEEN[queue])
    eventlet.sleep(0.5)
    assert SEEN[queue].count(former[0]) == 1 and queue_depth(amqp, queue) == 0
    with engines[service].connect() as conn:
        assert conn.execute(text("select count(*) from probe_effects where event_id = :e"),
                            {"e": uuid.UUID(late["id"])}).scalar() == 0
