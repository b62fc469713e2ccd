"""The unit of work: concurrency, commit before reply, rollback on error."""
import time

import pytest
from sqlalchemy import text

from c2p.entrypoints import rpc, timer
from c2p.service import PlatformService
from support import eventually, rpc_client


class Sleepy(PlatformService):
    name = "checklist"  # borrows the checklist database

    @rpc
    def nap(self):
        self.db.session.execute(text("select pg_sleep(1)"))

    @rpc
    def lose_connection_then_fail(self):
        # What a database restart does to a worker mid-transaction (the gateway's,
        # waiting on an RPC): its connection dies, then the worker fails otherwise.
        pid = self.db.session.execute(text("select pg_backend_pid()")).scalar()
        with self.db._provider.engine.connect() as other:
            other.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
        time.sleep(0.2)
        raise ValueError("the RPC it waited on failed")

    @rpc
    def write_then_fail(self, fail):
        self.db.session.execute(text(
            "insert into org_units (id, name, level, path) "
            "values ('T-1', 'Test', 'facility', '/T-1')"))
        if fail:
            raise ValueError("boom")


def test_four_one_second_queries_overlap(start_service):
    # psycopg2 greened by eventlet: the four sleeps share the wall clock. With a
    # blocking driver they would take 4 s (STYLE.md, "Known traps").
    start_service(Sleepy)
    with rpc_client("checklist") as client:
        client.nap()  # warm up the pool
        started = time.monotonic()
        calls = [client.nap.call_async() for _ in range(4)]
        for call in calls:
            call.result()
        elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"four concurrent 1 s queries took {elapsed:.2f} s"


def test_error_rolls_back_and_success_commits_before_reply(start_service, engines):
    start_service(Sleepy)
    count = "select count(*) from org_units where id = 'T-1'"
    with rpc_client("checklist") as client:
        with pytest.raises(Exception):
            client.write_then_fail(True)
        with engines["checklist"].connect() as conn:
            assert conn.execute(text(count)).scalar() == 0
        client.write_then_fail(False)
        # The reply came back only after the commit: the row is visible now.
        with engines["checklist"].connect() as conn:
            assert conn.execute(text(count)).scalar() == 1
    with engines["checklist"].begin() as conn:
        conn.execute(text("delete from org_units where id = 'T-1'"))


class Ticking(PlatformService):
    name = "checklist"

    @timer(0.2)
    def tick(self):
        self.db.session.execute(text(
            "insert into org_units (id, name, level, path) "
            "values ('T-2', 'Tick', 'facility', '/T-2') on conflict do nothing"))


def test_a_timer_commits_what_it_writes(start_service, engines):
    # Timers have no reply: their unit of work is settled at worker teardown.
    start_service(Ticking)
    count = "select count(*) from org_units where id = 'T-2'"
    with engines["checklist"].connect() as conn:
        eventually(lambda: conn.execute(text(count)).scalar() == 1)
    with engines["checklist"].begin() as conn:
        conn.execute(text("delete from org_units where id = 'T-2'"))


def test_a_connection_that_died_while_idle_is_replaced_on_checkout(settings, monkeypatch):
    # Connections are pinged only when idle for a while (c2p.database.PING_IF_IDLE_S):
    # one whose server process went away meanwhile (a database restart) is replaced
    # before the worker uses it, so the worker never sees the dead one.
    import c2p.database
    from c2p.database import make_engine
    monkeypatch.setattr(c2p.database, "PING_IF_IDLE_S", 0.2)
    engine = make_engine(settings.database_url("checklist"), pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("select pg_backend_pid()")).scalar()
        with engine.connect() as conn:  # back at once: not pinged, the same one
            assert conn.execute(text("select pg_backend_pid()")).scalar() == first
        killer = make_engine(settings.database_url("checklist"), pool_size=1)
        with killer.connect() as conn:
            assert conn.execute(text("select pg_terminate_backend(:pid)"),
                                {"pid": first}).scalar()
        killer.dispose()
        time.sleep(0.3)
        with engine.connect() as conn:
            second = conn.execute(text("select pg_backend_pid()")).scalar()
        assert second != first
    finally:
        engine.dispose()


def test_a_worker_whose_connection_dies_fails_alone_and_the_service_goes_on(start_service):
    # Its rollback fails too (the connection is gone): that must not escape the
    # reply, where nameko would stop the whole service.
    import eventlet
    start_service(Sleepy)
    # A stopped service would never answer: fail, do not hang.
    with eventlet.Timeout(30), rpc_client("checklist") as client:
        with pytest.raises(Exception, match="the RPC it waited on failed"):
            client.lose_connection_then_fail()
        client.nap()  # the service still answers, on a new connection
