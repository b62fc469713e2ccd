"""Publishing to RabbitMQ with publisher confirms.

`Bus.publish` returns only once the broker has confirmed the message (it is then
on disk for durable queues), so a caller may safely mark an outbox row sent or
ack the message it is retrying.
"""
from __future__ import annotations

import json
import logging

from kombu import Connection
from kombu.pools import ProducerPool

log = logging.getLogger(__name__)

RETRY_POLICY = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5,
                "interval_max": 2}


class Bus:
    def __init__(self, amqp_uri: str, pool_size: int = 20):
        self.amqp_uri = amqp_uri
        self.connection = Connection(amqp_uri, transport_options={"confirm_publish": True},
                                     heartbeat=0)
        # Pools of our own: kombu's global pools are shared by every Connection
        # with the same URI, so closing one Bus would close them for all.
        self._connections = self.connection.Pool(limit=pool_size)
        self._producers = ProducerPool(self._connections, limit=pool_size)

    def publish(self, body, *, exchange, routing_key, headers=None, message_id=None,
                content_type="application/json", content_encoding="utf-8"):
        if isinstance(body, str):  # already serialised (e.g. a received message's body)
            body = body.encode(content_encoding)
        elif not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body, ensure_ascii=False).encode("utf-8")
        with self._producers.acquire(block=True, timeout=30) as producer:
            producer.publish(
                body, exchange=exchange, routing_key=routing_key, headers=headers or {},
                message_id=message_id, content_type=content_type,
                content_encoding=content_encoding, delivery_mode=2,
                retry=True, retry_policy=RETRY_POLICY)

    def close(self):
        self._producers.force_close_all()
        self._connections.force_close_all()
