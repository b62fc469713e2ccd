"""Events that wait while a handler runs are handled together, and stay reliable.

The deliveries to a service's queues that arrive while its worker is busy are
handed to the next worker as one batch (`c2p.entrypoints.ServiceBatches`): one
claim, one commit, whatever queues they came from. These tests fill queues
before their service starts, so its first worker takes a batch, and show that
batching keeps every guarantee of one event at a time: each event has its effect
once per subscription (copies included), in order, with its own correlation id;
a bad event is retried and parked alone, in its own queue, while the others of
its batch are kept.
"""
from __future__ import annotations

import dataclasses
import uuid

from kombu import Connection
from nameko import config
from sqlalchemy import Boolean, Column, Text, Uuid, text
from sqlalchemy.orm import declarative_base

from c2p import deadletters, logs, metrics, topology
from c2p.contracts import REGISTRY, Event, latest_version
from c2p.entrypoints import subscribe
from c2p.service import PlatformService
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


def new_event(event_type=EVENT_TYPE) -> dict:
    version = latest_version(event_type)
    return Event(type=event_type, version=version, source="test",
                 correlation_id=f"visit-{uuid.uuid4().hex[:8]}",
                 data=sample_data(REGISTRY[(event_type, version)]())).to_wire()


def prepared(settings, engines):
    """hmis's database with the probes' table, and the bus with every queue declared
    (so events wait in them before their consumer runs): (engine, AMQP URI)."""
    engine = engines["hmis"]
    support.probe_table(engine)
    with Connection(settings.amqp_uri) as connection:
        topology.declare(connection, settings.retry_delays_ms, topology.Shape.of(settings))
    return engine, settings.amqp_uri


def effects(engine) -> list[str]:
    with engine.connect() as conn:
        return [str(row[0]) for row in conn.execute(text(
            "select event_id from probe_effects where queue = :q"), {"q": QUEUE})]


def batches() -> tuple[float, float]:
    """(events handed to workers, worker runs) of the queue's service so far."""
    histogram = metrics.HANDLER_BATCH.labels(QUEUE.split(".")[0])
    return histogram._sum.get(), sum(b.get() for b in histogram._buckets)


def test_a_waiting_batch_is_handled_once_each_in_order_and_a_bad_event_alone(
        start_service, settings, engines):
    engine, amqp = prepared(settings, engines)
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
    engine, amqp = prepared(settings, engines)
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


# --- one worker for the events of several queues of a service -----------------------

VISIT_QUEUE, VISIT_TYPE = "hmis.on_checklist_submitted", "checklist.submitted"
MIXED: list[tuple[str, str, int]] = []  # (queue, event id, transaction id), in run order
LOGGED_AS: list[tuple[str, str]] = []  # (queue, the log context's entrypoint)


class ProbeEffect(declarative_base()):
    """A probe's effect as an ORM object, to change the way handlers do."""
    __tablename__ = "probe_effects"
    queue = Column(Text, primary_key=True)
    event_id = Column(Uuid, primary_key=True)
    checked = Column(Boolean, nullable=False, default=False)


class MixedProbe(PlatformService):
    """Two subscriptions of one service, each writing its effect with the id of the
    transaction it ran in, then changing it as an ORM object left for the commit to
    flush (as evidence settles the evidence of a closed action): what a handler
    changed must survive the next handler of its batch."""
    name = "hmis"

    def _effect(self, queue, event):
        if str(event.id) in POISON:
            raise RuntimeError("poison event")
        tx = self.db.session.execute(text("select txid_current()")).scalar_one()
        MIXED.append((queue, str(event.id), tx))
        LOGGED_AS.append((queue, logs.current.get()["entrypoint"]))
        self.db.session.execute(text("insert into probe_effects (queue, event_id) "
                                     "values (:queue, :event_id)"),
                                {"queue": queue, "event_id": event.id})
        self.db.session.get(ProbeEffect, (queue, event.id)).checked = True  # not flushed

    @subscribe(EVENT_TYPE)
    def on_plan_created(self, event):
        self._effect(QUEUE, event)

    @subscribe(VISIT_TYPE)
    def on_checklist_submitted(self, event):
        self._effect(VISIT_QUEUE, event)


def test_events_of_a_services_queues_share_a_worker_and_keep_their_guarantees(
        start_service, service_config, settings, engines):
    # The service's consumers start one after the other: the first worker waits a
    # moment (the linger) so that it finds both queues' deliveries.
    config["C2P_SETTINGS"] = dataclasses.replace(settings, handler_linger_ms=500)
    engine, amqp = prepared(settings, engines)
    MIXED.clear()
    LOGGED_AS.clear()
    POISON.clear()
    plans = [new_event() for _ in range(6)]
    visits = [new_event(VISIT_TYPE) for _ in range(6)]
    # An id that both queues receive is each subscription's own to handle.
    visits[0]["id"] = plans[0]["id"]
    for plan, visit in zip(plans, visits):
        publish_raw(amqp, plan, EVENT_TYPE, plan["id"])
        publish_raw(amqp, visit, VISIT_TYPE, visit["id"])
    for copy in (plans[2], visits[3]):  # a second delivery of each kind
        publish_raw(amqp, copy, copy["type"], copy["id"])
    eventually(lambda: queue_depth(amqp, QUEUE) == len(plans) + 1
               and queue_depth(amqp, VISIT_QUEUE) == len(visits) + 1)

    start_service(MixedProbe)

    expected = sorted([*((QUEUE, p["id"]) for p in plans),
                       *((VISIT_QUEUE, v["id"]) for v in visits)])
    eventually(lambda: done(engine, plans + visits) == expected)
    eventually(lambda: queue_depth(amqp, QUEUE) == queue_depth(amqp, VISIT_QUEUE) == 0)
    # Each subscription had each of its events' effect once, the copies none, and
    # every change a handler left unflushed was kept.
    assert done(engine, plans + visits) == expected
    assert done(engine, plans + visits, checked=True) == expected
    # Each queue's events ran in the order sent ...
    for queue, sent in ((QUEUE, plans), (VISIT_QUEUE, visits)):
        assert [e for q, e, _ in MIXED if q == queue] == [event["id"] for event in sent]
    # ... and one transaction held the events of both queues.
    queues_by_tx: dict[int, set] = {}
    for queue, _, tx in MIXED:
        queues_by_tx.setdefault(tx, set()).add(queue)
    assert any(len(queues) == 2 for queues in queues_by_tx.values())
    # Each handler logs as itself, whichever subscription the worker started from.
    assert all(queue == logged for queue, logged in LOGGED_AS)

    # A bad event among both queues' deliveries is retried and parked alone, in its
    # own queue; what came with it is kept.
    more_plans = [new_event() for _ in range(4)]
    more_visits = [new_event(VISIT_TYPE) for _ in range(4)]
    poison = new_event(VISIT_TYPE)
    POISON.add(poison["id"])
    for plan, visit in zip(more_plans, more_visits):
        publish_raw(amqp, visit, VISIT_TYPE, visit["id"])
        if visit is more_visits[1]:
            publish_raw(amqp, poison, VISIT_TYPE, poison["id"])
        publish_raw(amqp, plan, EVENT_TYPE, plan["id"])
    parked = eventually(lambda: deadletters.list_parked(amqp, VISIT_QUEUE), timeout=60)
    assert [p["message_id"] for p in parked] == [poison["id"]]
    assert deadletters.list_parked(amqp, QUEUE) == []
    expected += [*((QUEUE, p["id"]) for p in more_plans),
                 *((VISIT_QUEUE, v["id"]) for v in more_visits)]
    assert done(engine, plans + visits + more_plans + more_visits + [poison]) \
        == sorted(expected)


def done(engine, events, checked=False) -> list[tuple[str, str]]:
    """(queue, event id) of the effects written for these events (only those the
    handler's ORM change reached, if `checked`)."""
    ours = {event["id"] for event in events}
    with engine.connect() as conn:
        return sorted((row.queue, str(row.event_id)) for row in conn.execute(text(
            "select queue, event_id, checked from probe_effects"))
            if str(row.event_id) in ours and (row.checked or not checked))
