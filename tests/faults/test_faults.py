"""Zero lost, zero duplicated: kill -9 of every service, broker and database restarts."""
import os
import shutil

import pytest

from c2p.sandbox import Sandbox
from scenarios import run

pytestmark = pytest.mark.slow

LOCAL_SERVERS = shutil.which("rabbitmqctl") and os.path.isdir("/etc/postgresql")


@pytest.fixture
def box(infra):
    """A sandbox of its own (the platform processes need the seed data)."""
    sandbox = Sandbox(infra["amqp"], infra["postgres"], infra["s3"], infra["rabbit_api"],
                      prefix="flt")
    yield sandbox
    sandbox.close()


def test_kill_minus_nine_each_service_loses_and_duplicates_nothing(box, tmp_path):
    outcome = run(box, "kill", visits=60, per_second=5, rounds=1, log_dir=str(tmp_path))
    assert outcome["kills"] == 5
    assert outcome["faults_felt"], outcome  # some visits had to be retried by the phone
    assert outcome["passed"], outcome


@pytest.mark.skipif(not LOCAL_SERVERS, reason="needs the local RabbitMQ and PostgreSQL")
def test_broker_restart_mid_stream_loses_nothing(box, tmp_path):
    outcome = run(box, "broker", visits=40, per_second=5, log_dir=str(tmp_path))
    assert outcome["passed"], outcome


@pytest.mark.skipif(not LOCAL_SERVERS, reason="needs the local RabbitMQ and PostgreSQL")
def test_database_restart_mid_stream_loses_nothing(box, tmp_path):
    outcome = run(box, "database", visits=40, per_second=5, log_dir=str(tmp_path))
    assert outcome["passed"], outcome


def test_poison_messages_are_parked_and_the_stream_flows(box, tmp_path):
    outcome = run(box, "poison", visits=20, per_second=5, log_dir=str(tmp_path))
    assert outcome["poison_ok"], outcome
    assert outcome["passed"], outcome


def test_every_event_twice_to_every_consumer_has_no_duplicate_effect(box, tmp_path):
    outcome = run(box, "duplicates", visits=20, per_second=5, log_dir=str(tmp_path))
    assert outcome["events_delivered_twice"] >= 40  # checklist.submitted and plan.created
    assert outcome["passed"], outcome
