"""Helpers for tests of every tier: polling, RPC, sample visits, bus access."""
from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager

from kombu import Connection, Queue

from c2p import topology
from c2p.sandbox import ROOT, free_port  # noqa: F401  (re-exported for tests)

MINI_ITEMS = ("cc_temp_twice_daily", "cc_in_range", "stock_no_expired",
              "stock_cards_up_to_date", "dq_monitoring_chart")


def eventually(check, timeout=15.0, interval=0.1):
    """Poll `check` until it returns a truthy value (returned) or time runs out."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except AssertionError:
            last = None
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


@contextmanager
def rpc_client(service_name):
    from nameko.standalone.rpc import ServiceRpcClient
    with ServiceRpcClient(service_name) as client:
        yield client


def sample_submission(failing=("cc_temp_twice_daily", "stock_no_expired"),
                      facility_id="ML-SEG-NIO-CEN", submission_id=None):
    """A visit on the demo template with the given items answered 'no'."""
    return {
        "id": str(submission_id or uuid.uuid4()),
        "facility_id": facility_id,
        "template_code": "pev-mini",
        "visited_at": "2026-11-20T09:30:00+00:00",
        "coachees": [{"id": "u-dtc-niono", "role": "dtc", "name": "Fatoumata Diarra"},
                     {"id": "u-vacc-1", "role": "vaccinator", "name": "Oumar Sidibé"}],
        "answers": [{"item": code, "value": "no" if code in failing else "yes"}
                    for code in MINI_ITEMS],
    }


COACH_NIONO = {"id": "u-coach-niono", "role": "coach", "scope": ["/ML/ML-SEG/ML-SEG-NIO"]}


def tap(amqp_uri, routing_key):
    """Bind a private queue to c2p.events and return a function reading what arrived."""
    name = f"test-tap-{uuid.uuid4().hex[:8]}"
    with Connection(amqp_uri) as conn:
        Queue(name, exchange=topology.EVENTS_EXCHANGE, routing_key=routing_key,
              durable=False, auto_delete=False)(conn.channel()).declare()

    def read():
        got = []
        with Connection(amqp_uri) as conn:
            queue = Queue(name)(conn.channel())
            while (message := queue.get(no_ack=True)) is not None:
                got.append(json.loads(message.body))
        return got
    return read


def publish_raw(amqp_uri, body, routing_key, message_id=None):
    from c2p.bus import Bus
    bus = Bus(amqp_uri)
    try:
        bus.publish(body, exchange=topology.EVENTS_EXCHANGE.name, routing_key=routing_key,
                    message_id=message_id)
    finally:
        bus.close()


def queue_depth(amqp_uri, name):
    with Connection(amqp_uri) as conn:
        _, count, _ = conn.channel().queue_declare(name, passive=True)
        return count


def sample_data(schema):
    """Data that `schema` (an event contract) accepts, made from its fields alone: one
    valid example of every event type, for tests that run over all of them."""
    import uuid as _uuid
    from datetime import date as _date, datetime as _datetime, timezone as _timezone

    from marshmallow import fields, validate

    def value(field):
        for check in field.validators or ():
            if isinstance(check, validate.OneOf):
                return list(check.choices)[0]
        if isinstance(field, fields.Nested):
            one = sample_data(field.schema)
            return [one] if field.many else one
        if isinstance(field, fields.List):
            return [value(field.inner)]
        if isinstance(field, fields.Dict):
            return {}
        if isinstance(field, fields.UUID):
            return _uuid.uuid4()
        if isinstance(field, (fields.AwareDateTime, fields.DateTime)):
            return _datetime.now(_timezone.utc)
        if isinstance(field, fields.Date):
            return _date.today()
        if isinstance(field, fields.Boolean):
            return False
        if isinstance(field, fields.Integer):
            return next((c.min for c in field.validators
                         if isinstance(c, validate.Range) and c.min is not None), 1)
        if isinstance(field, fields.Float):
            return 1.0
        if isinstance(field, fields.Email):
            return "someone@c2p.test"
        if isinstance(field, fields.String):
            lengths = [c for c in field.validators if isinstance(c, validate.Length)]
            wanted = next((c.equal or c.min for c in lengths if c.equal or c.min), 0)
            return "/ML/x" + "x" * max(0, wanted - 5)
        return None

    return {name: value(field) for name, field in schema.fields.items()
            if not field.dump_only}


def probe_service(queue: str, on_event, prefix: str = "Probe"):
    """A service named like `queue`'s owner, with one handler named like the queue's,
    bound to its first pattern: it calls `on_event(event)` (which may raise), then
    writes one `probe_effects` row (see `probe_table`) in the handler's transaction."""
    from sqlalchemy import text
    from c2p.entrypoints import subscribe
    from c2p.service import PlatformService
    service, method = queue.split(".", 1)

    def handler(self, event):
        on_event(event)
        self.db.session.execute(text("insert into probe_effects (queue, event_id) "
                                     "values (:queue, :event_id)"),
                                {"queue": queue, "event_id": event.id})

    handler.__name__ = method
    return type(f"{prefix}_{service}", (PlatformService,), {
        "name": service, method: subscribe(topology.SUBSCRIPTIONS[queue][0])(handler)})


def probe_table(engine) -> None:
    """The table `probe_service` handlers write their effect to."""
    from sqlalchemy import text
    with engine.begin() as conn:
        conn.execute(text("create table if not exists probe_effects "
                          "(queue text not null, event_id uuid not null,"
                          " checked boolean not null default false)"))

