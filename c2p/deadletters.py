"""List and replay parked messages: `python -m c2p.deadletters list|replay`.

A message lands in `<queue>.parked` when its handler kept failing after every
retry, or when it was not a valid event. Once the cause is fixed, an operator
replays it: the message goes back to its queue with its retry count reset. The
consumer is idempotent, so replaying something already handled is harmless.

    python -m c2p.deadletters list [--queue planner.on_checklist_submitted]
    python -m c2p.deadletters replay [--queue Q] [--id MESSAGE_ID]
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from amqp.exceptions import NotFound
from kombu import Connection, Queue

from c2p import topology
from c2p.bus import Bus
from c2p.config import ConfigError, load_settings
from c2p.entrypoints import ATTEMPTS_HEADER, ERROR_HEADER, FAILED_AT_HEADER


def _parked_names(queue=None):
    names = [queue] if queue else list(topology.SUBSCRIPTIONS)
    for name in names:
        if name not in topology.SUBSCRIPTIONS:
            raise SystemExit(f"unknown queue {name!r}; known: {', '.join(topology.SUBSCRIPTIONS)}")
    return names


def _describe(queue, message):
    headers = message.headers or {}
    try:
        body = json.loads(message.body)
        event_type = body.get("type") if isinstance(body, dict) else None
    except ValueError:
        event_type = None
    # Parked by the broker itself (quorum queue delivery limit: the consumer
    # died with it, again and again) rather than by c2p.entrypoints.
    death = (headers.get("x-death") or [{}])[0]
    error = headers.get(ERROR_HEADER) or (
        f"dead-lettered by the broker ({death.get('reason')}): its consumer died handling it "
        "repeatedly" if death.get("reason") else None)
    return {"queue": queue, "message_id": message.properties.get("message_id"),
            "event_type": event_type, "attempts": headers.get(ATTEMPTS_HEADER),
            "failed_at": headers.get(FAILED_AT_HEADER) or _text(death.get("time")),
            "error": error}


def _text(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def list_parked(amqp_uri, queue=None) -> list[dict]:
    """Everything parked, left in place (messages are read, then released)."""
    found = []
    with Connection(amqp_uri) as conn:
        for name in _parked_names(queue):
            channel = conn.channel()
            parked = _parked(name, channel)
            if parked is None:
                continue
            read = 0
            while True:
                message = parked.get(no_ack=False)
                if message is None:
                    break
                found.append(_describe(name, message))
                read += 1
            channel.close()  # unacked messages return to the queue, in order
            _wait_returned(conn, parked.name, read)
    return found


def _parked(name, channel):
    """The parked queue of subscription `name`, or None if it does not exist yet.

    Not declared here: its arguments (queue type) are the services' business,
    and declaring with others would be refused."""
    parked = Queue(f"{name}.parked", no_declare=True)(channel)
    try:
        channel.queue_declare(parked.name, passive=True)
    except NotFound:
        return None
    return parked


def _wait_returned(conn, name, count, timeout_s=5):
    """Quorum queues take back released messages asynchronously: wait until they
    are counted again, so that the next reader (a replay) sees them."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        channel = conn.channel()
        try:
            if channel.queue_declare(name, passive=True).message_count >= count:
                return
        finally:
            channel.close()
        time.sleep(0.05)


def replay(amqp_uri, queue=None, message_id=None) -> list[dict]:
    """Send parked messages back to their queue (all, or the one with `message_id`)."""
    bus = Bus(amqp_uri)
    replayed = []
    try:
        with Connection(amqp_uri) as conn:
            for name in _parked_names(queue):
                channel = conn.channel()
                parked = _parked(name, channel)
                if parked is None:
                    continue
                # Only what is parked now: a replayed message that fails again is
                # parked again behind us, and must not be replayed in a loop.
                waiting = channel.queue_declare(parked.name, passive=True).message_count
                seen = set()
                for _ in range(waiting):
                    message = parked.get(no_ack=False)
                    if message is None:
                        break
                    key = (message.properties.get("message_id"), message.body)
                    if key in seen:  # parked again while we replay: leave it
                        break
                    seen.add(key)
                    if message_id and message.properties.get("message_id") != message_id:
                        continue
                    headers = {k: v for k, v in (message.headers or {}).items()
                               if not k.startswith("x-c2p-")}
                    bus.publish(message.body, exchange=topology.REQUEUE_EXCHANGE.name,
                                routing_key=name, headers=headers,
                                message_id=message.properties.get("message_id"),
                                content_type=message.content_type,
                                content_encoding=message.content_encoding)
                    message.ack()
                    replayed.append(_describe(name, message))
                channel.close()
    finally:
        bus.close()
    return replayed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("--queue", help="one subscription queue (default: all)")
    parser.add_argument("--id", dest="message_id", help="replay only this message id")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.action == "list":
        rows = list_parked(settings.amqp_uri, args.queue)
    else:
        rows = replay(settings.amqp_uri, args.queue, args.message_id)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        verb = "parked" if args.action == "list" else "replayed"
        print(f"{len(rows)} message(s) {verb}")
        for row in rows:
            print(f"- {row['queue']}  {row['message_id']}  {row['event_type']}  "
                  f"attempts={row['attempts']}  {row['failed_at']}\n    {row['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
