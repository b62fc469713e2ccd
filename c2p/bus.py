"""Publishing to RabbitMQ with publisher confirms.

`Bus.publish` returns only once the broker has confirmed the message (it is then
on disk for durable queues), so a caller may safely mark an outbox row sent or
ack the message it is retrying.
"""
from __future__ import annotations

import json
import logging

from kombu import Connection
from kombu.pools import producers

log = logging.getLogger(__name__)

RETRY_POLICY = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5,
                "interval_max": 2}


class Bus:
    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self.connection = Connection(amqp_uri, transport_options={"confirm_publish": True},
                                     heartbeat=0)

    def publish(self, body, *, exchange, routing_key, headers=None, message_id=None,
                content_type="application/json", content_encoding="utf-8"):
        if not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body, ensure_ascii=False).encode("utf-8")
        with producers[self.connection].acquire(block=True, timeout=30) as producer:
            producer.publish(
                body, exchange=exchange, routing_key=routing_key, headers=headers or {},
                message_id=message_id, content_type=content_type,
                content_encoding=content_encoding, delivery_mode=2,
                retry=True, retry_policy=RETRY_POLICY)

    def close(self):
        producers[self.connection].force_close_all()
        self.connection.release()
