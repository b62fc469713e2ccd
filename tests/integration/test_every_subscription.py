"""The reliable-consumer tests, run over every subscription declared in
`c2p.topology.SUBSCRIPTIONS` (not only the planner's): for each queue, a probe
service with that service's name, database and handler name consumes a valid
event of a type the queue is bound to, and shows that

- a redelivered event (carrying a field this consumer does not know) has its
  effect once;
- a failing handler is retried through the delay queues and succeeds;
- a handler that keeps failing is parked after the last retry, and a replay
  after the fix has its effect once.

The services' own handlers are tested in their own files; this file proves that
the plumbing holds for every queue a handler may be added to.
"""
from __future__ import annotations

import uuid

import eventlet
import pytest
from kombu import Connection
from sqlalchemy import text

from c2p import deadletters, topology
from c2p.contracts import REGISTRY, Event, event_types, latest_version
import support
from support import eventually, publish_raw, queue_depth, sample_data

FAILURES: dict[str, int] = {}  # queue -> how many more times its handler fails
CALLS: dict[str, int] = {}


def probe_service(queue: str):
    """The queue's probe (`support.probe_service`), failing while FAILURES says so."""
    def count_and_maybe_fail(event):
        CALLS[queue] = CALLS.get(queue, 0) + 1
        if FAILURES.get(queue, 0) > 0:
            FAILURES[queue] -= 1
            raise RuntimeError("probe failure")
    return support.probe_service(queue, count_and_maybe_fail)


def effects(engine, queue, event_id) -> int:
    with engine.connect() as conn:
        return conn.execute(text("select count(*) from probe_effects where queue = :q "
                                 "and event_id = :e"), {"q": queue, "e": event_id}).scalar()


@pytest.mark.parametrize("queue", sorted(topology.SUBSCRIPTIONS))
def test_every_subscription_is_idempotent_retried_parked_and_replayed(
        queue, start_service, settings, engines):
    service = queue.split(".", 1)[0]
    engine = engines[service]
    support.probe_table(engine)
    event_type = next(t for t in event_types()
                      if topology.topic_matches(topology.SUBSCRIPTIONS[queue][0], t))
    version = latest_version(event_type)
    FAILURES[queue], CALLS[queue] = 0, 0
    start_service(probe_service(queue))
    amqp = settings.amqp_uri
    if queue in topology.BOUND_AT_RUN_TIME:  # its service binds it; the probe does here
        with Connection(amqp) as conn:
            conn.channel().queue_bind(queue, topology.EVENTS_EXCHANGE.name, event_type)

    def publish(wire, times=1):
        for _ in range(times):
            publish_raw(amqp, wire, event_type, wire["id"])

    def new_event():
        return Event(type=event_type, version=version, source="test",
                     data=sample_data(REGISTRY[(event_type, version)]())).to_wire()

    # Redelivered three times, with a field this consumer's contract does not know.
    wire = new_event()
    wire["data"]["added_by_a_newer_producer"] = "ignored"
    publish(wire, times=3)
    eventually(lambda: effects(engine, queue, uuid.UUID(wire["id"])) == 1)
    eventually(lambda: queue_depth(amqp, queue) == 0)
    eventlet.sleep(0.3)  # any delivery still being handled finishes
    assert effects(engine, queue, uuid.UUID(wire["id"])) == 1
    assert deadletters.list_parked(amqp, queue) == []

    # Failing until the last retry: retried through the delay queues, then done.
    retries = len(settings.retry_delays_ms)
    wire, CALLS[queue], FAILURES[queue] = new_event(), 0, retries
    publish(wire)
    eventually(lambda: effects(engine, queue, uuid.UUID(wire["id"])) == 1)
    assert CALLS[queue] == retries + 1
    assert deadletters.list_parked(amqp, queue) == []

    # Failing for good: parked after the last retry; replayed once fixed.
    wire, CALLS[queue], FAILURES[queue] = new_event(), 0, 10 ** 6
    publish(wire)
    parked = eventually(lambda: deadletters.list_parked(amqp, queue))
    assert parked[0]["message_id"] == wire["id"]
    assert parked[0]["attempts"] == retries and "probe failure" in parked[0]["error"]
    assert CALLS[queue] == retries + 1 and effects(engine, queue, uuid.UUID(wire["id"])) == 0
    FAILURES[queue] = 0
    assert [r["message_id"] for r in deadletters.replay(amqp, queue)] == [wire["id"]]
    eventually(lambda: effects(engine, queue, uuid.UUID(wire["id"])) == 1)
    assert deadletters.list_parked(amqp, queue) == []
