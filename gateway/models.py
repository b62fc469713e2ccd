"""Gateway tables: accounts (role, scope, contacts, coaching), refresh tokens, and
the sign-in failure counters that slow password guessing."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("coachee", "coach", "champion", "manager", "admin")


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    scope: Mapped[list[str]] = mapped_column(ARRAY(String(400)))  # org-unit paths
    language: Mapped[str] = mapped_column(String(8), default="fr")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    cohort: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The facility a coachee works at (their scope is that facility's path).
    facility_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Facilities a coach follows: [{"facility_id", "facility_path"}]; the
    # coachees of a facility follow from their own facility_id. A column rather
    # than a table: it travels whole in every account.* event anyway.
    coaching: Mapped[list] = mapped_column(JSONB, default=list)
    preferences: Mapped[dict] = mapped_column(JSONB, default=dict)
    # Bumped when the account is disabled, re-scoped or changes role: access
    # tokens carry the version they were issued at and stop working after.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class RefreshToken(Base):
    """A refresh token, stored as its SHA-256 only. Each use rotates it: the old
    one is revoked and replaced; using a revoked one revokes its whole family
    (someone replayed a stolen token)."""
    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64),
                                            ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)


class SignInFailures(Base):
    """Failed sign-ins per key (`user:<name>` or `ip:<address>`)."""
    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)
