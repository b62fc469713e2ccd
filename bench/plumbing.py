"""What the plumbing alone costs a visit: CPU per database round trip, per
transaction, per confirmed publish and per consumed message, each measured in
this one process with eventlet and the green psycopg2 driver, as the services
run them; then those unit costs times how many of each a follow-up 49-item
visit needs (counted by `bench/pipeline.py --sql`).

    python bench/plumbing.py [--seconds 3] [--pipeline /tmp/pipeline-sql.json]
                             [--output bench/results/plumbing.json]

Why: a sampling profile (py-spy, `--gil`) of the pipeline put 58-70 % of every
back-end service in the database layer, but it samples wall time while the GIL is
held, and on two busy cores a process that has just woken PostgreSQL is often
descheduled with the GIL in hand: it over-counts whatever makes a system call.
A deterministic profile (yappi) over-counts the opposite: every small Python call.
CPU time per operation, read with `time.process_time()` around many of them in
a quiet process, has neither bias. The result is the floor of what the
platform's message and transaction pattern costs per visit on this stack
(SQLAlchemy over green psycopg2, kombu and py-amqp), before any domain work:
if it alone approaches the CPU target, the target needs fewer round trips or
messages per visit (a contract or design change), not faster code.

Needs the local PostgreSQL and RabbitMQ (`C2P_BENCH_DATABASE_URL`,
`C2P_BENCH_AMQP_URI`); it makes and drops its own table, exchange and queue.
"""
from c2p.greening import green

green()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import eventlet  # noqa: E402
from kombu import Connection, Consumer, Exchange, Queue  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from c2p.bus import Bus, Message  # noqa: E402
from c2p.database import make_engine  # noqa: E402
from harness import machine, write_json  # noqa: E402
from measure import yardstick_ms  # noqa: E402

DATABASE_URL = os.environ.get("C2P_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URI = os.environ.get("C2P_BENCH_AMQP_URI", "amqp://guest:guest@localhost:5672//")
TABLE = "c2p_bench_plumbing"
EXCHANGE = Exchange("c2p.bench.plumbing", type="topic", durable=True)
QUEUE = Queue("c2p.bench.plumbing", exchange=EXCHANGE, routing_key="#", durable=True,
              queue_arguments={"x-queue-type": "quorum"})
# An event of a follow-up visit is 1-6 kB of JSON; plan.created with 15 actions ~6 kB.
BODY = json.dumps({"type": "plan.created", "data": {"actions": [
    {"id": str(uuid.uuid4()), "title_fr": "Mettre à jour le registre " * 4,
     "due_date": "2026-12-31", "status": "open"} for _ in range(15)]}}).encode()

# Per follow-up visit, from `bench/pipeline.py --sql` at 20 visits/s, 8 districts
# (1 Dec 2026): statements plus BEGINs (one per transaction) over every service.
DEFAULT_COUNTS = {
    "round_trips": 50.0,    # statements (COMMIT included) + BEGIN, all services
    "transactions": 9.2,    # commits + rollbacks, all services
    # checklist.submitted, the RPC request and its reply go one at a time; the
    # planner's 11.3 events of a visit go in one batch (one wait for the confirms).
    "published_alone": 3.0,
    "published_in_batches": 11.3,
    "delivered": 9.8,       # to the subscriptions bound (3 + 3 + 0.47 x 3 + 0.36) + RPC 2
}


def cpu_per_call(fn, seconds: float) -> tuple[float, int]:
    """CPU µs per call of `fn` (called for about `seconds` of wall time), and calls."""
    fn()
    calls, start, wall = 0, time.process_time(), time.monotonic()
    while time.monotonic() - wall < seconds:
        fn()
        calls += 1
    return 1e6 * (time.process_time() - start) / calls, calls


def database_costs(seconds: float) -> dict:
    engine = make_engine(DATABASE_URL, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.execute(text(f"CREATE TABLE {TABLE} (id uuid PRIMARY KEY, at timestamptz)"))
    try:
        with engine.connect() as conn:
            select_one = text("SELECT 1")
            round_trip, calls = cpu_per_call(lambda: conn.execute(select_one).all(), seconds)
            conn.rollback()
        claim = text(f"INSERT INTO {TABLE} (id, at) VALUES (:id, now()) "
                     "ON CONFLICT DO NOTHING RETURNING id")

        def transaction():  # as a handler's unit of work: BEGIN, claim, COMMIT
            with Session(engine) as session:
                session.execute(claim, {"id": uuid.uuid4()}).all()
                session.commit()
        per_transaction, transactions = cpu_per_call(transaction, seconds)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        engine.dispose()
    return {"round_trip_us": round(round_trip, 1), "round_trips": calls,
            "transaction_us": round(per_transaction, 1), "transactions": transactions}


def bus_costs(seconds: float) -> dict:
    with Connection(AMQP_URI) as conn:
        QUEUE.bind(conn.default_channel).declare()
    bus = Bus(AMQP_URI)
    try:
        def publish(n):
            bus.publish_all([Message(BODY, EXCHANGE.name, "plan.created", {},
                                     str(uuid.uuid4())) for _ in range(n)])
        one, ones = cpu_per_call(lambda: publish(1), seconds)
        twelve, twelves = cpu_per_call(lambda: publish(12), seconds)
        published = ones + 12 * (twelves + 1) + 1
        consumed = consume(published, seconds * 4)
    finally:
        bus.close()
        with Connection(AMQP_URI) as conn:
            QUEUE.bind(conn.default_channel).delete()
            EXCHANGE.bind(conn.default_channel).delete()
    return {"publish_one_us": round(one, 1), "publish_in_twelves_us": round(twelve / 12, 1),
            **consumed}


def consume(expected: int, timeout: float) -> dict:
    """Consume and ack what was published, one message at a time as the services'
    consumers do (prefetch 10), in a green thread: CPU per message."""
    got = [0]

    def on_message(body, message):
        message.ack()
        got[0] += 1

    def run():
        with Connection(AMQP_URI) as conn:
            with Consumer(conn, [QUEUE], callbacks=[on_message], prefetch_count=10,
                          accept=["json"]):
                conn.drain_events(timeout=5)  # the first, before the clock starts
                start = time.process_time()
                first = got[0]
                deadline = time.monotonic() + timeout
                while got[0] < expected and time.monotonic() < deadline:
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        break
                n = got[0] - first
                return {"consume_ack_us": round(1e6 * (time.process_time() - start) / n, 1),
                        "consumed": n}
    return eventlet.spawn(run).wait()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--pipeline", help="a bench/pipeline.py --sql JSON for the counts")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    counts = dict(DEFAULT_COUNTS)
    if args.pipeline:
        counts.update(counts_from(args.pipeline))
    units = eventlet.spawn(lambda: {**database_costs(args.seconds),
                                    **bus_costs(args.seconds)}).wait()
    per_visit = {
        # Each transaction: its BEGIN, claim and COMMIT at the measured price of
        # one (a Session's own overhead included); every other round trip alone.
        "database_ms": ((counts["round_trips"] - 3 * counts["transactions"])
                        * units["round_trip_us"]
                        + counts["transactions"] * units["transaction_us"]) / 1000,
        "publish_ms": (counts["published_alone"] * units["publish_one_us"]
                       + counts["published_in_batches"] * units["publish_in_twelves_us"]) / 1000,
        "consume_ms": counts["delivered"] * units["consume_ack_us"] / 1000,
    }
    per_visit = {k: round(v, 2) for k, v in per_visit.items()}
    per_visit["total_ms"] = round(sum(per_visit.values()), 2)
    report = {"machine": machine(), "yardstick_ms": yardstick_ms(), "units": units,
              "counts_per_visit": counts, "plumbing_per_visit": per_visit}
    print(json.dumps(report, indent=2))
    write_json(args.output or "plumbing.json", report)
    return report


def counts_from(path: str) -> dict:
    """Round trips and transactions per visit from a `pipeline.py --sql` run's first step."""
    with open(path) as f:
        run = json.load(f)
    step = run["configs"][0]["steps"][0]
    transactions = sum(c["commits"] + c["rollbacks"] for c in step["database_per_visit"].values())
    statements = sum(s["statements_per_visit"] for s in step["sql_per_visit"].values())
    return {"round_trips": round(statements + transactions, 1),
            "transactions": round(transactions, 1)}


if __name__ == "__main__":
    main()
