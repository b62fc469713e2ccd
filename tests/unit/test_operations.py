"""The shapes of the queues, the operator settings and the JSON log lines."""
import io
import json
import logging

import pytest

from c2p import logs, topology
from c2p.config import ConfigError, load_settings


def test_subscription_queues_are_quorum_with_a_delivery_limit_parking_at_least_once():
    queue = topology.subscription_queue("planner.on_checklist_submitted",
                                        topology.Shape("quorum", delivery_limit=7))
    assert queue.queue_arguments == {
        "x-queue-type": "quorum", "x-delivery-limit": 7,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "planner.on_checklist_submitted.parked",
        "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
    # No delivery limit on a parked queue: listing it counts as a delivery.
    assert topology.parked_queue("planner.on_checklist_submitted").queue_arguments == {
        "x-queue-type": "quorum"}
    delay = topology.delay_queue(1000).queue_arguments
    assert delay["x-message-ttl"] == 1000 and delay["x-dead-letter-exchange"] == "c2p.requeue"
    assert delay["x-dead-letter-strategy"] == "at-least-once"


def test_classic_shape_is_the_queues_as_before():
    classic = topology.Shape("classic")
    assert topology.subscription_queue("notify.on_plan_created", classic).queue_arguments == {}
    assert topology.parked_queue("notify.on_plan_created", classic).queue_arguments == {}
    assert topology.delay_queue(500, classic).queue_arguments == {
        "x-message-ttl": 500, "x-dead-letter-exchange": "c2p.requeue"}
    assert topology.rpc_queue("planner", classic).queue_arguments == {}


@pytest.mark.parametrize("name,value", [("C2P_QUEUE_TYPE", "mirrored"),
                                        ("C2P_DELIVERY_LIMIT", "0"),
                                        ("C2P_METRICS_PORT", "-1"),
                                        ("C2P_LOG_FORMAT", "xml")])
def test_operator_settings_are_checked(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_json_log_lines_carry_the_workers_correlation_id():
    record = logging.LogRecord("planner.service", logging.WARNING, __file__, 1,
                               "plan for %s", ("Ségou",), None)
    token = logs.current.set({"correlation_id": "visit-42", "event_id": "e-1",
                              "entrypoint": "planner.on_checklist_submitted"})
    try:
        logs.ContextFilter().filter(record)
    finally:
        logs.current.reset(token)
    line = json.loads(logs.JsonFormatter("planner").format(record))
    assert line["message"] == "plan for Ségou"
    assert (line["service"], line["level"], line["correlation_id"], line["event_id"]) == (
        "planner", "warning", "visit-42", "e-1")


def test_a_refusal_is_logged_in_one_line_and_a_crash_with_its_traceback():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logs.configure("checklist", fmt="text")  # installs the filter on nameko's worker logs
    root.handlers[:], root.level = handlers, level
    written = io.StringIO()
    out = logging.StreamHandler(written)
    out.setFormatter(logging.Formatter("%(message)s"))
    workers = logging.getLogger("nameko.containers")
    workers.addHandler(out)
    disabled, workers.disabled = workers.disabled, False  # another test's dictConfig
    try:
        for message in ("(expected) error handling worker %s: %s",
                        "error handling worker %s: %s"):
            try:
                raise ValueError("facility_id: unknown facility 'NOPE'")
            except ValueError as exc:
                workers.warning(message, "<worker>", exc, exc_info=True)
    finally:
        workers.removeHandler(out)
        workers.disabled = disabled
    refusal, crash = written.getvalue().split("error handling worker", 2)[1:]
    assert "unknown facility 'NOPE'" in refusal and "Traceback" not in refusal
    assert "Traceback" in crash
