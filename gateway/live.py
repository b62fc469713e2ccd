"""Live updates: every event of the platform, fanned out to the open SSE streams of
this gateway process, each stream seeing only what its user may see.

Several gateway replicas each run one `LiveHub`: it consumes events through a
queue of its own (exclusive, auto-delete, on `c2p.events`), so a client connected
to any replica gets every event its scope allows, once. The queue is bound only
while someone may be shown something: to the event types the open streams' roles
may see (`stream_keys`, the types `visible` can pass), from the first stream
opened until `LINGER_S` after the last one closed (so a quick reconnection still
finds its `Last-Event-ID`). A replica with no open stream gets no event at all.

Memory stays bounded: each stream has a bounded queue; when a client reads too
slowly for it to keep up, the stream is dropped (the client reconnects, with
`Last-Event-ID`, and is replayed what this replica still remembers), instead of
letting its backlog grow. The broker side is bounded too (`x-max-length`).

Live updates are best effort by design: while a replica is disconnected from
the broker it misses events (its queue is gone with its connection); durable
consumers are the webhooks and the services' own queues. The replay buffer is
emptied whenever the queue is bound afresh, so a replay never skips a gap.
"""
from __future__ import annotations

import collections
import json
import logging
import os
import socket
import time
import uuid

import eventlet
from eventlet.queue import Empty, Full, LightQueue
from kombu import Connection, Queue
from nameko import config
from nameko.extensions import DependencyProvider, SharedExtension

from c2p.contracts import REGISTRY
from c2p.scope import event_in_scope, in_scope
from c2p.topology import EVENTS_EXCHANGE

log = logging.getLogger(__name__)

REPLAY_BUFFER = 1000       # recent events kept per replica for Last-Event-ID
BROKER_MAX_LENGTH = 10000  # events the broker holds for a stalled replica
LINGER_S = 120             # bound this long after the last stream closed
BIND_WAIT_S = 3            # a new stream waits this long at most for its bindings
DRAIN_S = 0.25             # how often the consumer looks at what to bind
CLOSE = object()


def visible(event_type: str, data: dict, caller_id: str, role: str, scope) -> bool:
    """May this user see this event? Facility events by scope; account events only
    for admins whose scope holds the whole account (`c2p.scope.event_places`: a
    Kayes admin does not see a Niono coach's phone number); notification outcomes
    only for their recipient; nothing else."""
    if event_type.startswith("account."):
        return role == "admin" and event_in_scope(event_type, data, scope)
    path = data.get("facility_path") if isinstance(data, dict) else None
    if isinstance(path, str) and path:
        return in_scope(path, scope)
    if isinstance(data, dict) and data.get("recipient_id"):
        return data["recipient_id"] == caller_id
    return False


def stream_keys(role: str) -> frozenset[str]:
    """The event types a stream of this role may be shown, as `visible` decides:
    those whose data carries a facility path or a recipient (in any version of
    their contract), and account events for admins only."""
    keys = {event_type for (event_type, _), schema in REGISTRY.items()
            if {"facility_path", "recipient_id"} & set(schema._declared_fields)}
    if role == "admin":
        keys |= {event_type for (event_type, _) in REGISTRY if event_type.startswith("account.")}
    return frozenset(keys)


class Interest:
    """The event types this replica's live queue must be bound to: those of every
    stream opened since the hub was last idle; none once no stream has been open
    for `linger_s` (plain bookkeeping, the consumer applies it)."""

    def __init__(self, linger_s: float = LINGER_S):
        self.linger_s = linger_s
        self.wanted: set[str] = set()
        self.idle_since: float | None = None

    def opened(self, role: str) -> frozenset[str]:
        keys = stream_keys(role)
        self.wanted |= keys
        self.idle_since = None
        return keys

    def all_closed(self, now: float) -> None:
        self.idle_since = now

    def expire(self, now: float) -> None:
        if self.idle_since is not None and now - self.idle_since >= self.linger_s:
            self.wanted.clear()
            self.idle_since = None


def frame(envelope: dict) -> bytes:
    """One SSE message: `id`, `event` (the event type), `data` (the envelope, one line)."""
    data = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    return f"id: {envelope['id']}\nevent: {envelope['type']}\ndata: {data}\n\n".encode("utf-8")


class Stream:
    """One open SSE connection: who it is for, and its bounded backlog."""

    def __init__(self, caller_id, role, scope, size):
        self.caller_id, self.role, self.scope = caller_id, role, tuple(scope)
        self.queue = LightQueue(maxsize=size)
        self.closed_because = None

    def wants(self, event_type, data) -> bool:
        return visible(event_type, data, self.caller_id, self.role, self.scope)

    def offer(self, item) -> bool:
        try:
            self.queue.put_nowait(item)
            return True
        except Full:
            return False

    def close(self, reason):
        if self.closed_because is None:
            self.closed_because = reason
        # Free the backlog at once, and wake the stream's reader if it waits.
        while True:
            try:
                self.queue.get_nowait()
            except Empty:
                break
        self.offer(CLOSE)


class LiveHub(SharedExtension):
    """One per gateway process: the broker consumer and the set of open streams."""

    def __init__(self):
        super().__init__()
        self.streams: set[Stream] = set()
        self.recent = collections.deque(maxlen=REPLAY_BUFFER)  # (event id, type, data, frame)
        self.ready = eventlet.Event()
        self.interest = Interest()
        self.bound: set[str] = set()  # routing keys the current queue is bound to
        self._consuming = False
        self._stopping = False
        self._thread = None
        self.delivered = 0
        self.dropped = 0

    def setup(self):
        settings = config["C2P_SETTINGS"]
        self.amqp_uri = config["AMQP_URI"]
        self.queue_size = settings.live_queue_size
        self.heartbeat_s = settings.live_heartbeat_s

    def start(self):
        self._thread = self.container.spawn_managed_thread(self._consume,
                                                           identifier="LiveHub.consume")

    def stop(self):
        self._stopping = True
        for stream in list(self.streams):
            stream.close("server shutting down")
        self.streams.clear()
        if self._thread is not None:
            self._thread.kill()

    def kill(self):
        self.stop()

    # --- the broker side ------------------------------------------------------

    def _queue(self) -> Queue:
        # Declared with no binding: `_bind` follows the open streams.
        name = f"gateway.live.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        return Queue(name, durable=False, exclusive=True, auto_delete=True,
                     queue_arguments={"x-max-length": BROKER_MAX_LENGTH,
                                      "x-overflow": "drop-head"})

    def _bind(self, channel, queue: str) -> None:
        """Bind and unbind the queue (an exclusive one: only from its own connection,
        so from the consumer's loop) to what the open streams may see."""
        self.interest.expire(time.monotonic())
        wanted = self.interest.wanted
        added, removed = wanted - self.bound, self.bound - wanted
        if added and not self.bound:
            self.recent.clear()  # what it holds is from before a gap
        for key in sorted(added):
            channel.queue_bind(queue, EVENTS_EXCHANGE.name, key)
            self.bound.add(key)
        for key in sorted(removed):
            channel.queue_unbind(queue, EVENTS_EXCHANGE.name, key)
            self.bound.discard(key)

    def _consume(self):
        delay = 1
        while not self._stopping:
            try:
                with Connection(self.amqp_uri, heartbeat=30) as connection:
                    connection.ensure_connection(max_retries=1)
                    queue = self._queue()
                    with connection.Consumer(queue, callbacks=[self._on_message],
                                             no_ack=True, accept=["json"]) as consumer:
                        self.bound = set()  # a new queue
                        self._consuming = True
                        if not self.ready.ready():
                            self.ready.send(True)
                        delay = 1
                        while not self._stopping:
                            self._bind(consumer.channel, queue.name)
                            try:
                                connection.drain_events(timeout=DRAIN_S)
                            except socket.timeout:
                                connection.heartbeat_check()
            except Exception as exc:  # never let the container die for live updates
                self._consuming = False
                if self._stopping:
                    return
                log.warning("live updates: broker connection lost (%s); retrying in %s s",
                            exc, delay)
                if self.ready.ready():
                    self.ready.reset()
                eventlet.sleep(delay)
                delay = min(delay * 2, 30)

    def _on_message(self, body, message):
        try:
            if isinstance(body, (bytes, str)):
                body = json.loads(body)
            event_id, event_type, data = str(body["id"]), body["type"], body["data"]
            if not isinstance(event_type, str) or not isinstance(data, dict):
                raise ValueError("type or data of the wrong kind")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("live updates: unreadable event ignored: %s", exc)
            return
        self.publish(event_id, event_type, data, frame(body))

    # --- the streams side --------------------------------------------------------

    def publish(self, event_id, event_type, data, payload: bytes):
        self.recent.append((event_id, event_type, data, payload))
        for stream in list(self.streams):
            if stream.closed_because or not stream.wants(event_type, data):
                continue
            if stream.offer(payload):
                self.delivered += 1
            else:
                self.dropped += 1
                self.close(stream)
                stream.close("client too slow: reconnect with Last-Event-ID")
                log.info("live updates: dropped a stream of %s (too slow)", stream.caller_id)

    def wait_ready(self, seconds: float) -> bool:
        if self.ready.ready():
            return True
        with eventlet.Timeout(seconds, False):
            self.ready.wait()
        return self.ready.ready()

    def open(self, caller_id, role, scope, last_event_id=None) -> Stream:
        keys = self.interest.opened(role)
        if self._consuming:  # the events from now on reach this replica
            deadline = time.monotonic() + BIND_WAIT_S
            while not keys <= self.bound and time.monotonic() < deadline:
                eventlet.sleep(0.02)
        stream = Stream(caller_id, role, scope, self.queue_size)
        recent = list(self.recent) if last_event_id else []
        ids = [item[0] for item in recent]
        if last_event_id in ids:
            for _, event_type, data, payload in recent[ids.index(last_event_id) + 1:]:
                if stream.wants(event_type, data) and not stream.offer(payload):
                    stream.close("too much to replay: reload instead")
                    return stream
        self.streams.add(stream)
        return stream

    def close(self, stream: Stream):
        self.streams.discard(stream)
        if not self.streams:
            self.interest.all_closed(time.monotonic())


class Live(DependencyProvider):
    """Gives a worker this process's `LiveHub`."""

    hub = LiveHub()

    def get_dependency(self, worker_ctx):
        return self.hub
