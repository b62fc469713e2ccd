"""The one way a service touches its database: a unit of work per worker.

`Database` is a nameko DependencyProvider. Each worker gets a `UnitOfWork`: a
SQLAlchemy session plus `emit()`, which writes an event to the outbox table in
the same transaction as the change it reports (transactional outbox).

The transaction is settled *before* the entrypoint replies or acks (see
`c2p.entrypoints`): nameko runs dependency hooks after the reply, so committing
there could tell a client "stored" before the commit, or ack an event whose
effect is then lost. For event handlers, the processed event id is inserted in
the same transaction (idempotent consumer): a redelivery finds it and does
nothing.

After commit, the worker's events are published at once; whatever that misses
(broker down, process killed) the outbox relay timer publishes later.
"""
from __future__ import annotations

import logging
import sys
import uuid
import weakref

from nameko import config
from nameko.extensions import DependencyProvider
from sqlalchemy import (Column, DateTime, Integer, MetaData, String, Table, create_engine,
                        delete, func, insert, select, text, update)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from c2p.bus import Bus
from c2p.clock import utcnow
from c2p.contracts import Event, latest_version
from c2p.topology import EVENTS_EXCHANGE

log = logging.getLogger(__name__)

# Tables every service has, created by each service's first migration
# (`c2p.migrations.create_platform_tables`).
platform_metadata = MetaData()

outbox = Table(
    "outbox", platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("envelope", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True), nullable=True, index=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
)

processed_events = Table(
    "processed_events", platform_metadata,
    Column("consumer", String(128), primary_key=True),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def driver_url(url: str) -> str:
    """Pin the psycopg2 driver (SQLAlchemy 2.1 would pick psycopg 3, which blocks eventlet)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, pool_size: int = 4, max_overflow: int | None = None):
    # A worker waits for a free connection (pool_timeout) rather than opening
    # more: that is the back-pressure that keeps the server under max_connections.
    return create_engine(driver_url(url), pool_size=pool_size,
                         max_overflow=pool_size if max_overflow is None else max_overflow,
                         pool_timeout=30,
                         pool_pre_ping=True, pool_recycle=1800,
                         connect_args={"application_name": "c2p"})


class UnitOfWork:
    """What a worker sees: `session` for its changes, `emit` for its events."""

    def __init__(self, provider: "Database", worker_ctx):
        self._provider = provider
        self._worker_ctx = worker_ctx
        self._session = None
        self.emitted: list[uuid.UUID] = []
        self.settled = False

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(self._provider.engine, expire_on_commit=False)
        return self._session

    def emit(self, event_type: str, data: dict, version: int | None = None) -> Event:
        """Record an event to publish once, and only if, this transaction commits."""
        event = Event(type=event_type, data=data,
                      version=version or latest_version(event_type),
                      source=self._provider.service_name,
                      correlation_id=self._worker_ctx.context_data.get("correlation_id", ""))
        wire = event.to_wire()  # validates against the contract before anything is written
        self.session.execute(insert(outbox).values(id=event.id, type=event.type, envelope=wire))
        self.emitted.append(event.id)
        return event

    def commit(self) -> None:
        """Make what the worker did so far durable, before the worker ends.

        The one mid-worker commit, for the few entrypoints that need it: a timer
        working through a backlog in batches (fewer locks held at once), or a
        refusal that must stay on record although the entrypoint then answers
        with an error (which rolls back the rest). Helpers never commit; the
        entrypoint settles the unit of work."""
        self.session.commit()

    def relay_outbox(self, min_age_s: float) -> int:
        """Publish what earlier workers left unsent (see `publish_pending`)."""
        return publish_pending(self._provider.engine, self._provider.bus, min_age_s=min_age_s)

    def purge_published(self, older_than_days: int) -> int:
        return purge_published(self._provider.engine, older_than_days)

    def outbox_backlog(self) -> tuple[int, float]:
        return outbox_backlog(self._provider.engine)

    def close(self):
        if self._session is not None:
            self._session.close()


class Database(DependencyProvider):
    """A unit of work per worker over this service's own database."""

    def __init__(self):
        self.units: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @property
    def service_name(self):
        return self.container.service_name

    def setup(self):
        settings = config["C2P_SETTINGS"]
        self.engine = make_engine(settings.database_url(self.service_name),
                                  settings.db_pool_size, settings.db_max_overflow)
        self.bus = Bus(config["AMQP_URI"])

    def stop(self):
        self.engine.dispose()
        self.bus.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        unit = UnitOfWork(self, worker_ctx)
        self.units[worker_ctx] = unit
        return unit

    # --- settling, called by c2p.entrypoints before the reply or ack ---------

    def settle(self, worker_ctx, exc_info, consumed_event_id=None):
        """Commit on success (with the inbox row), roll back on error.

        Returns the exc_info the entrypoint should report: the handler's own,
        or the commit's if the commit failed.
        """
        unit = self.units.get(worker_ctx)
        if unit is None or unit.settled:
            return exc_info
        unit.settled = True
        if unit._session is None and consumed_event_id is None:
            return exc_info
        session = unit.session
        if exc_info is not None:
            session.rollback()
            return exc_info
        try:
            if consumed_event_id is not None:
                try:
                    with session.begin_nested():
                        session.execute(insert(processed_events).values(
                            consumer=self.consumer_name(worker_ctx),
                            event_id=consumed_event_id))
                except IntegrityError:
                    # Another delivery of this event committed first: drop our effect.
                    session.rollback()
                    unit.emitted.clear()
                    log.info("duplicate event %s for %s ignored", consumed_event_id,
                             self.consumer_name(worker_ctx))
                    return None
            session.commit()
        except Exception:
            session.rollback()
            unit.emitted.clear()
            return sys.exc_info()
        return None

    def worker_teardown(self, worker_ctx):
        unit = self.units.get(worker_ctx)
        if unit is None:
            return
        if not unit.settled:  # timers and other entrypoints without a reply
            exc = self.settle(worker_ctx, None)
            if exc is not None:
                log.error("commit failed in %s", worker_ctx, exc_info=exc)
        del self.units[worker_ctx]
        unit.close()
        if unit.emitted:
            try:
                publish_pending(self.engine, self.bus, ids=unit.emitted)
            except Exception:
                # The rows are committed; the relay timer will publish them.
                log.warning("immediate publish failed; the outbox relay will retry",
                            exc_info=True)

    @staticmethod
    def consumer_name(worker_ctx):
        return f"{worker_ctx.container.service_name}.{worker_ctx.entrypoint.method_name}"

    def already_processed(self, consumer: str, event_id) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(processed_events.c.event_id).where(
                processed_events.c.consumer == consumer,
                processed_events.c.event_id == event_id)).first() is not None


def add_once(session, row) -> bool:
    """Store a new row that carries a client-generated id (an ORM object, or a Core
    INSERT on a hot path); False when that id was stored meanwhile (the same
    client id twice at once): the transaction is then rolled back whole, so the
    caller reads the first one afresh."""
    try:
        with session.begin_nested():
            if getattr(row, "is_dml", False):  # a Core INSERT
                session.execute(row)
            else:
                session.add(row)
                session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def publish_pending(engine, bus: Bus, ids=None, min_age_s: float = 0, batch: int = 200) -> int:
    """Publish unsent outbox rows with confirms and mark them sent.

    Rows are locked with SKIP LOCKED, so the immediate path and the relay of any
    number of replicas never publish the same row at the same time. A crash
    between confirm and commit republishes a row: consumers are idempotent.
    """
    sent = 0
    while True:
        with Session(engine) as session, session.begin():
            query = (select(outbox.c.id, outbox.c.type, outbox.c.envelope)
                     .where(outbox.c.published_at.is_(None))
                     .order_by(outbox.c.created_at)
                     .limit(batch)
                     .with_for_update(skip_locked=True))
            if ids is not None:
                query = query.where(outbox.c.id.in_(ids))
            if min_age_s:
                query = query.where(outbox.c.created_at
                                    < func.now() - text(f"interval '{float(min_age_s)} seconds'"))
            rows = session.execute(query).all()
            done, failure = [], None
            for row in rows:
                try:
                    bus.publish(row.envelope, exchange=EVENTS_EXCHANGE.name,
                                routing_key=row.type, message_id=str(row.id))
                except Exception as exc:  # broker down: keep what was confirmed
                    failure = exc
                    session.execute(update(outbox).where(outbox.c.id == row.id)
                                    .values(attempts=outbox.c.attempts + 1))
                    break
                done.append(row.id)
            if done:
                session.execute(update(outbox).where(outbox.c.id.in_(done))
                                .values(published_at=utcnow()))
            sent += len(done)
        if failure is not None:
            raise failure
        if ids is not None or len(rows) < batch:
            return sent


def purge_published(engine, older_than_days: int = 7) -> int:
    with engine.begin() as conn:
        result = conn.execute(delete(outbox).where(
            outbox.c.published_at < func.now() - text(f"interval '{int(older_than_days)} days'")))
        return result.rowcount


def outbox_backlog(engine) -> tuple[int, float]:
    """(rows not yet published, age in seconds of the oldest of them), for the metrics."""
    with engine.connect() as conn:
        count, oldest = conn.execute(text(
            "select count(*), coalesce(extract(epoch from now() - min(created_at)), 0) "
            "from outbox where published_at is null")).one()
    return int(count), float(oldest)
