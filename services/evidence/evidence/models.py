"""Evidence tables: the actions that may receive evidence."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class EvidenceTarget(Base):
    """An action of a plan that coachees may prove done (learnt from plan.created)."""
    __tablename__ = "evidence_targets"

    action_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(index=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    facility_path: Mapped[str] = mapped_column(String(400), index=True)
    coach_id: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    due_date: Mapped[date] = mapped_column(Date)
