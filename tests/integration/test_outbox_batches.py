"""Outbox rows go out in batches with one wait for the broker's confirms; what the
broker does not confirm stays unpublished for the relay, and nothing is lost.

The broker refuses a message for real here: a queue of this test's vhost that is
full and set to `reject-publish` makes RabbitMQ nack what is routed to it.
"""
import json
import uuid

import pytest
from kombu import Connection, Queue
from sqlalchemy import insert, text

from c2p import topology
from c2p.bus import Bus, Message, NotConfirmed
from c2p.database import SentMarks, outbox, publish_pending, publish_rows
from support import eventually, queue_depth

REFUSED = "test.refused"


@pytest.fixture
def bus(settings):
    with Connection(settings.amqp_uri) as conn:
        topology.declare(conn, settings.retry_delays_ms, topology.Shape.of(settings))
    made = Bus(settings.amqp_uri)
    yield made
    made.close()


@pytest.fixture
def full_queue(settings):
    """A queue bound to `test.refused` that is full and nacks whatever else comes."""
    name = f"test-full-{uuid.uuid4().hex[:6]}"
    with Connection(settings.amqp_uri) as conn:
        Queue(name, exchange=topology.EVENTS_EXCHANGE, routing_key=REFUSED, durable=True,
              queue_arguments={"x-queue-type": "classic", "x-max-length": 1,
                               "x-overflow": "reject-publish"})(conn.channel()).declare()
    Bus(settings.amqp_uri).publish(b"{}", exchange="", routing_key=name)
    return name


def tap_queue(amqp_uri, routing_key):
    name = f"test-tap-{uuid.uuid4().hex[:6]}"
    with Connection(amqp_uri) as conn:
        Queue(name, exchange=topology.EVENTS_EXCHANGE, routing_key=routing_key,
              durable=False)(conn.channel()).declare()
    return name


def add_rows(engine, types):
    rows = [{"id": uuid.uuid4(), "type": kind,
             "envelope": {"id": "x", "type": kind, "n": i}} for i, kind in enumerate(types)]
    with engine.begin() as conn:
        conn.execute(insert(outbox), rows)
    return [row["id"] for row in rows]


def unpublished(engine):
    with engine.connect() as conn:
        return {row.id: row.attempts for row in conn.execute(text(
            "select id, attempts from outbox where published_at is null"))}


def test_a_batch_reports_which_messages_the_broker_confirmed(settings, bus, full_queue):
    kept = tap_queue(settings.amqp_uri, "test.kept")
    messages = [Message(json.dumps({"n": i}).encode(), topology.EVENTS_EXCHANGE.name, key)
                for i, key in enumerate(["test.kept", REFUSED, "test.kept", "test.kept"])]
    with pytest.raises(NotConfirmed) as refused:
        bus.publish_all(messages)
    assert refused.value.confirmed == {0, 2, 3}
    assert queue_depth(settings.amqp_uri, kept) == 3
    # The channel is usable again afterwards.
    bus.publish_all(messages[:1])
    assert queue_depth(settings.amqp_uri, kept) == 4


def test_rows_the_broker_refuses_stay_for_the_relay(settings, engines, bus, full_queue):
    engine = engines["planner"]
    kept = tap_queue(settings.amqp_uri, "test.kept")
    ids = add_rows(engine, ["test.kept", REFUSED, "test.kept"])
    with pytest.raises(NotConfirmed):
        publish_pending(engine, bus)
    # The confirmed rows are marked sent; the refused one is not, one attempt counted.
    assert unpublished(engine) == {ids[1]: 1}
    assert queue_depth(settings.amqp_uri, kept) == 2

    # The broker takes it again: the next relay pass sends it, and only it.
    with Connection(settings.amqp_uri) as conn:
        conn.channel().queue_purge(full_queue)
    assert publish_pending(engine, bus) == 1
    assert unpublished(engine) == {}
    assert queue_depth(settings.amqp_uri, full_queue) == 1
    assert queue_depth(settings.amqp_uri, kept) == 2


class DropsMidBatch:
    """A bus whose connection drops after the broker confirmed the first message."""

    def publish_all(self, messages):
        raise NotConfirmed({0}, len(messages), "ConnectionResetError: connection dropped")


def test_a_broker_drop_mid_batch_leaves_the_unconfirmed_rows_unpublished(engines):
    engine = engines["planner"]
    ids = add_rows(engine, ["test.kept"] * 4)
    with pytest.raises(NotConfirmed):
        publish_pending(engine, DropsMidBatch())
    assert unpublished(engine) == {ids[1]: 1, ids[2]: 1, ids[3]: 1}


def test_a_crash_while_publishing_leaves_every_row_unpublished(engines):
    # Rows are marked sent in the transaction that publishes them: if anything but
    # the broker's answer goes wrong, the whole mark is rolled back.
    engine = engines["planner"]
    add_rows(engine, ["test.kept"] * 3)

    class Crashes:
        def publish_all(self, messages):
            raise RuntimeError("process dying")

    with pytest.raises(RuntimeError):
        publish_pending(engine, Crashes())
    assert len(unpublished(engine)) == 3


def test_the_relay_sends_hundreds_of_rows_in_batches_skipping_locked_ones(settings, engines,
                                                                          bus):
    engine = engines["planner"]
    tap = tap_queue(settings.amqp_uri, "test.kept")
    add_rows(engine, ["test.kept"] * 450)
    held = add_rows(engine, ["test.kept"])[0]
    with engine.connect() as other, other.begin():
        # Another replica holds this row: the relay leaves it to that one.
        other.execute(text("select 1 from outbox where id = :id for update"), {"id": held})
        assert publish_pending(engine, bus, batch=200) == 450
    assert list(unpublished(engine)) == [held]
    eventually(lambda: queue_depth(settings.amqp_uri, tap) == 450)


def test_a_workers_confirmed_rows_are_marked_sent_together_a_moment_later(settings, engines,
                                                                         bus, full_queue):
    engine = engines["planner"]
    tap = tap_queue(settings.amqp_uri, "test.kept")
    ids = add_rows(engine, ["test.kept", REFUSED, "test.kept"])
    messages = [Message(json.dumps({"n": i}).encode(), topology.EVENTS_EXCHANGE.name, key,
                        message_id=str(row_id))
                for i, (row_id, key) in enumerate(zip(ids, ["test.kept", REFUSED, "test.kept"]))]
    marks = SentMarks(engine)
    with pytest.raises(NotConfirmed):
        publish_rows(bus, messages, marks)
    assert queue_depth(settings.amqp_uri, tap) == 2
    # Published, not marked yet: the marks of many workers go in one statement.
    assert set(unpublished(engine)) == set(ids)
    assert marks.flush() == 2
    # The refused row waits for the relay, no attempt counted by the worker.
    assert unpublished(engine) == {ids[1]: 0}
    assert marks.flush() == 0


def test_marks_are_written_at_once_when_many_wait(engines):
    engine = engines["planner"]
    ids = add_rows(engine, ["test.kept"] * 3)
    marks = SentMarks(engine, limit=3)
    marks.add([str(ids[0]), str(ids[1])])
    assert len(unpublished(engine)) == 3
    marks.add([str(ids[2])])
    assert unpublished(engine) == {}


def test_marks_the_database_refused_are_kept_for_the_next_try(engines):
    engine = engines["planner"]
    ids = add_rows(engine, ["test.kept"] * 2)
    marks = SentMarks(engine)
    marks.add([str(row_id) for row_id in ids])
    good_engine, marks.engine = marks.engine, None  # the database unreachable
    assert marks.flush() == 2
    assert len(unpublished(engine)) == 2
    marks.engine = good_engine
    assert marks.flush() == 2
    assert unpublished(engine) == {}
