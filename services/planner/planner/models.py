"""Planner tables: improvement plans and their actions."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class ImprovementPlan(Base):
    __tablename__ = "plans"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    submission_id: Mapped[uuid.UUID] = mapped_column(unique=True)  # one plan per visit
    facility_id: Mapped[str] = mapped_column(String(64), index=True)
    facility_name: Mapped[str] = mapped_column(String(200))
    facility_path: Mapped[str] = mapped_column(String(400), index=True)
    coach_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    actions: Mapped[list["Action"]] = relationship(
        back_populates="plan", order_by="Action.position", cascade="all, delete-orphan")


class Action(Base):
    __tablename__ = "actions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text_fr: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    verification_fr: Mapped[str] = mapped_column(Text, default="")
    verification_en: Mapped[str] = mapped_column(Text, default="")
    responsible_role: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    due_date: Mapped[date] = mapped_column(Date)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    points_lost: Mapped[float] = mapped_column(Float, default=0)
    status: Mapped[str] = mapped_column(String(24), default="todo")
    plan: Mapped[ImprovementPlan] = relationship(back_populates="actions")
