"""The bus, declared in code where one can read it.

- `c2p.events` (topic): every event, routing key = event type. Partner
  programmes bind their own queues here.
- one durable queue per subscription, named `<service>.<handler>`, bound to the
  event types it handles, plus `<queue>.parked` for messages that kept failing;
- `c2p.delay.<ms>` (fanout) into a queue whose messages expire after <ms> and are
  dead-lettered to `c2p.requeue` (direct), which routes them back to the queue
  named by their routing key: retries with back-off, without a timer.

Every service declares the whole topology at start-up, so an event published
before its consumer first runs still has a queue to wait in.
"""
from __future__ import annotations

from kombu import Exchange, Queue

EVENTS_EXCHANGE = Exchange("c2p.events", type="topic", durable=True)
REQUEUE_EXCHANGE = Exchange("c2p.requeue", type="direct", durable=True)

# queue name -> event types (routing keys; topic patterns allowed: `*` one word,
# `#` any number). The queue of handler `on_x` of service `svc` is `svc.on_x`.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "planner.on_checklist_submitted": ("checklist.submitted",),
    "planner.on_evidence_reviewed": ("evidence.reviewed",),
    "evidence.on_plan_created": ("plan.created",),
    "evidence.on_action_status_changed": ("action.status_changed",),
    "notify.on_account_changed": ("account.*",),
    "notify.on_checklist_submitted": ("checklist.submitted",),
    "notify.on_plan_created": ("plan.created",),
    "notify.on_plan_completed": ("plan.completed",),
    "notify.on_evidence_uploaded": ("evidence.uploaded",),
    "notify.on_evidence_reviewed": ("evidence.reviewed",),
    "notify.on_action_due_soon": ("action.due_soon",),
    "notify.on_action_overdue": ("action.overdue",),
    "notify.on_action_verified": ("action.verified",),
    "notify.on_action_commented": ("action.commented",),
    "gateway.on_event_for_webhooks": ("#",),
}


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: `*` is exactly one word, `#` zero or more."""
    def match(p, k):
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and (p[0] == "*" or p[0] == k[0]) and match(p[1:], k[1:])
    return match(pattern.split("."), routing_key.split("."))


def subscription_queue(name: str) -> Queue:
    try:
        routing_keys = SUBSCRIPTIONS[name]
    except KeyError:
        raise LookupError(
            f"subscription {name!r} is not declared in c2p.topology.SUBSCRIPTIONS") from None
    from kombu import binding
    bindings = [binding(EVENTS_EXCHANGE, routing_key=key) for key in routing_keys]
    bindings.append(binding(REQUEUE_EXCHANGE, routing_key=name))
    return Queue(name, bindings=bindings, durable=True)


def parked_queue(name: str) -> Queue:
    return Queue(f"{name}.parked", exchange=Exchange(""), routing_key=f"{name}.parked",
                 durable=True)


def delay_exchange(delay_ms: int) -> Exchange:
    return Exchange(f"c2p.delay.{delay_ms}", type="fanout", durable=True)


def delay_queue(delay_ms: int) -> Queue:
    # No x-dead-letter-routing-key: an expired message keeps the routing key it
    # was published with, which is the name of the queue to return to.
    return Queue(f"c2p.delay.{delay_ms}", exchange=delay_exchange(delay_ms), durable=True,
                 queue_arguments={"x-message-ttl": delay_ms,
                                  "x-dead-letter-exchange": REQUEUE_EXCHANGE.name})


def entities(retry_delays_ms) -> list:
    found = [EVENTS_EXCHANGE, REQUEUE_EXCHANGE]
    for delay in retry_delays_ms:
        found += [delay_exchange(delay), delay_queue(delay)]
    for name in SUBSCRIPTIONS:
        found += [subscription_queue(name), parked_queue(name)]
    return found


def declare(connection, retry_delays_ms) -> None:
    """Declare every exchange, queue and binding (idempotent)."""
    channel = connection.channel()
    try:
        for entity in entities(retry_delays_ms):
            entity(channel).declare()  # a bound copy: the module-level ones stay unbound
    finally:
        channel.close()
