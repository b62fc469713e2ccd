"""Notify tables: the in-app inbox."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, Text, UniqueConstraint, func
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
