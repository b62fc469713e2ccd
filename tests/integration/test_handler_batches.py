"""Events that wait while a handler runs are handled together, and stay reliable.

A queue's deliveries that arrive while its worker is busy are handed to the next
worker as one batch (`c2p.entrypoints.Subscription`): one claim, one commit.
These tests fill a queue before its service starts, so its first worker takes a
batch, and show that batching keeps every guarantee of one event at a time:
each event has its effect once (copies included), in order, with its own
correlation id; a bad event is retried and parked alone while the others of its
batch are kept.
"""
from __future__ import annotations

import dataclasses
import uuid

from kombu import Connection
from nameko import config
from sqlalchemy import text

from c2p import deadletters, logs, metrics, topology
from c2p.contracts import REGISTRY, Event, latest_version
import support
from support import eventually, publish_raw, queue_depth, sample_data

QUEUE = "hmis.on_plan_created"
EVENT_TYPE = "plan.created"

SEEN: list[tuple[str, str, str]] = []  # (event id, its correlation id, the log context's)
POISON: set[str] = set()


def record(event):
    SEEN.append((str(event.id), event.correlation_id, logs.current.get()["correlation_id"]))
    if str(event.id) in POISON:
        raise RuntimeError("poison event")


def new_event() -> dict:
    version = latest_version(EVENT_TYPE)
    return Event(type=EVENT_TYPE, version=version, source="test",
                 correlation_id=f"visit-{uuid.uuid4().hex[:8]}",
                 data=sample_data(REGISTRY[(EVENT_TYPE, version)]())).to_wire()


def effects(engine) -> list[str]:
    with engine.connect() as conn:
        return [str(row[0]) for row in conn.execute(text(
            "select event_id from probe_effects where queue = :q"), {"q": QUEUE})]


def batches() -> tuple[float, float]:
    """(worker runs, events handed to them) of the queue so far."""
    histogram = metrics.HANDLER_BATCH.labels(QUEUE)
    return histogram._sum.get(), sum(b.get() for b in histogram._buckets)


def test_a_waiting_batch_is_handled_once_each_in_order_and_a_bad_event_alone(
        start_service, settings, engines):
    engine = engines["hmis"]
    support.probe_table(engine)
    amqp = settings.amqp_uri
    with Connection(amqp) as connection:  # the queue exists before its consumer runs
        topology.declare(connection, settings.retry_delays_ms, topology.Shape.of(settings))
    SEEN.clear()
    good = [new_event() for _ in range(12)]
    poison = new_event()
    POISON.clear()
    POISON.add(poison["id"])
    sent = [*good[:5], good[2], poison, good[2], *good[5:]]  # copies and a poison inside
    for wire in sent:
        publish_raw(amqp, wire, EVENT_TYPE, wire["id"])
    eventually(lambda: queue_depth(amqp, QUEUE) == len(sent))
    events_before, workers_before = batches()

    start_service(support.probe_service(QUEUE, record))

    parked = eventually(lambda: deadletters.list_parked(amqp, QUEUE), timeout=60)
    assert [p["message_id"] for p in parked] == [poison["id"]]
    assert parked[0]["attempts"] == len(settings.retry_delays_ms)
    assert "poison event" in parked[0]["error"]
    # Every good event had its effect exactly once, the copies none.
    assert sorted(effects(engine)) == sorted(w["id"] for w in good)
    eventually(lambda: queue_depth(amqp, QUEUE) == 0)
    # Handled in the order sent (the poison's batch was run again event by event).
    first_runs = list(dict.fromkeys(event_id for event_id, _, _ in SEEN))
    assert [i for i in first_runs if i != poison["id"]] == [w["id"] for w in good]
    # Each ran with its own correlation id, in its events and its log lines.
    wanted = {w["id"]: w["correlation_id"] for w in [*good, poison]}
    assert all(correlation == wanted[event_id] == logged
               for event_id, correlation, logged in SEEN)
    # And some worker did take several events at once.
    events, workers = batches()
    assert events - events_before > workers - workers_before


def test_one_event_at_a_time_when_the_batch_is_one(start_service, service_config, settings,
                                                   engines):
    # C2P_HANDLER_BATCH=1: every worker takes one event (the behaviour before batches).
    config["C2P_SETTINGS"] = dataclasses.replace(settings, handler_batch=1)
    engine = engines["hmis"]
    support.probe_table(engine)
    amqp = settings.amqp_uri
    with Connection(amqp) as connection:
        topology.declare(connection, settings.retry_delays_ms, topology.Shape.of(settings))
    SEEN.clear()
    POISON.clear()
    sent = [new_event() for _ in range(6)]
    for wire in sent:
        publish_raw(amqp, wire, EVENT_TYPE, wire["id"])
    events_before, workers_before = batches()
    start_service(support.probe_service(QUEUE, record))
    eventually(lambda: len(effects(engine)) == len(sent))
    events, workers = batches()
    assert events - events_before == workers - workers_before == len(sent)
