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

Queues are quorum queues by default (`C2P_QUEUE_TYPE=quorum`): replicated on a
RabbitMQ cluster, so losing the node that leads a queue loses no message. A
subscription queue also has a delivery limit (`C2P_DELIVERY_LIMIT`): a message
whose consumer died with it unacked that many times (a handler that crashes the
process, so the retry path in `c2p.entrypoints` never runs) is dead-lettered to
`<queue>.parked` by the broker itself. `C2P_QUEUE_TYPE=classic` keeps the old
classic queues for a single-node broker older than 3.10. A queue's type cannot
change once it exists: `python -m c2p.queues migrate` moves existing classic
queues to quorum without losing a message (deploy/README.md, "Quorum queues").
"""
from __future__ import annotations

from dataclasses import dataclass

from kombu import Exchange, Queue

EVENTS_EXCHANGE = Exchange("c2p.events", type="topic", durable=True)
REQUEUE_EXCHANGE = Exchange("c2p.requeue", type="direct", durable=True)

# queue name -> event types (routing keys; topic patterns allowed: `*` one word,
# `#` any number). The queue of handler `on_x` of service `svc` is `svc.on_x`.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "planner.on_checklist_submitted": ("checklist.submitted",),
    "planner.on_evidence_reviewed": ("evidence.reviewed",),
    "evidence.on_plan_created": ("plan.created",),
    "evidence.on_action_status_changed": ("actions.status_changed",),
    "notify.on_account_changed": ("account.*",),
    "notify.on_checklist_submitted": ("checklist.submitted",),
    "notify.on_plan_created": ("plan.created",),
    "notify.on_plan_completed": ("plan.completed",),
    "notify.on_evidence_uploaded": ("evidence.uploaded",),
    "notify.on_evidence_reviewed": ("evidence.reviewed",),
    "notify.on_action_due_soon": ("action.due_soon",),
    "notify.on_action_overdue": ("action.overdue",),
    "notify.on_action_verified": ("actions.status_changed",),
    "notify.on_action_commented": ("action.commented",),
    "hmis.on_checklist_submitted": ("checklist.submitted",),
    "hmis.on_plan_created": ("plan.created",),
    "hmis.on_action_status_changed": ("actions.status_changed",),
    "hmis.on_action_overdue": ("action.overdue",),
    "gateway.on_event_for_webhooks": ("#",),
}

# Bindings a subscription queue had in an earlier release and has no more. A new
# broker never has them. On an upgraded one they stay until an operator retires
# them (`python -m c2p.queues retire`, once no older producer runs), because in
# whatever order the services are upgraded, an older producer may still publish
# only the former type for a while. Until then the subscription handles a message
# of a former type as before, unless its data says `batched` (the new producer
# published it in a batch too, which the queue also gets): that one is acked
# unhandled (`c2p.entrypoints.Subscription`). Nothing is lost, nothing is handled
# twice, in any order of upgrade.
FORMER_BINDINGS: dict[str, tuple[str, ...]] = {
    # per action -> per operation (`actions.status_changed`): one message per
    # follow-up visit instead of one per action it verified.
    "evidence.on_action_status_changed": ("action.status_changed",),
    "hmis.on_action_status_changed": ("action.status_changed",),
    "notify.on_action_verified": ("action.verified",),
}

# Queues whose bindings to `c2p.events` their service manages at run time: the
# patterns above are what the handler accepts, not what is declared. The gateway
# binds its webhook queue to the patterns registered endpoints ask for
# (`gateway/webhook_bindings.py`), so events no endpoint wants never reach it.
BOUND_AT_RUN_TIME = frozenset({"gateway.on_event_for_webhooks"})


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: `*` is exactly one word, `#` zero or more."""
    def match(p, k):
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and (p[0] == "*" or p[0] == k[0]) and match(p[1:], k[1:])
    return match(pattern.split("."), routing_key.split("."))


@dataclass(frozen=True)
class Shape:
    """How queues are declared: their type and the subscription delivery limit."""
    queue_type: str = "quorum"
    delivery_limit: int = 10

    @classmethod
    def of(cls, settings) -> "Shape":
        return cls(settings.queue_type, settings.delivery_limit)

    @property
    def quorum(self) -> bool:
        return self.queue_type == "quorum"

    def arguments(self, **extra) -> dict:
        if not self.quorum:
            return dict(extra)
        return {"x-queue-type": "quorum", **extra}

    def dead_lettering(self, exchange: str, routing_key: str | None = None) -> dict:
        found = {"x-dead-letter-exchange": exchange}
        if routing_key is not None:
            found["x-dead-letter-routing-key"] = routing_key
        if self.quorum:
            # Quorum queues dead-letter at most once unless told otherwise; a
            # retry or a parked message must never vanish on the way.
            # (at-least-once needs reject-publish overflow.)
            found.update({"x-dead-letter-strategy": "at-least-once",
                          "x-overflow": "reject-publish"})
        return found


DEFAULT_SHAPE = Shape()


def subscription_queue(name: str, shape: Shape = DEFAULT_SHAPE) -> Queue:
    try:
        routing_keys = SUBSCRIPTIONS[name]
    except KeyError:
        raise LookupError(
            f"subscription {name!r} is not declared in c2p.topology.SUBSCRIPTIONS") from None
    from kombu import binding
    bindings = [binding(EVENTS_EXCHANGE, routing_key=key) for key in routing_keys
                if name not in BOUND_AT_RUN_TIME]
    bindings.append(binding(REQUEUE_EXCHANGE, routing_key=name))
    arguments = {}
    if shape.quorum:
        arguments = shape.arguments(**{"x-delivery-limit": shape.delivery_limit},
                                    **shape.dead_lettering("", f"{name}.parked"))
    return Queue(name, bindings=bindings, durable=True, queue_arguments=arguments)


def parked_queue(name: str, shape: Shape = DEFAULT_SHAPE) -> Queue:
    # No delivery limit here: listing parked messages reads and releases them,
    # which counts as a delivery.
    return Queue(f"{name}.parked", exchange=Exchange(""), routing_key=f"{name}.parked",
                 durable=True, queue_arguments=shape.arguments())


def delay_exchange(delay_ms: int) -> Exchange:
    return Exchange(f"c2p.delay.{delay_ms}", type="fanout", durable=True)


def delay_queue(delay_ms: int, shape: Shape = DEFAULT_SHAPE) -> Queue:
    # No x-dead-letter-routing-key: an expired message keeps the routing key it
    # was published with, which is the name of the queue to return to.
    return Queue(f"c2p.delay.{delay_ms}", exchange=delay_exchange(delay_ms), durable=True,
                 queue_arguments=shape.arguments(
                     **{"x-message-ttl": delay_ms},
                     **shape.dead_lettering(REQUEUE_EXCHANGE.name)))


# nameko's RPC request queues (`rpc-<service>`, on the `nameko-rpc` exchange,
# routing key `<service>.*`): quorum too, or a service's RPC would stop with
# the node that hosts its queue. (Reply queues stay classic and exclusive: they
# live on the node the caller is connected to and die with its connection.)
RPC_EXCHANGE = Exchange("nameko-rpc", type="topic", durable=True)


def rpc_queue(service: str, shape: Shape = DEFAULT_SHAPE) -> Queue:
    return Queue(f"rpc-{service}", exchange=RPC_EXCHANGE, routing_key=f"{service}.*",
                 durable=True, queue_arguments=shape.arguments())


def entities(retry_delays_ms, shape: Shape = DEFAULT_SHAPE) -> list:
    found = [EVENTS_EXCHANGE, REQUEUE_EXCHANGE]
    for delay in retry_delays_ms:
        found += [delay_exchange(delay), delay_queue(delay, shape)]
    for name in SUBSCRIPTIONS:
        found += [subscription_queue(name, shape), parked_queue(name, shape)]
    return found


def declare(connection, retry_delays_ms, shape: Shape = DEFAULT_SHAPE) -> None:
    """Declare every exchange, queue and binding (idempotent)."""
    channel = connection.channel()
    try:
        for entity in entities(retry_delays_ms, shape):
            entity(channel).declare()  # a bound copy: the module-level ones stay unbound
    finally:
        channel.close()


def retire_former_bindings(connection) -> list[tuple[str, str]]:
    """Unbind every FORMER_BINDINGS key from its queue (unbinding what is not bound
    is no error); the (queue, key) pairs. Run once no producer of an older release
    publishes any more: from then on the queue gets only what it subscribes to."""
    channel = connection.channel()
    done = []
    try:
        for queue, keys in FORMER_BINDINGS.items():
            for key in keys:
                channel.queue_unbind(queue, EVENTS_EXCHANGE.name, key)
                done.append((queue, key))
    finally:
        channel.close()
    return done
