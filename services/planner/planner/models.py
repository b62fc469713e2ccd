"""Planner tables: improvement plans, their actions, and the history of every change.

An action lives in the plan of the visit that found its gap (`origin_plan_id`) and
is linked to every plan it belongs to through `plan_entries`: a gap found again on
a later visit while its action is still open links the same action to the new plan
(carried over, `recurring`) instead of writing a second one. `plan_id` is the latest
plan the action belongs to, the one its events name.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String,
                        Text, func, text)
from sqlalchemy.dialects.postgresql import JSONB
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
    visited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    coachees: Mapped[list] = mapped_column(JSONB, default=list)  # [{id, role, name}]
    coach_agreed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    coach_agreed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    coachee_agreed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    coachee_agreed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                               nullable=True)
    agreed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)
    grow_goal: Mapped[str] = mapped_column(Text, default="")
    grow_reality: Mapped[str] = mapped_column(Text, default="")
    grow_options: Mapped[str] = mapped_column(Text, default="")
    grow_will: Mapped[str] = mapped_column(Text, default="")
    entries: Mapped[list["PlanEntry"]] = relationship(
        back_populates="plan", order_by="PlanEntry.position", cascade="all, delete-orphan")

    @property
    def coachee_ids(self) -> list[str]:
        """The coachees with an account (staff without one cannot sign in or be alerted)."""
        return [c["id"] for c in self.coachees or [] if c.get("account", True)]

    @property
    def actions(self) -> list["Action"]:
        return [entry.action for entry in self.entries]


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_owner_due", "owner_id", "due_date"),
        # Open actions only (migration 0004): a visit's verify / carry-over, the sweep.
        Index("ix_actions_open_plan_item", "plan_id", "item_code",
              postgresql_where=text("status IN ('todo', 'in_progress', 'awaiting_review')")),
        Index("ix_actions_open_due", "due_date",
              postgresql_where=text("status IN ('todo', 'in_progress', 'awaiting_review')")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), index=True)
    origin_plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"),
                                                             nullable=True)
    position: Mapped[int] = mapped_column(Integer)  # in its origin plan
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
    source: Mapped[str] = mapped_column(String(16), default="gap")  # gap | coach
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")  # the latest review comment
    drop_reason: Mapped[str] = mapped_column(Text, default="")
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # the last time alert sent: none | due_soon | overdue (set with the alert's outbox row)
    alert_state: Mapped[str] = mapped_column(String(16), default="none")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The follow-up visit that found the item passing and so closed the action.
    verified_by_submission_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    entries: Mapped[list["PlanEntry"]] = relationship(back_populates="action")


class PlanEntry(Base):
    """An action as it appears in one plan (an action carried over is in several)."""
    __tablename__ = "plan_entries"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("actions.id"), primary_key=True,
                                                 index=True)
    position: Mapped[int] = mapped_column(Integer)
    carried_over: Mapped[bool] = mapped_column(Boolean, default=False)
    plan: Mapped[ImprovementPlan] = relationship(back_populates="entries")
    action: Mapped[Action] = relationship(back_populates="entries", lazy="joined")


class ActionComment(Base):
    """One message of the conversation on an action (coach and coachees); its id is
    generated by the client, so a retried sync never posts it twice."""
    __tablename__ = "action_comments"
    __table_args__ = (Index("ix_action_comments_action_created", "action_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("actions.id"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"))  # where it was said
    author_id: Mapped[str] = mapped_column(String(64))
    author_role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HistoryEntry(Base):
    """Who changed what and when, for every change to a plan or its actions."""
    __tablename__ = "plan_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), index=True)
    action_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, index=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    change: Mapped[str] = mapped_column(String(48))
    details: Mapped[dict] = mapped_column(JSONB, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
