"""Example subscriber: the national TB programme counts flagged supervision visits
(a critical item failed) per health district, from C2P's `checklist.submitted` events.

    python examples/tb_flagged_visits.py amqp://tb-programme:SECRET@broker:5672/c2p \
        --queue tb.flagged_visits --asyncapi https://c2p.example.ml/api/v1/asyncapi.json

What any subscribing programme needs, in about a hundred lines (see examples/README.md):

- it consumes its **own queue** (declared and bound by the C2P operator, who gives
  the programme a RabbitMQ user that may only read it): `no_declare=True`, since
  that user may not declare anything;
- it checks each message against the **AsyncAPI document** C2P publishes (the
  envelope and the `data` schema of that type and version) with `jsonschema`;
- a **version it was not written for** (or a message that does not match) is
  rejected without requeue: the queue dead-letters it to `<queue>.parked`, where it
  waits for the programme to update its code and replay it. It is never counted
  half-understood, never acked as done, and never blocks the queue;
- delivery is **at least once**: it deduplicates on the envelope's `id` (here in
  memory; a real subscriber stores the id in the same transaction as its effect).

Needs `kombu` (C2P's own AMQP client) and `jsonschema`, both well-kept libraries.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from urllib.request import urlopen

import jsonschema
from kombu import Connection, Queue

# The (type, version) pairs this code understands. Anything else is parked.
# Version 2 added `passed_items` and `dtc_id`; what is read here is in both.
UNDERSTOOD = {("checklist.submitted", 1), ("checklist.submitted", 2)}


def load_asyncapi(source: str) -> dict:
    if source.startswith(("http://", "https://")):
        with urlopen(source, timeout=30) as response:
            return json.load(response)
    with open(source, encoding="utf-8") as f:
        return json.load(f)


class Validators:
    """One jsonschema validator per message of the AsyncAPI document (`type.vN`)."""

    def __init__(self, asyncapi: dict):
        components = asyncapi["components"]
        self.known = {}
        for key, message in components["messages"].items():
            ref = message["payload"]["$ref"]
            # The payload's $refs point into #/components: validate against a
            # document that carries them, so every reference resolves.
            schema = {"$ref": ref, "components": components}
            self.known[key] = jsonschema.Draft202012Validator(schema)

    def errors(self, envelope) -> list[str]:
        if not isinstance(envelope, dict):
            return ["not a JSON object"]
        key = f"{envelope.get('type')}.v{envelope.get('version')}"
        validator = self.known.get(key)
        if validator is None:
            return [f"{key} is not in the AsyncAPI document"]
        return [f"{'/'.join(map(str, e.absolute_path)) or '(envelope)'}: {e.message}"
                for e in validator.iter_errors(envelope)]


class FlaggedVisits:
    """The TB programme's count: flagged visits per district (path's third part)."""

    def __init__(self, validators: Validators):
        self.validators = validators
        self.by_district: Counter = Counter()
        self.seen: set[str] = set()
        self.parked: list[tuple[str, str]] = []   # (event id or ?, why)

    def handle(self, envelope) -> tuple[str, str]:
        """('count'|'skip'|'duplicate', why) to ack, or ('park', why) to dead-letter."""
        problems = self.validators.errors(envelope)
        if problems:
            return "park", "; ".join(problems)[:500]
        if (envelope["type"], envelope["version"]) not in UNDERSTOOD:
            return "park", (f"{envelope['type']} version {envelope['version']} is valid "
                            "but this subscriber was written for "
                            f"{sorted(v for t, v in UNDERSTOOD if t == envelope['type'])}")
        if envelope["id"] in self.seen:
            return "duplicate", envelope["id"]
        self.seen.add(envelope["id"])
        data = envelope["data"]
        if not data["score"]["flagged"]:
            return "skip", "not flagged"
        parts = [p for p in data["facility_path"].split("/") if p]
        district = parts[2] if len(parts) >= 3 else data["facility_path"]
        self.by_district[district] += 1
        return "count", district

    def on_message(self, body, message):
        try:
            envelope = json.loads(body) if isinstance(body, (str, bytes)) else body
        except ValueError:
            envelope = None
        outcome, why = self.handle(envelope)
        if outcome == "park":
            self.parked.append(((envelope or {}).get("id", "?") if isinstance(
                envelope, dict) else "?", why))
            message.reject(requeue=False)   # the queue dead-letters it to <queue>.parked
        else:
            message.ack()


def consume(amqp_url: str, queue: str, counter: FlaggedVisits, idle_s: float = 2.0,
            forever: bool = False) -> FlaggedVisits:
    """Consume until the queue stays idle `idle_s` (or for ever)."""
    with Connection(amqp_url) as connection:
        with connection.Consumer(Queue(queue, no_declare=True), callbacks=[counter.on_message],
                                 accept=["json"], no_ack=False) as consumer:
            consumer.qos(prefetch_count=50)
            while True:
                try:
                    connection.drain_events(timeout=idle_s)
                except TimeoutError:
                    if not forever:
                        return counter


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("amqp_url")
    parser.add_argument("--queue", default="tb.flagged_visits")
    parser.add_argument("--asyncapi", required=True, help="URL or file of C2P's document")
    parser.add_argument("--forever", action="store_true")
    args = parser.parse_args(argv)
    counter = FlaggedVisits(Validators(load_asyncapi(args.asyncapi)))
    consume(args.amqp_url, args.queue, counter, forever=args.forever)
    for district, count in sorted(counter.by_district.items()):
        print(f"{district}\t{count}")
    for event_id, why in counter.parked:
        print(f"parked {event_id}: {why}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
