"""The one way a service touches its database: a unit of work per worker.

`Database` is a nameko DependencyProvider. Each worker gets a `UnitOfWork`: a
SQLAlchemy session plus `emit()`, which writes an event to the outbox table in
the same transaction as the change it reports (transactional outbox).

The transaction is settled *before* the entrypoint replies or acks (see
`c2p.entrypoints`): nameko runs dependency hooks after the reply, so committing
there could tell a client "stored" before the commit, or ack an event whose
effect is then lost. For event handlers, the event id is claimed in the
processed_events table first thing in the handler's own transaction
(idempotent consumer): a redelivery finds it claimed and does nothing, and a
copy delivered while the first is still being handled waits for it on that row.
A worker may be handed a batch of deliveries of the service's queues
(`c2p.entrypoints.ServiceBatches`): their ids are claimed in one statement, each
handler runs once per new event, and one commit settles them all.

After commit, the worker's events are published at once, as one batch with one
wait for the broker's confirms; the rows the broker confirmed are marked sent a
moment later, with those of every other worker of the process, in one statement
(`SentMarks`). Whatever that misses (broker down, process killed before the mark)
the outbox relay timer publishes later: consumers are idempotent.
"""
from __future__ import annotations

import json
import logging
import sys
import time
import weakref
from functools import partial

import eventlet

from nameko import config
from nameko.extensions import DependencyProvider
from sqlalchemy import (Column, DateTime, Integer, MetaData, String, Table, create_engine,
                        delete, func, text)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import Session

from c2p import logs
from c2p.bus import Bus, Message, NotConfirmed
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


# A connection back in the pool for less than this is taken as it is; one idle
# longer is pinged first. Pinging at every checkout (SQLAlchemy's pool_pre_ping)
# cost a round trip per worker on the hot path; a server restart takes longer
# than this, so the connections it broke have been idle longer and are pinged.
# One that dies while a worker uses it fails that worker alone (see `_roll_back`):
# an event is retried, a request answered with an error the phone retries.
PING_IF_IDLE_S = 1.0


def make_engine(url: str, pool_size: int = 4, max_overflow: int | None = None):
    # A worker waits for a free connection (pool_timeout) rather than opening
    # more: that is the back-pressure that keeps the server under max_connections.
    # LIFO: the connection used last is reused, warm and not due a ping, and the
    # others idle long enough to be retired by pool_recycle.
    engine = create_engine(driver_url(url), pool_size=pool_size,
                           max_overflow=pool_size if max_overflow is None else max_overflow,
                           pool_timeout=30, pool_use_lifo=True, pool_recycle=1800,
                           connect_args={"application_name": "c2p"})
    sqlalchemy_event.listen(engine, "checkin", _checked_in)
    sqlalchemy_event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _checked_in(dbapi_connection, record):
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, proxy):
    """SQLAlchemy's documented pessimistic check, for idle connections only: a dead
    one raises DisconnectionError, and the pool replaces it with a new one."""
    if time.monotonic() - record.info.get("checked_in_at", 0.0) < PING_IF_IDLE_S:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("select 1")
        finally:
            cursor.close()
    except Exception as exc:
        raise DisconnectionError(str(exc)) from exc


def multi_row(statement, *columns):
    """An `insert … on conflict` that is executed with a list of rows, made to go as
    ONE multi-row statement. SQLAlchemy 2.1 sends such a statement as an executemany
    when it has no RETURNING (sqlalchemy#13130), and psycopg2's executemany is one
    round trip per row; with RETURNING, SQLAlchemy batches the rows into one INSERT
    ("insertmanyvalues"). `columns`: what it returns (the key is enough). The rows
    of one call must not repeat a key an ON CONFLICT DO UPDATE would update twice."""
    return statement.returning(*columns)


# One statement for any number of rows; the envelopes go in as the JSON text
# they will be published as.
WRITE_OUTBOX = text(
    "insert into outbox (id, type, envelope) select * from unnest("
    "cast(:ids as uuid[]), cast(:types as varchar[]), cast(:envelopes as jsonb[]))")

# The rows are inserted in (consumer, id) order, so two workers claiming overlapping
# batches take the rows' locks in the same order (no deadlock between them). Run as
# the driver's SQL: it is the first statement of every handler run, and SQLAlchemy's
# statement machinery (compile cache, parameter processing, result metadata) cost
# more CPU than the round trip itself.
CLAIM = ("insert into processed_events (consumer, event_id)"
         " select consumer, id from unnest(%(consumers)s::text[], %(ids)s::uuid[])"
         " as claimed(consumer, id) order by consumer, id"
         " on conflict do nothing returning consumer, event_id::text")


class UnitOfWork:
    """What a worker sees: `session` for its changes, `emit` for its events.

    The worker holds one database connection from its first query to its commit,
    one pool checkout (and its liveness ping, if it was idle); it is given back
    before the worker's events are published (`SentMarks` marks them sent)."""

    def __init__(self, provider: "Database", worker_ctx):
        self._provider = provider
        self._worker_ctx = worker_ctx
        self._connection = None
        self._session = None
        self.emitted: list[Message] = []
        self._unwritten: list[tuple[str, str, str]] = []  # (id, type, envelope) for the outbox
        self.settled = False

    @property
    def session(self) -> Session:
        if self._session is None:
            self._connection = self._provider.engine.connect()
            self._session = Session(bind=self._connection, expire_on_commit=False)
        return self._session

    def emit(self, event_type: str, data: dict, version: int | None = None) -> Event:
        """Record an event to publish once, and only if, this transaction commits."""
        event = Event(type=event_type, data=data,
                      version=version or latest_version(event_type),
                      source=self._provider.service_name,
                      correlation_id=self._worker_ctx.context_data.get("correlation_id", ""))
        # Validated against the contract at once (the caller learns of a broken
        # contract where it broke); serialised once, for the outbox row and the message.
        body = json.dumps(event.to_wire(), ensure_ascii=False)
        self.session  # the rows are written in this worker's transaction
        self.emitted.append(Message(body.encode("utf-8"), EVENTS_EXCHANGE.name, event.type,
                                    message_id=str(event.id)))
        self._unwritten.append((str(event.id), event.type, body))
        return event

    def write_outbox(self) -> None:
        """Insert the rows of the events emitted since the last call, in one
        statement (a handler may emit dozens); called just before each commit."""
        if self._unwritten:
            ids, types, bodies = zip(*self._unwritten)
            self.session.execute(WRITE_OUTBOX, {"ids": list(ids), "types": list(types),
                                                "envelopes": list(bodies)})
            self._unwritten.clear()

    def claim(self, claims) -> set[tuple[str, str]]:
        """Record the (consumer, event id) pairs as processed in this transaction;
        returns those (ids as text) that were not already (a row already there is
        another delivery's, committed or in flight: the insert waits for that one
        to end)."""
        pairs = sorted({(consumer, str(event_id)) for consumer, event_id in claims})
        consumers, ids = (list(column) for column in zip(*pairs))
        return {tuple(row) for row in self.session.connection().exec_driver_sql(
            CLAIM, {"consumers": consumers, "ids": ids})}

    def commit(self) -> None:
        """Make what the worker did so far durable, before the worker ends.

        The one mid-worker commit, for the few entrypoints that need it: a timer
        working through a backlog in batches (fewer locks held at once), or a
        refusal that must stay on record although the entrypoint then answers
        with an error (which rolls back the rest). Helpers never commit; the
        entrypoint settles the unit of work. (In an event handler it would also
        commit the event's claim: a later failure would then not be retried.)"""
        self.write_outbox()
        self.session.commit()

    def relay_outbox(self, min_age_s: float) -> int:
        """Publish what earlier workers left unsent (see `publish_pending`); the rows
        this process's workers sent are marked first, so the relay never sends them
        again however late their mark is."""
        self._provider.marks.flush()
        return publish_pending(self._provider.engine, self._provider.bus, min_age_s=min_age_s)

    def purge_published(self, older_than_days: int) -> int:
        return purge_published(self._provider.engine, older_than_days)

    def outbox_backlog(self) -> tuple[int, float]:
        return outbox_backlog(self._provider.engine)

    def publish_emitted(self) -> None:
        """After the commit: publish this worker's events (see `publish_rows`)."""
        if self.emitted:
            publish_rows(self._provider.bus, self.emitted, self._provider.marks)

    def close(self):
        if self._session is not None:
            try:
                self._session.close()
                self._connection.close()
            except Exception as exc:  # a connection lost meanwhile: the pool drops it
                log.warning("closing the unit of work failed (%s: %s)",
                            exc.__class__.__name__, exc)


def _roll_back(session) -> None:
    """Roll back; if the connection is gone (the database restarted mid-work), the
    server has dropped the transaction already and the pool replaces the connection.
    Never raises: an error here would escape the entrypoint's reply or ack, and
    nameko would stop the whole service for it."""
    try:
        session.rollback()
    except Exception as exc:
        log.warning("rollback failed (%s: %s); the transaction died with its connection",
                    exc.__class__.__name__, _first_line(exc))


def _first_line(exc) -> str:
    """An error's first line (psycopg2's go on with the statement and its parameters)."""
    return (str(exc).splitlines() or [""])[0]


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
        self.marks = SentMarks(self.engine)

    def start(self):
        self.container.spawn_managed_thread(self.marks.run,
                                            identifier="Database.mark_sent")

    def stop(self):
        self.marks.stop()
        self.engine.dispose()
        self.bus.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        unit = UnitOfWork(self, worker_ctx)
        self.units[worker_ctx] = unit
        return unit

    def worker_setup(self, worker_ctx):
        # An event handler's worker (c2p.entrypoints.ServiceBatches) is given a
        # batch of (handler name, event) and claims them before any handler runs,
        # in the handlers' own transaction: one statement for the batch instead of
        # a look-up before and an insert after each, and a handler never runs for
        # an event whose effect is already committed. The claim runs as part of
        # the worker's call, so its failure is the handlers' (retried, then parked).
        if getattr(worker_ctx.entrypoint, "consumes_once", False):
            service = worker_ctx.service
            handlers = {name: getattr(service, name) for name, _ in worker_ctx.args[0]}
            setattr(service, worker_ctx.entrypoint.method_name,  # this worker's instance only
                    partial(self._handle_batch, self.units[worker_ctx], worker_ctx,
                            handlers))

    def _handle_batch(self, unit, worker_ctx, handlers, batch) -> list[bool]:
        """Run each event's handler once for each event of the batch its consumer
        has not processed, in order, in the one transaction; returns, event by
        event, whether it ran (not: processed before, or a second copy in this
        batch). A consumer is a subscription queue, `<service>.<handler>`."""
        service = self.service_name
        batch = [(f"{service}.{name}", name, event) for name, event in batch]
        claimed = unit.claim([(consumer, event.id) for consumer, _, event in batch])
        ran = []
        for consumer, name, event in batch:
            event_id = str(event.id)
            ran.append((consumer, event_id) in claimed)
            if not ran[-1]:
                continue
            claimed.discard((consumer, event_id))
            if any(ran[:-1]):
                # What the next handler reads is the database's, not objects the
                # previous one loaded (they may have been changed by Core statements).
                # Flushed first: expiring an object discards its unflushed changes,
                # and a handler may leave its changes for the commit to write.
                unit.session.flush()
                unit.session.expire_all()
            # Its events carry its own correlation id, and so does its logging.
            worker_ctx.context_data.update(correlation_id=event.correlation_id,
                                           event_id=event_id)
            logs.enter(worker_ctx, name)
            handlers[name](event)
        return ran

    # --- settling, called by c2p.entrypoints before the reply or ack ---------

    def settle(self, worker_ctx, exc_info):
        """Commit on success, roll back on error.

        Returns the exc_info the entrypoint should report: the handler's own,
        or the commit's if the commit failed.
        """
        unit = self.units.get(worker_ctx)
        if unit is None or unit.settled:
            return exc_info
        unit.settled = True
        if unit._session is None:
            return exc_info
        session = unit.session
        if exc_info is not None:
            _roll_back(session)
            unit.emitted.clear()
            return exc_info
        try:
            unit.write_outbox()
            session.commit()
        except Exception:
            failed = sys.exc_info()
            _roll_back(session)
            unit.emitted.clear()
            return failed
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
        unit.close()  # the connection goes back to the pool before the publish waits
        try:
            unit.publish_emitted()
        except Exception:
            # The rows are committed; the relay timer will publish them.
            log.warning("immediate publish failed; the outbox relay will retry",
                        exc_info=True)


def add_once(session, row, values: dict | None = None) -> bool:
    """Store a new row that carries a client-generated id; False when that id was
    stored meanwhile (the same client id twice at once), or the row was refused
    otherwise (a foreign key gone): the transaction is then rolled back whole, so
    the caller reads the first one afresh.

    `row` is an ORM object (flushed in a savepoint), or, on a hot path, a Core
    `insert … on conflict do nothing returning` built once and run with `values`:
    one statement, no savepoint (a copy being stored at the same time makes the
    insert wait for it, then insert nothing)."""
    try:
        if values is not None:
            return session.execute(row, values).first() is not None
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


# The statements of the hot paths, written once: building them with SQLAlchemy's
# expression language on every event cost more CPU than running them.
#
# Taking rows to publish: marked sent at once, in the transaction that publishes
# them (undone for what the broker does not confirm, or by the rollback if the
# process dies mid-way). SKIP LOCKED leaves rows another worker or replica is
# publishing to it; the selection is a materialised CTE, so it runs, and locks,
# exactly once (a LIMIT subquery inside IN may be run again by the planner).
RELAY_TAKE = text(
    "with taken as materialized (select id from outbox where published_at is null"
    " and created_at <= now() - make_interval(secs => :min_age)"
    " order by created_at limit :batch for update skip locked)"
    " update outbox set published_at = now() from taken where outbox.id = taken.id"
    " returning outbox.id, outbox.type, outbox.created_at, outbox.envelope::text")
MARK_SENT = text("update outbox set published_at = now()"
                 " where id = any(cast(:ids as uuid[])) and published_at is null")
UNMARK = text("update outbox set published_at = null, attempts = attempts + 1"
              " where id = any(cast(:ids as uuid[]))")


def publish_pending(engine, bus: Bus, min_age_s: float = 0, batch: int = 200) -> int:
    """The relay: publish unsent outbox rows, a batch at a time, and mark them sent.

    Only rows at least `min_age_s` old: younger ones are still being published
    by the worker that wrote them, or wait for its `SentMarks`. Rows are taken
    with SKIP LOCKED, so the relays of any number of replicas never publish the
    same row at the same time. Returns how many were published; raises `NotConfirmed`
    (after marking the confirmed ones) if the broker did not take them all.
    """
    sent = 0
    while True:
        with engine.connect() as conn, conn.begin():
            rows = conn.execute(RELAY_TAKE, {"min_age": float(min_age_s),
                                             "batch": batch}).all()
            rows.sort(key=lambda row: row[2])
            # The envelope as the text PostgreSQL holds, sent as it is.
            messages = [Message(envelope.encode("utf-8"), EVENTS_EXCHANGE.name, type_,
                                message_id=str(id_)) for id_, type_, _, envelope in rows]
            failure = _publish_marked(conn, bus, messages)
        if failure is not None:
            raise failure
        sent += len(rows)
        if len(rows) < batch:
            return sent


def publish_rows(bus: Bus, messages: list[Message], marks: "SentMarks") -> int:
    """Publish the outbox rows a worker just committed (their messages in hand) and
    hand the ones the broker confirmed to `marks`; raises `NotConfirmed` for the
    others, which stay unmarked for the relay.

    Nothing is locked or marked before: the relay (of any replica) takes only rows
    a few seconds old, so it sends one of these again only if the worker was that
    slow or its mark was lost; consumers are built for such copies."""
    try:
        bus.publish_all(messages)
    except NotConfirmed as exc:
        marks.add([messages[i].message_id for i in sorted(exc.confirmed)])
        raise
    marks.add([m.message_id for m in messages])
    return len(messages)


class SentMarks:
    """The outbox rows this process's workers have published, marked sent for all of
    them in one statement every `interval_s` (or sooner once `limit` wait).

    A worker used to mark its own rows in a second transaction after its commit:
    three round trips, a third of a small handler's database work. A row whose
    mark is lost (the process dies first, the database is down) is published again
    by the relay: a duplicate, which every consumer ignores."""

    def __init__(self, engine, interval_s: float = 0.25, limit: int = 500):
        self.engine = engine
        self.interval_s = interval_s
        self.limit = limit
        self._ids: list[str] = []
        self._running = True

    def add(self, ids: list[str]) -> None:
        self._ids.extend(ids)
        if len(self._ids) >= self.limit:
            self.flush()

    def flush(self) -> int:
        ids, self._ids = self._ids, []  # no green switch in between: no id is lost
        if not ids:
            return 0
        try:
            with self.engine.begin() as conn:
                conn.execute(MARK_SENT, {"ids": ids})
        except Exception as exc:
            # Kept for the next try; if the process dies first, the relay sends them again.
            self._ids[:0] = ids
            log.warning("marking %d published outbox rows failed (%s: %s); retrying", len(ids),
                        exc.__class__.__name__, _first_line(exc))
        return len(ids)

    def run(self) -> None:
        while self._running:
            eventlet.sleep(self.interval_s)
            self.flush()

    def stop(self) -> None:
        self._running = False
        self.flush()


def _publish_marked(conn, bus: Bus, messages: list[Message]) -> NotConfirmed | None:
    """Publish rows marked sent in `conn`'s open transaction, one confirm wait for
    all; unmark (and count an attempt on) the ones the broker did not confirm, and
    return that failure for the caller to raise once the transaction commits.

    A confirmed row whose mark is then lost (the commit fails, the process dies)
    is published again later: consumers are idempotent. An unconfirmed row is
    never left marked."""
    if not messages:
        return None
    try:
        bus.publish_all(messages)
    except NotConfirmed as exc:
        conn.execute(UNMARK, {"ids": [m.message_id for i, m in enumerate(messages)
                                      if i not in exc.confirmed]})
        return exc
    return None


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
