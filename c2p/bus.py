"""Publishing to RabbitMQ with publisher confirms, a batch at a time.

`Bus.publish_all(messages)` returns only once the broker has confirmed every
message (they are then on disk for durable queues), so a caller may safely mark
outbox rows sent or ack the message it is retrying. The batch is pipelined:
every message is written, then the confirms of all of them are awaited at once
(one round trip for the batch, not one per message). When some are not
confirmed (nacked, or the connection dropped before their confirm came) it
raises `NotConfirmed` naming the ones that were, so the caller keeps the others
for a later try. `Bus.publish` is the one-message case.

A message whose confirm was lost may have reached the broker all the same;
republishing it is safe because every consumer is idempotent.
"""
from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from dataclasses import dataclass, field

import amqp
from kombu import Connection

log = logging.getLogger(__name__)

# Reconnect and resend what is unconfirmed this many times, after these pauses:
# rides out a broker restart without failing the caller.
RETRY_PAUSES_S = (0.2, 0.7, 1.5)
CONFIRM_TIMEOUT_S = 30.0


@dataclass
class Message:
    body: bytes
    exchange: str
    routing_key: str
    headers: dict = field(default_factory=dict)
    message_id: str | None = None
    content_type: str = "application/json"
    content_encoding: str = "utf-8"


class NotConfirmed(Exception):
    """Some messages of a batch were not confirmed; `confirmed` holds the indexes
    of those that were (they need no resend)."""

    def __init__(self, confirmed: set[int], total: int, cause: str):
        super().__init__(f"{total - len(confirmed)} of {total} messages not confirmed: {cause}")
        self.confirmed = confirmed


def encode(body, content_encoding="utf-8") -> bytes:
    if isinstance(body, str):  # already serialised (e.g. a received message's body)
        return body.encode(content_encoding)
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class _Channel:
    """One connection with one channel in confirm mode; used by one caller at a time.

    The broker numbers the messages of a confirming channel 1, 2, 3...; an ack or
    nack names one number, or all up to it (`multiple`)."""

    def __init__(self, amqp_uri: str):
        # Heartbeats off: nothing would read them while the channel sits idle in the
        # pool; a dead connection shows at the next publish and is replaced.
        self.connection = Connection(amqp_uri, heartbeat=0, connect_timeout=5)
        self.connection.connect()
        self.raw = self.connection.connection
        self.channel = self.raw.channel()
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self.sent = 0  # number of the last message written
        self.waiting: dict[int, int] = {}  # broker's number -> index in the batch
        self.acked: set[int] = set()
        self.nacked: set[int] = set()

    def _settle(self, tag, multiple, into):
        tags = [t for t in self.waiting if t <= tag] if multiple else [tag]
        for t in tags:
            index = self.waiting.pop(t, None)
            if index is not None:
                into.add(index)

    def _on_ack(self, tag, multiple):
        self._settle(tag, multiple, self.acked)

    def _on_nack(self, tag, multiple):
        self._settle(tag, multiple, self.nacked)

    def publish(self, batch: dict[int, Message], timeout: float) -> None:
        """Write every message, then read confirms until each has one (or time runs out)."""
        self.acked, self.nacked = set(), set()
        for index, message in batch.items():
            self.channel.basic_publish(amqp.Message(
                message.body, content_type=message.content_type,
                content_encoding=message.content_encoding,
                application_headers=message.headers, message_id=message.message_id,
                delivery_mode=2), exchange=message.exchange, routing_key=message.routing_key)
            self.sent += 1
            self.waiting[self.sent] = index
        deadline = time.monotonic() + timeout
        while self.waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no publisher confirm in time")
            self.raw.drain_events(timeout=left)

    def close(self):
        try:
            self.connection.release()
        except Exception:  # already broken: nothing to release
            pass


class Bus:
    """Publishes with confirms over a small pool of confirming channels."""

    def __init__(self, amqp_uri: str, pool_size: int = 20,
                 confirm_timeout: float = CONFIRM_TIMEOUT_S):
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        self._idle: queue.LifoQueue[_Channel] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)
        self._closed = False

    def publish(self, body, *, exchange, routing_key, headers=None, message_id=None,
                content_type="application/json", content_encoding="utf-8"):
        """Publish one message and wait for its confirm (raises if there is none)."""
        self.publish_all([Message(encode(body, content_encoding), exchange, routing_key,
                                  headers or {}, message_id, content_type, content_encoding)])

    def publish_all(self, messages: list[Message]) -> None:
        """Publish every message, then wait for all confirms; raise `NotConfirmed`
        naming the confirmed ones if any other was nacked or its confirm lost."""
        if not messages:
            return
        confirmed: set[int] = set()
        pending = dict(enumerate(messages))
        pauses = list(RETRY_PAUSES_S)
        while True:
            if not self._slots.acquire(timeout=30):
                raise NotConfirmed(confirmed, len(messages), "no free channel")
            channel = None
            try:
                channel = self._idle.get_nowait() if not self._idle.empty() else None
                channel = channel or _Channel(self.amqp_uri)
                channel.publish(pending, self.confirm_timeout)
            except Exception as exc:
                if channel is not None:
                    confirmed |= channel.acked
                    # Confirms of this batch may still arrive on it: never reuse it.
                    channel.close()
                pending = {i: m for i, m in pending.items() if i not in confirmed}
                if isinstance(exc, socket.timeout) or not pauses or self._closed:
                    raise NotConfirmed(confirmed, len(messages),
                                       f"{exc.__class__.__name__}: {exc}") from exc
                log.warning("publish failed (%s: %s); reconnecting to resend %d",
                            exc.__class__.__name__, exc, len(pending))
                time.sleep(pauses.pop(0))
                continue
            else:
                confirmed |= channel.acked
                nacked = channel.nacked
                if self._closed:  # closed meanwhile: nothing will take it from the pool
                    channel.close()
                else:
                    self._idle.put(channel)
            finally:
                self._slots.release()
            if nacked:
                raise NotConfirmed(confirmed, len(messages), "nacked by the broker")
            return

    def close(self):
        self._closed = True
        while not self._idle.empty():
            self._idle.get_nowait().close()
