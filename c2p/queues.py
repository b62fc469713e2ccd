"""Move the bus's queues to the configured type: `python -m c2p.queues status|migrate`.

RabbitMQ cannot change the type of a queue that exists, and a service declaring
a quorum queue where a classic one of the same name exists fails at start-up
(PRECONDITION_FAILED). Deployments from before quorum queues therefore run this
once, with the new settings, after stopping the C2P services and before starting
the new version (deploy/README.md, "Quorum queues"):

    python -m c2p.queues status      # each queue: ok, to migrate, missing
    python -m c2p.queues migrate     # moves every message, loses none
    python -m c2p.queues retire      # unbind what queues subscribed to in older releases

For each queue whose arguments differ from the target (subscription, parked,
delay and RPC queues):

1. a holding queue `<name>.migrating` is declared with the same bindings, then
   the old queue is unbound: from then on new messages wait in the holding queue;
2. every message of the old queue is copied to the holding queue (publisher
   confirms) and only then acked; the old queue, now empty, is deleted;
3. the queue is declared again with its target arguments and bindings, the
   holding queue is unbound, its messages are moved back, and it is deleted.

While a queue and its holding queue are both bound (two short windows), a new
event is routed to both: it is delivered twice, which the idempotent consumers
absorb. Nothing is ever deleted before its messages are confirmed elsewhere, so
an interrupted run is finished by running it again.
"""
from __future__ import annotations

import argparse
import json
import sys

from amqp.exceptions import NotFound, PreconditionFailed
from kombu import Connection, Queue

from c2p import topology
from c2p.config import SERVICES, ConfigError, load_settings

HOLD_SUFFIX = ".migrating"


def target_queues(settings) -> list[Queue]:
    """Every queue C2P declares, with the arguments the settings ask for."""
    shape = topology.Shape.of(settings)
    found = [topology.delay_queue(delay, shape) for delay in settings.retry_delays_ms]
    for name in topology.SUBSCRIPTIONS:
        found += [topology.subscription_queue(name, shape), topology.parked_queue(name, shape)]
    found += [topology.rpc_queue(service, shape) for service in SERVICES]
    return found


def _bindings(queue: Queue) -> list[tuple[str, str]]:
    """(exchange, routing key) pairs of a queue, the default exchange left out."""
    pairs = [(b.exchange.name, b.routing_key) for b in (queue.bindings or ())]
    if queue.exchange is not None and queue.exchange.name:
        pairs.append((queue.exchange.name, queue.routing_key))
    return pairs


def _exists(conn, name) -> bool:
    channel = conn.channel()
    try:
        channel.queue_declare(name, passive=True)
        return True
    except NotFound:
        return False
    finally:
        _close(channel)


def _close(channel):
    try:
        channel.close()
    except Exception:
        pass


def state(conn, queue: Queue) -> str:
    """'missing', 'ok' (has the target arguments) or 'migrate'."""
    if not _exists(conn, queue.name):
        return "missing"
    channel = conn.channel()
    try:
        queue(channel).queue_declare()  # same name, target arguments: refused if unlike
        return "ok"
    except PreconditionFailed:
        return "migrate"
    finally:
        _close(channel)


def _move(conn, producer, source: str, target: str) -> int:
    """Copy every message of `source` to `target` (confirmed), then ack it."""
    channel = conn.channel()
    moved = 0
    try:
        while True:
            message = Queue(source, no_declare=True)(channel).get(no_ack=False)
            if message is None:
                return moved
            # As received, but for what kombu sets itself (and per-message TTL,
            # which C2P never uses and kombu would rescale).
            properties = {k: v for k, v in message.properties.items()
                          if k not in ("application_headers", "delivery_info", "expiration")}
            if not properties.get("content_type"):  # raw bytes: never re-serialised
                properties.update(content_type="application/data", content_encoding="binary")
            producer.publish(message.body, exchange="", routing_key=target,
                             headers=message.headers or {}, retry=True, **properties)
            message.ack()
            moved += 1
    finally:
        _close(channel)


def migrate_queue(conn, producer, queue: Queue) -> dict:
    """Bring one queue to its target arguments, keeping every message."""
    hold = Queue(queue.name + HOLD_SUFFIX, durable=True)
    pairs = _bindings(queue)
    channel = conn.channel()
    moved_out = 0
    try:
        current = state(conn, queue)
        if current == "migrate":
            hold(channel).queue_declare()
            for exchange, key in pairs:
                channel.queue_bind(hold.name, exchange, key)
            for exchange, key in pairs:
                channel.queue_unbind(queue.name, exchange, key)
            while True:
                moved_out += _move(conn, producer, queue.name, hold.name)
                try:
                    # if_empty: something routed by the default exchange (a message
                    # parked just now) is moved on the next turn, never dropped.
                    channel.queue_delete(queue.name, if_empty=True)
                    break
                except PreconditionFailed:
                    channel = conn.channel()
        elif current == "ok" and not _exists(conn, hold.name):
            return {"queue": queue.name, "result": "ok", "moved": 0}
        queue(channel).declare()  # target arguments, with its exchanges and bindings
        moved_back = 0
        if _exists(conn, hold.name):
            for exchange, key in pairs:
                channel.queue_unbind(hold.name, exchange, key)
            moved_back = _move(conn, producer, hold.name, queue.name)
            channel.queue_delete(hold.name, if_empty=True)
        return {"queue": queue.name, "result": "migrated" if current == "migrate" else
                "finished", "moved": max(moved_out, moved_back)}
    finally:
        _close(channel)


def migrate(amqp_uri, settings) -> list[dict]:
    results = []
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        for queue in target_queues(settings):
            if state(conn, queue) == "missing" and not _exists(conn, queue.name + HOLD_SUFFIX):
                continue  # the services declare it when they start
            results.append(migrate_queue(conn, producer, queue))
    return results


def status(amqp_uri, settings) -> list[dict]:
    with Connection(amqp_uri) as conn:
        return [{"queue": q.name, "state": state(conn, q)} for q in target_queues(settings)]


def retire(amqp_uri, settings) -> list[dict]:
    """Unbind c2p.topology.FORMER_BINDINGS (after an upgrade, once no service of the
    older release runs)."""
    with Connection(amqp_uri) as conn:
        return [{"queue": queue, "unbound": key}
                for queue, key in topology.retire_former_bindings(conn)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["status", "migrate", "retire"])
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    rows = {"status": status, "migrate": migrate, "retire": retire}[args.action](
        settings.amqp_uri, settings)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"target queue type: {settings.queue_type}")
        for row in rows:
            print("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
    pending = [r for r in rows if r.get("state") == "migrate"]
    return 1 if args.action == "status" and pending else 0


if __name__ == "__main__":
    sys.exit(main())
