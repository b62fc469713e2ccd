"""What operators watch, on the running platform: /metrics of each process with
counters that move when a visit flows, readiness that checks the broker and the
database, and JSON logs carrying the visit's correlation id in every service."""
import json
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from c2p.processes import LocalPlatform
from support import eventually, sample_submission

API = "/api/v1"


def scrape(url) -> dict:
    """Every sample of a /metrics page: {(name, sorted labels): value}."""
    response = requests.get(f"{url}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples, name, **labels) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items()
               if n == name and set(labels.items()) <= set(ls))


def submit_as_coach(base):
    """A visit sent by the demo coach with a correlation id of its own: (auth headers,
    the submission, its correlation id, the answer), the answer checked to be a 201."""
    token = requests.post(f"{base}{API}/auth/token", timeout=10, json={
        "username": "coach.niono", "password": "demo-c2p-2025"}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    correlation_id = f"visit-{uuid.uuid4().hex[:12]}"
    submission = sample_submission()
    created = requests.post(f"{base}{API}/submissions", json=submission, timeout=10,
                            headers={**auth, "X-Correlation-Id": correlation_id})
    assert created.status_code == 201, created.text
    return auth, submission, correlation_id, created


@pytest.fixture
def running(process_env, tmp_path):
    platform = LocalPlatform(process_env, str(tmp_path / "logs")).start()
    yield platform
    platform.stop()


@pytest.mark.slow
def test_metrics_move_readiness_checks_and_logs_carry_the_correlation_id(running):
    for service in ("checklist", "planner", "evidence", "notify", "gateway"):
        ready = requests.get(f"{running.ops_url(service)}/readyz", timeout=10)
        assert ready.status_code == 200, (service, ready.text)
        assert ready.json() == {"status": "ready", "problems": []}
        assert requests.get(f"{running.ops_url(service)}/healthz", timeout=5).ok

    gateway, planner, checklist = (running.ops_url(s) for s in ("gateway", "planner",
                                                                 "checklist"))
    before = {url: scrape(url) for url in (gateway, planner, checklist)}

    base = running.base_url
    auth, submission, correlation_id, created = submit_as_coach(base)
    assert created.headers["X-Correlation-Id"] == correlation_id
    eventually(lambda: requests.get(f"{base}{API}/submissions/{submission['id']}/plan",
                                    headers=auth, timeout=10).ok)
    # A malformed correlation id is replaced, never echoed.
    odd = requests.get(f"{base}{API}/inbox", headers={**auth, "X-Correlation-Id": "a b"},
                       timeout=10)
    assert odd.headers["X-Correlation-Id"] != "a b"

    route = f"{API}/submissions"
    after_gateway = scrape(gateway)
    assert value(after_gateway, "c2p_http_requests_total", method="POST", route=route,
                 status="201") == value(before[gateway], "c2p_http_requests_total",
                                        method="POST", route=route, status="201") + 1
    assert value(after_gateway, "c2p_http_request_duration_seconds_count", method="POST",
                 route=route) >= 1

    def moved(url, name, **labels):
        return value(scrape(url), name, **labels) > value(before[url], name, **labels)

    assert eventually(lambda: moved(checklist, "c2p_rpc_duration_seconds_count",
                                    method="submit_checklist", outcome="ok"))
    assert eventually(lambda: moved(planner, "c2p_handler_runs_total",
                                    queue="planner.on_checklist_submitted", outcome="ok"))
    assert value(scrape(planner), "c2p_handler_duration_seconds_count",
                 service="planner") >= 1
    # Sampled every 15 s by the owning service: present, and nothing parked.
    samples = eventually(lambda: (s := scrape(planner)) and any(
        n == "c2p_parked_messages" for n, _ in s) and s, timeout=30)
    assert value(samples, "c2p_parked_messages", queue="planner.on_checklist_submitted") == 0
    assert any(n == "c2p_outbox_lag_seconds" for n, _ in samples)
    assert any(n == "process_resident_memory_bytes" for n, _ in samples)

    # The visit's lines, found by its correlation id: the gateway's access line,
    # then the planner's and notify's handler lines (the id travelled through
    # the RPC to checklist and on in the events).
    eventually(lambda: logged(running, "notify", correlation_id))
    access = logged(running, "gateway", correlation_id)
    assert any(line["message"].startswith(f"POST {route} 201") for line in access), access
    assert any("checklist.submitted" in line["message"]
               for line in logged(running, "planner", correlation_id))
    every = [json.loads(line) for s in ("gateway", "checklist", "planner", "notify")
             for line in running.log(s).splitlines() if line.startswith("{")]
    assert all({"ts", "level", "service", "logger", "message"} <= set(line) for line in every)


def logged(platform, service, correlation_id):
    lines = [json.loads(line) for line in platform.log(service).splitlines()
             if line.startswith("{")]
    return [line for line in lines if line.get("correlation_id") == correlation_id]


@pytest.mark.slow
def test_back_end_services_together_in_one_process(process_env, tmp_path):
    # A small deployment's choice: `python -m c2p.run checklist planner … hmis`.
    together = ("checklist", "planner", "evidence", "notify", "hmis")
    platform = LocalPlatform(process_env, str(tmp_path / "logs"), together=together).start()
    try:
        backend = "+".join(together)
        assert set(platform.processes) == {("gateway", 0), (backend, 0)}
        ready = requests.get(f"{platform.ops_url(backend)}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        base = platform.base_url
        auth, submission, correlation_id, _ = submit_as_coach(base)
        # Stored, scored, planned, and the plan's alert in the coach's inbox: every
        # back-end service did its part in the one process.
        plan = eventually(lambda: (r := requests.get(
            f"{base}{API}/submissions/{submission['id']}/plan", headers=auth,
            timeout=10)).ok and r.json())
        inbox = eventually(lambda: [m for m in requests.get(
            f"{base}{API}/inbox", headers=auth, timeout=10).json()["items"]
            if plan["id"] in (m.get("link") or "")])
        assert inbox
        # Each handler's lines name its own service (the checklist's RPC logs nothing
        # at INFO: its visit is in the gateway's access line).
        expected = {"planner", "evidence", "notify", "hmis"}
        eventually(lambda: expected <= {
            line["entrypoint"].split(".")[0]
            for line in logged(platform, backend, correlation_id) if "entrypoint" in line})
    finally:
        assert not platform.stop()
