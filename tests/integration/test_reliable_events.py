"""Reliable events: outbox, idempotent consumers, retries, parking and replay."""
import json
import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text

from c2p import deadletters, metrics
from c2p.contracts import Event
from c2p.entrypoints import subscribe
from c2p.service import PlatformService
from checklist import domain
from checklist.seed import TEMPLATES_DIR, load_template_file
from checklist.service import ChecklistService
from planner.service import PlannerService
from support import (COACH_NIONO, ROOT, eventually, publish_raw, queue_depth, rpc_client,
                     sample_submission, tap)

PLANNER_QUEUE = "planner.on_checklist_submitted"


def submitted_event(failing=("cc_temp_twice_daily", "stock_no_expired")):
    template = load_template_file(TEMPLATES_DIR / "pev-mini.json")
    answers = {code: {"value": "no" if code in failing else "yes"}
               for section in template["sections"] for code in
               [item["code"] for item in section["items"]]}
    score, gaps = domain.score(template, answers)
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc)
    return Event(type="checklist.submitted", source="test", data={
        "submission_id": uuid.uuid4(), "facility_id": "ML-SEG-NIO-CEN",
        "facility_name": "CSCom central de Niono",
        "facility_path": "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN",
        "coach_id": "u-coach-niono", "coachees": [{"id": "u-vacc-1", "role": "vaccinator"}],
        "template_code": "pev-mini", "template_version": 1, "visited_at": now,
        "received_at": now, "score": score, "gaps": gaps})


def count(engine, sql):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_redelivered_event_changes_nothing(start_service, settings, engines):
    start_service(PlannerService)
    event = submitted_event()
    wire = event.to_wire()
    for _ in range(3):  # sequential redeliveries
        publish_raw(settings.amqp_uri, wire, "checklist.submitted", str(event.id))
    eventually(lambda: count(engines["planner"], "select count(*) from processed_events") == 1)
    eventually(lambda: queue_depth(settings.amqp_uri, PLANNER_QUEUE) == 0)
    # Other gaps than the first visit's: a gap still open would be carried over, not re-added.
    duplicate = submitted_event(failing=("cc_in_range", "dq_monitoring_chart"))
    for _ in range(5):  # a burst: deliveries processed concurrently by several workers
        publish_raw(settings.amqp_uri, duplicate.to_wire(), "checklist.submitted")
    eventually(lambda: count(engines["planner"], "select count(*) from processed_events") == 2)
    eventually(lambda: queue_depth(settings.amqp_uri, PLANNER_QUEUE) == 0)
    import eventlet
    eventlet.sleep(0.5)  # let any worker still running finish
    assert count(engines["planner"], "select count(*) from plans") == 2
    assert count(engines["planner"], "select count(*) from actions") == 4
    assert count(engines["planner"], "select count(*) from outbox") == 2


def test_failing_handler_is_retried_then_parked_then_replayed(start_service, settings, engines,
                                                             monkeypatch):
    import planner.service
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("planner bug")

    monkeypatch.setattr(planner.service, "plan_actions", broken)
    start_service(PlannerService)
    event = submitted_event()
    publish_raw(settings.amqp_uri, event.to_wire(), "checklist.submitted", str(event.id))
    parked = eventually(lambda: deadletters.list_parked(settings.amqp_uri, PLANNER_QUEUE))
    assert len(calls) == 1 + len(settings.retry_delays_ms)  # first try, then each retry
    assert parked[0]["message_id"] == str(event.id)
    assert parked[0]["attempts"] == len(settings.retry_delays_ms)
    assert "planner bug" in parked[0]["error"]
    assert count(engines["planner"], "select count(*) from plans") == 0
    # Listing leaves the message parked.
    assert len(deadletters.list_parked(settings.amqp_uri, PLANNER_QUEUE)) == 1

    monkeypatch.undo()  # the bug is fixed
    replayed = deadletters.replay(settings.amqp_uri, PLANNER_QUEUE)
    assert [r["message_id"] for r in replayed] == [str(event.id)]
    eventually(lambda: count(engines["planner"], "select count(*) from plans") == 1)
    assert deadletters.list_parked(settings.amqp_uri, PLANNER_QUEUE) == []


def test_invalid_event_is_parked_at_once(start_service, settings, engines):
    start_service(PlannerService)
    publish_raw(settings.amqp_uri, {"type": "checklist.submitted", "data": {}},
                "checklist.submitted", "bad-1")
    parked = eventually(lambda: deadletters.list_parked(settings.amqp_uri, PLANNER_QUEUE))
    assert parked[0]["message_id"] == "bad-1"
    assert "invalid envelope" in parked[0]["error"]
    assert parked[0]["attempts"] == 0


def test_queues_exist_before_their_consumer_first_runs(start_service, settings, engines):
    # Only the checklist service runs: the planner's queue must already exist
    # and keep the event until the planner starts.
    start_service(ChecklistService)
    with rpc_client("checklist") as client:
        client.submit_checklist(sample_submission(), COACH_NIONO)
    eventually(lambda: queue_depth(settings.amqp_uri, PLANNER_QUEUE) == 1)
    start_service(PlannerService)
    eventually(lambda: count(engines["planner"], "select count(*) from plans") == 1)


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["before-publish", "while-publishing", "before-mark"])
def test_event_survives_crash_between_commit_and_publish(process_env, settings, start_service,
                                                         engines, moment):
    # while-publishing: the broker had the message but had not confirmed it;
    # before-mark: it had confirmed it, and the row was not yet marked sent.
    seen = tap(settings.amqp_uri, "checklist.submitted")
    submission = sample_submission()
    crashed = subprocess.run(
        [sys.executable, os.path.join(os.path.dirname(__file__), "crash_after_commit.py"),
         json.dumps(submission), json.dumps(COACH_NIONO), moment],
        env=process_env, cwd=ROOT, capture_output=True, timeout=60)
    assert crashed.returncode == 9, crashed.stderr.decode()[-2000:]
    # Committed, not marked sent (published already, or not).
    assert count(engines["checklist"], "select count(*) from submissions") == 1
    assert count(engines["checklist"],
                 "select count(*) from outbox where published_at is null") == 1
    before = seen()
    assert len(before) == (1 if moment == "before-mark" else 0)

    start_service(ChecklistService)  # the service comes back; its relay finds the row
    events = eventually(seen, timeout=20)
    # Published (again, after a lost mark: one event, one id, which consumers
    # handle once).
    assert {e["data"]["submission_id"] for e in events} == {submission["id"]}
    assert len({e["id"] for e in before + events}) == 1
    # Marked sent once the confirm is in (the tap may see the event a little
    # earlier: quorum queues confirm after their replicas have written it).
    eventually(lambda: count(engines["checklist"],
                             "select count(*) from outbox where published_at is null") == 0)


class CountingPlanner(PlatformService):
    """Stands in for the planner: counts its handler runs, each long enough that
    copies of one event delivered together overlap."""
    name = "planner"
    runs: list = []

    @subscribe("checklist.submitted")
    def on_checklist_submitted(self, event):
        CountingPlanner.runs.append(event.id)
        self.db.session.execute(text("select pg_sleep(0.3)"))


def test_a_handler_runs_once_for_copies_delivered_together(start_service, settings, engines):
    # The event is claimed first thing in the handler's transaction: a copy that
    # arrives while the first is being handled waits for it, then skips.
    CountingPlanner.runs = []
    skipped = metrics.HANDLER_SKIPPED.labels(PLANNER_QUEUE)._value.get()
    start_service(CountingPlanner)
    event = submitted_event()
    for _ in range(4):
        publish_raw(settings.amqp_uri, event.to_wire(), "checklist.submitted", str(event.id))
    eventually(lambda: metrics.HANDLER_SKIPPED.labels(PLANNER_QUEUE)._value.get()
               == skipped + 3)
    assert CountingPlanner.runs == [event.id]
    assert count(engines["planner"], "select count(*) from processed_events") == 1
    eventually(lambda: queue_depth(settings.amqp_uri, PLANNER_QUEUE) == 0)

    # A copy delivered later is skipped as well.
    publish_raw(settings.amqp_uri, event.to_wire(), "checklist.submitted", str(event.id))
    eventually(lambda: metrics.HANDLER_SKIPPED.labels(PLANNER_QUEUE)._value.get()
               == skipped + 4)
    assert CountingPlanner.runs == [event.id]
