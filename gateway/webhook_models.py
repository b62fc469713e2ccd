"""Gateway tables for webhooks: partner endpoints, one delivery per (endpoint, event),
and a log line per delivery attempt.

The delivery row is the work queue of the delivery timer: `status` is `pending`
until it is `delivered` or `failed` (attempts exhausted); `next_attempt_at` is
when it is due, and doubles as a lease while a replica is sending it (see
`gateway.webhooks`).
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint, func)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.models import Base

from c2p.api.webhooks import DELIVERY_STATUSES  # noqa: E402,F401  (one list, in the API)


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # client-generated
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(100)))  # topic patterns
    # Kept to sign each delivery (HMAC needs the key itself); shown to the admin once.
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The owner (an admin) and the org-unit paths whose events it receives: within
    # the owner's scope when made; deliveries also stay within the owner's
    # current scope (`gateway.webhooks.record_event`).
    created_by: Mapped[str] = mapped_column(String(64))
    scope: Mapped[list[str]] = mapped_column(ARRAY(String(400)), default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # A redelivered event makes no second delivery to the same endpoint.
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True,
                                          default=uuid.uuid4)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id",
                                                        ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    event_type: Mapped[str] = mapped_column(String(100))
    envelope: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                      server_default=func.now())
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())

    attempt_log: Mapped[list["WebhookAttempt"]] = relationship(
        order_by="WebhookAttempt.id", cascade="all, delete-orphan", lazy="selectin")


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)


class WebhookBinding(Base):
    """A routing key the webhook queue is (or may be) bound to on `c2p.events`:
    written before binding, deleted after unbinding (`gateway.webhook_bindings`)."""
    __tablename__ = "webhook_bindings"

    routing_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())
