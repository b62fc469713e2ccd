"""Which events the broker routes to the gateway's webhook queue: only those some
active endpoint asks for. An event no endpoint wants never reaches the gateway
(no delivery, no inbox row, no database round trip).

The queue `gateway.on_event_for_webhooks` is declared with no binding to
`c2p.events` (`c2p.topology.BOUND_AT_RUN_TIME`); the gateway binds it to the
endpoints' patterns themselves (`plan.*`, `#`, ...: a topic binding takes the
same syntax, and a message matching several bindings still reaches the queue
once).

The guarantee: **an event published after an endpoint's registration has been
answered reaches the queue**, whichever replica registered it and whichever
consumes the event. How:

- registering binds the endpoint's patterns *before* its transaction commits,
  so a 201 means "bound"; a crash in between leaves a binding with no endpoint
  (harmless: the event is consumed and `record_event` finds no taker) that the
  next reconcile removes;
- every key is first written to `webhook_bindings` in a transaction of its own,
  so the reconcile knows every key that may be bound, even one a crashed
  process bound for an endpoint that never committed;
- `reconcile` (at start-up and every `RECONCILE_S`) binds every pattern of every
  active endpoint again (a queue deleted and re-declared gets them back) and
  unbinds the recorded keys no active endpoint needs any more (and `#`, which
  older versions bound for every event);
- bind-then-commit (shared lock) and reconcile (exclusive lock) are serialised
  by a PostgreSQL advisory lock: the reconcile never reads the endpoints while a
  registration has bound but not yet committed, so it cannot unbind a key that
  a replica is about to commit an endpoint for.

Disabling an endpoint leaves its keys bound until the next reconcile (events in
between are consumed and dropped by `record_event`, as before).
"""
from __future__ import annotations

import logging

from kombu import Connection
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert

from c2p import topology
from c2p.errors import ServiceUnavailable
from gateway.webhook_models import WebhookBinding, WebhookEndpoint

log = logging.getLogger(__name__)

QUEUE = "gateway.on_event_for_webhooks"
RECONCILE_S = 30
LEGACY_KEYS = ("#",)  # bound by the topology before bindings followed the endpoints
_LOCK = 0x6332_7077_6862  # any constant shared by every replica ("c2pwhb")


def needed(session) -> set[str]:
    """Every pattern of every active endpoint."""
    return set(session.scalars(
        select(func.unnest(WebhookEndpoint.event_types)).where(WebhookEndpoint.active.is_(True))))


def hold_for_change(session) -> None:
    """Taken (shared) by a registration before it binds; released at its commit."""
    session.execute(select(func.pg_advisory_xact_lock_shared(_LOCK)))


def hold_for_reconcile(session) -> None:
    session.execute(select(func.pg_advisory_xact_lock(_LOCK)))


def remember(session, keys) -> None:
    """Record keys about to be bound, committed at once: on a connection of its own,
    not in the caller's transaction (the session may be bound to an engine or to the
    worker's connection: `.engine` is the engine either way)."""
    if keys:
        with session.get_bind().engine.begin() as conn:
            conn.execute(insert(WebhookBinding).values([{"routing_key": k} for k in keys])
                         .on_conflict_do_nothing())


class Broker:
    """Binds and unbinds the webhook queue on `c2p.events` (a short connection each time:
    this happens on registrations and reconciles only)."""

    def __init__(self, amqp_uri: str, shape: topology.Shape):
        self.amqp_uri, self.shape = amqp_uri, shape

    def apply(self, bind=(), unbind=()) -> None:
        with Connection(self.amqp_uri) as connection:
            channel = connection.channel()
            try:
                # Declared here too (idempotent): the queue may not exist yet.
                topology.subscription_queue(QUEUE, self.shape)(channel).declare()
                for key in sorted(bind):
                    channel.queue_bind(QUEUE, topology.EVENTS_EXCHANGE.name, key)
                for key in sorted(unbind):
                    channel.queue_unbind(QUEUE, topology.EVENTS_EXCHANGE.name, key)
            finally:
                channel.close()


def bind_for(session, broker: Broker, patterns) -> None:
    """Before committing an active endpoint with these patterns: hold, record, bind."""
    hold_for_change(session)
    remember(session, set(patterns))
    try:
        broker.apply(bind=set(patterns))
    except Exception as exc:  # nothing is committed: the client may simply retry
        log.warning("could not bind the webhook queue to %s: %s", sorted(patterns), exc)
        raise ServiceUnavailable("the message broker is unreachable; retry") from exc


def reconcile(session, broker: Broker) -> tuple[set[str], set[str]]:
    """Bind what active endpoints need, unbind the rest; (bound, unbound recorded keys).
    The caller commits (which releases the lock)."""
    hold_for_reconcile(session)
    wanted = needed(session)
    recorded = set(session.scalars(select(WebhookBinding.routing_key)))
    remember(session, wanted - recorded)
    stale = recorded - wanted
    # Unbinding a key that is not bound is a no-op for RabbitMQ: `#` goes every time.
    broker.apply(bind=wanted, unbind=stale | (set(LEGACY_KEYS) - wanted))
    if stale:
        session.execute(delete(WebhookBinding).where(WebhookBinding.routing_key.in_(stale)))
    return wanted, stale
