"""CPU cost of the shared messaging layer (c2p.database, c2p.entrypoints, c2p.bus).

Not a test: a micro-benchmark of the fixed cost every handler run and every
outbox publish pays, read as CPU time of this process (`time.process_time`),
which does not depend on how busy the shared machine is.

- `relay`: N outbox rows published by one `publish_pending` call (the relay);
- `immediate`: N outbox rows published one unit of work at a time
  (`publish_rows`), as a worker does after its commit;
- `consume`: N events through one `Subscription` whose handler does nothing
  (`noop`) or emits one event (`emit`); the events are published by a
  subprocess, so only the consuming side is counted here. They are queued at
  once (handlers take them in batches), and then again one every 20 ms
  (`trickle`: every event is a worker of its own, as at a few visits a second).

    .venv/bin/python tests/messaging_bench.py [N]

Runs in a vhost and a database of its own (notify's schema), both removed at the end.
"""
from c2p.greening import green

green()

import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

from sqlalchemy import create_engine, insert, text  # noqa: E402

from c2p import logs, migrate, sandbox, topology  # noqa: E402
from c2p.bus import Bus  # noqa: E402
from c2p.config import load_settings  # noqa: E402
from c2p.contracts import Event  # noqa: E402
from c2p.database import driver_url, outbox, publish_pending  # noqa: E402

try:
    from c2p.bus import Message
    from c2p.database import SentMarks, publish_rows
except ImportError:  # the code before batched confirms (for a before/after run)
    Message = publish_rows = None
from c2p.entrypoints import subscribe  # noqa: E402
from c2p.service import PlatformService  # noqa: E402

AMQP = os.environ.get("C2P_TEST_AMQP_URI", "amqp://guest:guest@localhost:5672/")
POSTGRES = os.environ.get("C2P_TEST_DATABASE_URL", "postgresql://postgres@localhost:5432/postgres")

PUBLISHER = """
import json, sys, time, uuid
from kombu import Connection, Producer
body = sys.stdin.read()
with Connection(sys.argv[1], transport_options={"confirm_publish": True}) as conn:
    producer = Producer(conn.channel())
    for _ in range(int(sys.argv[2])):
        time.sleep(float(sys.argv[3]))
        event = json.loads(body)
        event["id"] = str(uuid.uuid4())
        producer.publish(json.dumps(event), exchange="c2p.events",
                         routing_key="account.created", content_type="application/json",
                         content_encoding="utf-8", message_id=event["id"], delivery_mode=2)
"""


def delivered(event_id=None):
    return {"notification_id": uuid.uuid4(), "event_id": event_id or uuid.uuid4(),
            "event_type": "account.created", "recipient_id": "u-1", "channel": "inbox",
            "attempts": 1, "at": datetime.now(timezone.utc), "kind": None}


def account_created():
    return Event(type="account.created", source="bench", data={
        "account_id": "u-1", "username": "coach.bench", "display_name": "Coach Bench",
        "role": "coach", "scope": ["/ML"], "language": "fr", "active": True}).to_wire()


class Bench(PlatformService):
    name = "notify"  # borrows notify's schema and subscription queue
    emit = False

    @subscribe("account.*")
    def on_account_changed(self, event):
        if Bench.emit:
            self.db.emit("notification.delivered", delivered(event.id))


def cpu():
    return time.process_time()


def add_rows(engine, n):
    rows = [{"id": uuid.uuid4(), "type": "notification.delivered",
             "envelope": Event(type="notification.delivered", source="bench",
                               data=delivered()).to_wire()} for _ in range(n)]
    with engine.begin() as conn:
        conn.execute(insert(outbox), rows)
    return {row["id"]: Message and Message(json.dumps(row["envelope"]).encode(), "c2p.events",
                                           row["type"], message_id=str(row["id"]))
            for row in rows}


def count(engine, sql):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def bench_publish(engine, bus, n):
    add_rows(engine, 20)
    publish_pending(engine, bus)  # warm up
    add_rows(engine, n)
    started = cpu()
    assert publish_pending(engine, bus) == n
    relay = (cpu() - started) / n
    messages = add_rows(engine, n)
    marks = SentMarks(engine) if publish_rows is not None else None
    started = cpu()
    for row_id in messages:
        if publish_rows is None:
            publish_pending(engine, bus, ids=[row_id])
        else:
            publish_rows(bus, [messages[row_id]], marks)
            marks.flush()  # one mark per worker at worst (many share one under load)
    immediate = (cpu() - started) / n
    return relay, immediate


def bench_consume(engine, amqp_uri, n, emit, gap_s=0.0):
    from nameko.containers import ServiceContainer
    Bench.emit = emit
    with engine.begin() as conn:
        conn.execute(text("truncate processed_events, outbox"))
    container = ServiceContainer(Bench)
    container.start()
    body = json.dumps(account_created())

    def send(k, gap=0.0):
        subprocess.run([sys.executable, "-c", PUBLISHER, amqp_uri, str(k), str(gap)],
                       input=body, text=True, check=True)

    def wait_for(total):
        while count(engine, "select count(*) from processed_events") < total:
            time.sleep(0.2)

    try:
        send(50)
        wait_for(50)
        time.sleep(1)
        started = cpu()
        send(n, gap_s)
        wait_for(50 + n)
        if emit:
            while count(engine, "select count(*) from outbox where published_at is null"):
                time.sleep(0.2)
        spent = (cpu() - started) / n
    finally:
        container.stop()
    return spent


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    vhosts = sandbox.Vhosts(AMQP)
    vhost = sandbox.owned_vhost("bench")
    amqp_uri = vhosts.create(vhost)
    urls = sandbox.database_urls(POSTGRES, sandbox.owned_name("bench"))
    url = urls["notify"]
    env = sandbox.process_env(urls, amqp_uri, ("127.0.0.1:1", "x", "y"))
    settings = load_settings(env)
    admin = create_engine(driver_url(POSTGRES), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{url.rsplit("/", 1)[1]}"'))
    engine = create_engine(driver_url(url))
    # As a service process logs (JSON lines), to a file rather than the terminal.
    sys.stderr = open(os.devnull, "w") if os.environ.get("BENCH_QUIET", "1") == "1" else sys.stderr
    logs.configure("notify", settings.log_format)
    try:
        migrate.upgrade("notify", url)
        from kombu import Connection
        with Connection(amqp_uri) as conn:
            topology.declare(conn, settings.retry_delays_ms, topology.Shape.of(settings))
        from nameko import config
        from c2p.run import nameko_settings
        with config.patch(nameko_settings(settings), clear=True):
            bus = Bus(amqp_uri)
            relay, immediate = bench_publish(engine, bus, n)
            bus.close()
            noop = bench_consume(engine, amqp_uri, n, emit=False)
            emitting = bench_consume(engine, amqp_uri, n, emit=True)
            noop_alone = bench_consume(engine, amqp_uri, n, emit=False, gap_s=0.02)
            emitting_alone = bench_consume(engine, amqp_uri, n, emit=True, gap_s=0.02)
        print(f"N={n}  CPU ms per message: relay publish {relay * 1000:.2f}  "
              f"immediate publish {immediate * 1000:.2f}  consume noop {noop * 1000:.2f}  "
              f"consume+emit {emitting * 1000:.2f}  trickle: noop {noop_alone * 1000:.2f}  "
              f"emit {emitting_alone * 1000:.2f}", file=sys.__stdout__)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{url.rsplit("/", 1)[1]}" with (force)'))
        admin.dispose()
        vhosts.delete(vhost)
        logging.shutdown()


if __name__ == "__main__":
    main()
