"""Entrypoints that settle the unit of work before they answer.

Use these instead of nameko's own `rpc`, `event_handler`, `timer` and `http`:

- `rpc` and `http` commit before the reply is sent, so "stored" means stored;
- `subscribe(event_type)` consumes a queue declared in `c2p.topology`, claims
  the event id in the handler's own transaction (an event already processed is
  skipped: `c2p.database.Database.worker_setup`), commits the effect with it, and
  only then acks (the queue itself is declared with the whole topology by
  `c2p.service.BusTopology` when the service starts). A handler that raises is
  retried with back-off through the delay queues, then parked in `<queue>.parked`
  (nameko's own handler would ack and lose it). A message that is not a valid
  envelope is parked at once: retrying it cannot help.
  The deliveries of all of a service's queues that arrive while its handler
  worker is busy are handled by the next worker together, in one transaction
  (see `ServiceBatches`): a worker, a connection, a claim and a commit serve
  many events, not one each.
- `timer` reads its interval from settings when given a setting name.

The RPC request and reply queues are declared with the topology's queue type
(quorum by default), so RPC survives the loss of a broker node. Each
entrypoint feeds `c2p.metrics` with one call.
"""
from __future__ import annotations

import logging
import re
import time
import traceback
import uuid
from functools import partial

import eventlet
from eventlet.event import Event as Done
from marshmallow import ValidationError
from nameko import config
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import SharedExtension
from nameko.messaging import Consumer
from nameko.rpc import ReplyListener, Rpc, RpcConsumer
from nameko.rpc import ServiceRpc as NamekoServiceRpc
from nameko.timer import Timer
from nameko.web.handlers import HttpRequestHandler

from c2p import logs, metrics, topology
from c2p.bus import Bus
from c2p.clock import utcnow
from c2p.contracts import Event
from c2p.database import Database
from c2p.errors import C2PError, Refused

log = logging.getLogger(__name__)
access_log = logging.getLogger("c2p.access")  # one line per HTTP request, by route pattern

ATTEMPTS_HEADER = "x-c2p-attempts"
ERROR_HEADER = "x-c2p-error"
QUEUE_HEADER = "x-c2p-queue"
FAILED_AT_HEADER = "x-c2p-failed-at"


def _databases(container):
    return [dep for dep in container.dependencies if isinstance(dep, Database)]


def settle(worker_ctx, result, exc_info):
    """Commit or roll back every Database of the worker; a failed commit is the result."""
    for db in _databases(worker_ctx.container):
        exc_info = db.settle(worker_ctx, exc_info)
    return (None if exc_info else result), exc_info


def _refusal_as_error(exc_info):
    """A domain rule's refusal crosses RPC as the C2PError it stands for."""
    if exc_info is not None and isinstance(exc_info[1], Refused):
        error = exc_info[1].as_error()
        return type(error), error, exc_info[2]
    return exc_info


def _shape():
    settings = config.get("C2P_SETTINGS")
    return topology.Shape.of(settings) if settings is not None else topology.DEFAULT_SHAPE


class ReplicatedRpcConsumer(RpcConsumer):
    """nameko's RPC request consumer, on a queue of the topology's type."""

    def setup(self):
        super().setup()
        # The consumer holds this same Queue object: it declares it with these.
        self.queue.queue_arguments = _shape().arguments()


class ReplicatedReplyListener(ReplyListener):
    """nameko's RPC reply queue, on a queue of the topology's type (a classic reply
    queue whose node is down cannot be declared again, and every call would fail)."""

    def setup(self):
        super().setup()
        self.queue.queue_arguments = _shape().arguments(**self.queue.queue_arguments)


class ServiceRpc(NamekoServiceRpc):
    """RPC client to another service; use it instead of nameko's."""
    reply_listener = ReplicatedReplyListener()


class TransactionalRpc(Rpc):
    rpc_consumer = ReplicatedRpcConsumer()

    def __init__(self, expected_exceptions=(C2PError, Refused), **kwargs):
        # A refused request is the caller's problem: log it as a warning, not a crash.
        super().__init__(expected_exceptions=expected_exceptions, **kwargs)

    def handle_result(self, message, worker_ctx, result, exc_info):
        exc_info = _refusal_as_error(exc_info)
        result, exc_info = settle(worker_ctx, result, exc_info)
        metrics.rpc_done(worker_ctx, exc_info)
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except Exception:
            # The broker went away while we replied. nameko would let this kill
            # the whole service; instead drop the reply: the request was not
            # acked, so the broker redelivers it, and every RPC that changes
            # something is idempotent (client-generated ids).
            log.warning("%s: could not send the RPC reply (broker down?); the request "
                        "will be redelivered", worker_ctx, exc_info=True)
            return result, exc_info


CORRELATION_HEADER = "X-Correlation-Id"
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class TransactionalHttp(HttpRequestHandler):
    def __init__(self, method, url, expected_exceptions=(C2PError,), **kwargs):
        super().__init__(method, url, expected_exceptions=expected_exceptions, **kwargs)

    def handle_request(self, request):
        # nameko's own handle_request, plus the correlation id and the metrics.
        started = time.monotonic()
        request.shallow = False
        correlation_id = self.correlation_id(request)
        try:
            context_data = {**self.server.context_data_from_headers(request),
                            "correlation_id": correlation_id}
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            event = Done()
            self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                        handle_result=partial(self.handle_result, event))
            response = self.response_from_result(event.wait())
        except Exception as exc:
            response = self.response_from_exception(exc)
        elapsed = time.monotonic() - started
        metrics.http_done(self.method, self.url, response.status_code, elapsed)
        response.headers.setdefault(CORRELATION_HEADER, correlation_id)
        access_log.info("%s %s %d %.0f ms", request.method, self.url, response.status_code,
                        elapsed * 1000, extra={"correlation_id": correlation_id})
        return response

    def handle_result(self, event, worker_ctx, result, exc_info):
        result, exc_info = settle(worker_ctx, result, exc_info)
        return super().handle_result(event, worker_ctx, result, exc_info)

    @staticmethod
    def correlation_id(request) -> str:
        """The caller's correlation id if well-formed, else a new one: every RPC and
        event this request causes carries it (nameko context data, event envelope)."""
        given = request.headers.get(CORRELATION_HEADER, "")
        found = given if _CORRELATION_ID.match(given) else str(uuid.uuid4())
        request.environ["c2p.correlation_id"] = found
        return found



class SettingsTimer(Timer):
    """A timer whose interval may name a Settings attribute (e.g. 'outbox_interval_s')."""

    def setup(self):
        if isinstance(self.interval, str):
            self.interval = getattr(config["C2P_SETTINGS"], self.interval)
        super().setup()


def _declined(when, event_type, body) -> bool:
    """True when `when` says an event of the subscribed type is none of the handler's
    business. It reads the data as it came (not yet validated: validating a 49-item
    visit costs more than the rest of a no-op); anything it cannot read goes to the
    handler, which validates it and parks what is broken."""
    try:
        return body.get("type") == event_type and not when(body["data"])
    except Exception:
        return False


def _batched(body, former_types) -> bool:
    """A message of a former type whose data says `batched`, read from the raw body."""
    return (isinstance(body, dict) and body.get("type") in former_types
            and isinstance(body.get("data"), dict) and body["data"].get("batched") is True)


class ServiceBatches(SharedExtension):
    """The deliveries of all of a service's subscriptions, handed to one worker at a time.

    What arrives while the service's handler worker runs waits here (within each
    queue's prefetch) and is handed to the next worker whole, up to
    `handler_batch` events, whatever queue it came from: one nameko worker, one
    pool checkout, one claim statement and one commit serve a plan and the status
    changes published with it, or a burst of visits. Each event's handler still
    runs once, in the order the events arrived. An idle service waits
    `handler_linger_ms` (at least one turn of the event loop) before it starts,
    so that deliveries already on the wire to its other queues join the batch.
    If a batch fails, nothing of it is kept and each of its events is run again
    alone, so one bad event is retried and parked (through its own queue) on its
    own and never holds up the others."""

    def setup(self):
        settings = config["C2P_SETTINGS"]
        self.limit = settings.handler_batch
        self.linger_s = settings.handler_linger_ms / 1000
        self.waiting: list[tuple[Subscription, Event, object]] = []  # in arrival order
        self.draining = False

    def add(self, subscription, event, message) -> None:
        self.waiting.append((subscription, event, message))
        if not self.draining:
            # Not run here: this is a consumer's own thread, which must go on
            # reading its connection (heartbeats) while workers run.
            self.draining = True
            self.container.spawn_managed_thread(
                self._drain, identifier=f"ServiceBatches.drain[{self.container.service_name}]")

    def _drain(self):
        """Hand what is waiting to a worker, batch after batch, until nothing is."""
        try:
            eventlet.sleep(self.linger_s)
            while self.waiting:
                batch = self.waiting[:self.limit]
                del self.waiting[:len(batch)]
                if not self._run(batch) and len(batch) > 1:
                    for one in batch:  # alone, so a bad event fails on its own
                        self._run([one])
        finally:
            self.draining = False

    def _run(self, batch) -> bool:
        """One worker for the batch; False if it failed and was left to the caller
        (a batch of several), True once its messages are settled. The worker's
        entrypoint is the first event's subscription; it is given every event with
        the name of the handler it is for (`c2p.database.Database.worker_setup`)."""
        first = batch[0][1]
        context_data = {"correlation_id": first.correlation_id, "event_id": str(first.id)}
        done = Done()
        try:
            self.container.spawn_worker(
                batch[0][0], ([(subscription.method_name, event)
                               for subscription, event, _ in batch],), {},
                context_data=context_data,
                handle_result=partial(self.handle_result, batch, done))
        except ContainerBeingKilled:
            for subscription, _, message in batch:
                subscription.requeue(message)
            return True
        return done.wait()

    def handle_result(self, batch, done, worker_ctx, result, exc_info):
        settled = True  # False: a failed batch of several, to run again event by event
        try:
            result, exc_info = settle(worker_ctx, result, exc_info)
            metrics.batch_done(self.container.service_name, worker_ctx, len(batch))
            if exc_info is None:
                for (subscription, event, message), handled in zip(batch, result):
                    subscription.acknowledge(event, message, handled)
            elif len(batch) > 1:
                settled = False
                log.warning("%s: a batch of %d failed (%s); each event runs again alone",
                            self.container.service_name, len(batch), exc_info[1])
            else:
                subscription, _, message = batch[0]
                subscription.failed(message, exc_info)
        finally:
            done.send(settled)
        return result, exc_info


class Subscription(Consumer):
    """Consume one event type reliably: idempotent, retried, then parked.

    Each subscription has its queue (`<service>.<handler>`), its retries and its
    parked queue; its deliveries are handled by the service's worker together with
    those of its other subscriptions (`ServiceBatches`)."""

    consumes_once = True  # the service's Database claims each event (see its worker_setup)
    batches = ServiceBatches()

    def __init__(self, event_type: str, when=None, **kwargs):
        """`when(data)`, if given, is asked first with the event's data as it came:
        an event it answers false to is acked without a worker, a transaction or a
        claim (a visit that alerts nobody, say). It must be a pure function of the
        data, true for anything the handler might act on."""
        self.event_type = event_type
        self.when = when
        super().__init__(queue=None, **kwargs)

    @property
    def queue_name(self):
        return f"{self.container.service_name}.{self.method_name}"

    def setup(self):
        settings = config["C2P_SETTINGS"]
        self.queue = topology.subscription_queue(self.queue_name, topology.Shape.of(settings))
        if self.event_type not in topology.SUBSCRIPTIONS[self.queue_name]:
            raise LookupError(f"{self.queue_name} is not bound to {self.event_type} "
                              "in c2p.topology.SUBSCRIPTIONS")
        # and what an upgraded broker still routes to it (topology.FORMER_BINDINGS)
        self.former = frozenset(topology.FORMER_BINDINGS.get(self.queue_name, ()))
        self.accepts = (self.event_type, *self.former)
        self.retry_delays_ms = settings.retry_delays_ms
        self.bus = Bus(self.amqp_uri)
        super().setup()

    def stop(self):
        super().stop()
        self.bus.close()

    def handle_message(self, body, message):
        if self.former and _batched(body, self.former):
            # Its change reaches this queue in a batch too (topology.FORMER_BINDINGS):
            # acked unhandled, without a worker or a transaction.
            metrics.HANDLER_SKIPPED.labels(self.queue_name).inc()
            self._ack(message)
            return
        if self.when is not None and _declined(self.when, self.event_type, body):
            metrics.HANDLER_DECLINED.labels(self.queue_name).inc()
            self._ack(message)
            return
        try:
            event = Event.from_wire(body)
        except ValidationError as exc:
            log.error("%s: unreadable event parked: %s", self.queue_name, exc.messages)
            self._park(message, f"invalid envelope: {exc.messages}")
            return
        if not any(topology.topic_matches(pattern, event.type) for pattern in self.accepts):
            self._park(message, f"unexpected event type {event.type}")
            return
        self.batches.add(self, event, message)

    def acknowledge(self, event, message, handled: bool):
        """Ack an event of a committed batch; not handled: it was a duplicate."""
        # Its line carries its own ids, not those of the batch's last event.
        logs.current.set({"correlation_id": event.correlation_id, "event_id": str(event.id),
                          "entrypoint": self.queue_name})
        if handled:
            metrics.HANDLER_RUNS.labels(self.queue_name, "ok").inc()
            log.info("%s: handled %s %s", self.queue_name, event.type, event.id)
        else:
            metrics.HANDLER_SKIPPED.labels(self.queue_name).inc()
            log.info("%s: duplicate of %s %s ignored", self.queue_name, event.type, event.id)
        self._ack(message)

    def failed(self, message, exc_info):
        """The event's run alone failed: retry it later, or park it."""
        metrics.HANDLER_RUNS.labels(self.queue_name, "failed").inc()
        reason = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
        self._retry_or_park(message, reason)

    def _ack(self, message):
        self._settle_message(self.consumer.ack_message, message)

    def requeue(self, message):
        """Give the message back to the broker, to be delivered again."""
        self._settle_message(self.consumer.requeue_message, message)

    def _settle_message(self, settle_message, message):
        # The connection that delivered the message is gone (a broker node died):
        # the broker hands the message out again, and the inbox (or the copy
        # already published) makes that harmless. nameko would let this error
        # kill the whole service.
        try:
            settle_message(message)
        except Exception as exc:
            log.warning("%s: could not ack or requeue message %s (%s: %s); the broker "
                        "will deliver it again", self.queue_name,
                        message.properties.get("message_id"), exc.__class__.__name__, exc)

    def _retry_or_park(self, message, reason):
        attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 0))
        if attempts < len(self.retry_delays_ms):
            delay = self.retry_delays_ms[attempts]
            self._republish(message, exchange=topology.delay_exchange(delay).name,
                            routing_key=self.queue_name,
                            headers={ATTEMPTS_HEADER: attempts + 1, ERROR_HEADER: reason[:1000]})
            metrics.RETRIES.labels(self.queue_name).inc()
            log.warning("%s: attempt %d failed (%s); retry in %d ms", self.queue_name,
                        attempts + 1, reason, delay)
        else:
            self._park(message, reason, attempts)

    def _park(self, message, reason, attempts=0):
        self._republish(message, exchange="",
                        routing_key=topology.parked_queue(self.queue_name).name,
                        headers={ATTEMPTS_HEADER: attempts, ERROR_HEADER: reason[:1000],
                                 QUEUE_HEADER: self.queue_name,
                                 FAILED_AT_HEADER: utcnow().isoformat()})
        metrics.PARKED.labels(self.queue_name, "failed" if attempts else "invalid").inc()
        log.error("%s: message %s parked: %s", self.queue_name,
                  message.properties.get("message_id"), reason)

    def _republish(self, message, exchange, routing_key, headers):
        """Publish a copy with confirms, then ack; if that fails, requeue: never lose it."""
        try:
            self.bus.publish(message.body, exchange=exchange, routing_key=routing_key,
                             headers={**(message.headers or {}), **headers},
                             message_id=message.properties.get("message_id"),
                             content_type=message.content_type or "application/json",
                             content_encoding=message.content_encoding or "utf-8")
        except Exception:
            log.exception("%s: could not republish; requeueing", self.queue_name)
            self.requeue(message)
            return
        self._ack(message)


rpc = TransactionalRpc.decorator
http = TransactionalHttp.decorator
timer = SettingsTimer.decorator
subscribe = Subscription.decorator
