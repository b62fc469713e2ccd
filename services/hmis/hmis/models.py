"""HMIS tables: what the figures are computed from, what was sent to DHIS2, the
admin's mapping, and the log of every export run.

Visits and actions are replicas built from events (`checklist.submitted`,
`plan.created`, `action.status_changed`, `action.overdue`): this service never
reads another service's tables. `sent_values` remembers, per facility, month
and figure, the value DHIS2 last accepted and where it went (data element,
category option combo, org unit): the export sends only what differs.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSONB, list: JSONB}


class Visit(Base):
    """A scored visit, as announced by `checklist.submitted`."""
    __tablename__ = "hmis_visits"

    submission_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64), index=True)
    facility_path: Mapped[str] = mapped_column(String(400))
    facility_name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(6), index=True)   # 202507
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    percent: Mapped[float | None] = mapped_column(Float, nullable=True)
    flagged: Mapped[bool] = mapped_column(Boolean)
    sections: Mapped[dict]                                        # code -> percent|None
    template_code: Mapped[str] = mapped_column(String(64))


class Section(Base):
    """A checklist section seen in a visit: its figure and the metadata's names."""
    __tablename__ = "hmis_sections"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    title_fr: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))


class TrackedAction(Base):
    """An improvement-plan action, as announced by the planner's events."""
    __tablename__ = "hmis_actions"

    action_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64), index=True)
    facility_path: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(24))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the time of the newest event applied: an older event arriving late changes nothing
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FacilityMonth(Base):
    """A facility-month whose figures may have changed since the last export."""
    __tablename__ = "hmis_facility_months"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(6), primary_key=True)
    facility_path: Mapped[str] = mapped_column(String(400))
    dirty: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class Facility(Base):
    """A facility's DHIS2 identifiers (from the checklist service), cached."""
    __tablename__ = "hmis_facilities"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dhis2_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=func.now())


class MappingEntry(Base):
    """One figure -> a DHIS2 data element (+ category option combo), by UID or code."""
    __tablename__ = "hmis_mapping"

    figure: Mapped[str] = mapped_column(String(80), primary_key=True)
    data_element: Mapped[str] = mapped_column(String(64))
    category_option_combo: Mapped[str | None] = mapped_column(String(64), nullable=True)
    id_scheme: Mapped[str] = mapped_column(String(8))             # UID | CODE


class ExportSettings(Base):
    """The one row of export settings and the exporter's lock and back-off state."""
    __tablename__ = "hmis_export_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_unit_scheme: Mapped[str] = mapped_column(String(8), default="UID")
    data_set: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mapping_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                                nullable=True)
    mapping_updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class SentValue(Base):
    """What DHIS2 holds (or refused) for one facility, month and figure."""
    __tablename__ = "hmis_sent_values"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(6), primary_key=True)
    figure: Mapped[str] = mapped_column(String(80), primary_key=True)
    target: Mapped[str] = mapped_column(String(300))   # scheme|data element|coc|org unit
    value: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12))    # sent | rejected
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExportRun(Base):
    """One export (timer, command or API; real or dry run) and DHIS2's answer."""
    __tablename__ = "hmis_export_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    trigger: Mapped[str] = mapped_column(String(16))      # timer | command | api
    requested_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The caller's scope (API runs) or the country roots the run covered: who may read it.
    scope: Mapped[list]
    period: Mapped[str | None] = mapped_column(String(6), nullable=True)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    send_all: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         nullable=True)
    values_sent: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    ignored: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[list] = mapped_column(default=list)
    skipped: Mapped[list] = mapped_column(default=list)   # values not sendable, and why
    payloads: Mapped[list] = mapped_column(default=list)  # what was (or would be) sent
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
