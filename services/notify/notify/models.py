"""Notify tables: the inbox, the replica of recipients, the deliveries.

- `InboxMessage`: one alert in one person's in-app inbox (both languages); its
  id is the notification id every delivery of that alert refers to.
- `Recipient`: what notify knows of an account, kept from `account.*` events.
- `Delivery`: one message to one person on one channel for one event: unique
  on (event, recipient, channel), so an event that comes twice sends once.
  Sending happens after this row is committed (see `notify.store`).
- `KnownAction`: an action's text and facility, from `plan.created`, to word
  the evidence alerts (evidence events carry only ids).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (Boolean, Date, DateTime, Index, Integer, String, Text,
                        UniqueConstraint, func)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class InboxMessage(Base):
    """One alert in one person's in-app inbox; one per event, recipient and kind."""
    __tablename__ = "inbox_messages"
    __table_args__ = (UniqueConstraint("recipient_id", "event_id", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(64))
    title_fr: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    body_fr: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now(), index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Recipient(Base):
    __tablename__ = "recipients"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(120))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), index=True)
    scope: Mapped[list] = mapped_column(JSONB)
    language: Mapped[str] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    facility_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    coaching: Mapped[list] = mapped_column(JSONB)  # [{"facility_id", "facility_path"}]
    preferences: Mapped[dict] = mapped_column(JSONB)
    active: Mapped[bool] = mapped_column(Boolean)
    # occurred_at of the account event applied last: an older one arriving late
    # (a retry) must not overwrite a newer state.
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


DELIVERY_STATUSES = ("pending", "held", "digest", "sending", "delivered", "failed",
                     "digested", "cancelled")


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("event_id", "recipient_id", "channel"),
                      Index("ix_deliveries_due", "status", "next_attempt_at"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notification_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(320), nullable=True)
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(400))
    # Where it concerns (a digest: the common path of its alerts): the log is scoped.
    facility_path: Mapped[str | None] = mapped_column(String(400), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    digest_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         nullable=True)


class KnownAction(Base):
    __tablename__ = "known_actions"

    action_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    plan_id: Mapped[uuid.UUID]
    facility_name: Mapped[str] = mapped_column(Text)
    text_fr: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
