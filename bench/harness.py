"""Shared pieces of the benchmarks and fault runs: a sandbox on the local
servers, an open-loop load generator for the supervision cycle, and a tap on
the bus that timestamps the events each submission causes.

Everything runs on this machine: the services as their own processes, the
load generator and the tap in this one (green threads), traffic on loopback.
"""
from c2p.greening import green

green()

import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform as host  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timezone  # noqa: E402


from c2p.sandbox import EventListener, Sandbox, query, start_s3_server  # noqa: E402

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
COACH = ("coach.niono", "demo-c2p-2025")
FACILITIES = ("ML-SEG-NIO-CEN", "ML-SEG-NIO-MOL")
TEMPLATE = "pev-mini"
ITEMS = ("cc_temp_twice_daily", "cc_in_range", "stock_no_expired", "stock_cards_up_to_date",
         "dq_monitoring_chart")


def machine() -> dict:
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kb / 2**20, 1),
            "python": host.python_version(), "kernel": host.release(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def local_sandbox(prefix="bench"):
    """(sandbox, s3 process) on the local RabbitMQ and PostgreSQL."""
    s3_process, s3 = start_s3_server()
    box = Sandbox(os.environ.get("C2P_BENCH_AMQP_URI", "amqp://guest:guest@localhost:5672/"),
                  os.environ.get("C2P_BENCH_DATABASE_URL",
                                 "postgresql://postgres@localhost:5432/postgres"),
                  s3, prefix=prefix)
    return box, s3_process


def deployed_env(box, **extra) -> dict:
    """The sandbox's process environment with the settings a deployment runs with,
    not the test suite's: the sandbox turns on strict views (every answer checked
    field by field against its view, a test aid that costs the gateway CPU on
    each answer) and short retry and outbox intervals."""
    # The due-date sweep runs every 5 s, not every minute: at 60 s it fell inside a
    # 30 s measurement or not, which moved a run's CPU per visit by a few ms (the
    # alerts of the actions a visit plans due soon are part of what a visit costs).
    return box.env(C2P_STRICT_VIEWS="false", C2P_OUTBOX_INTERVAL_S=2,
                   C2P_RETRY_DELAYS_S="1,5,30", C2P_DUE_ALERT_INTERVAL_S=5, **extra)


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summarise(latencies_s) -> dict:
    ms = [v * 1000 for v in latencies_s]
    return {"p50_ms": _r(percentile(ms, 50)), "p95_ms": _r(percentile(ms, 95)),
            "p99_ms": _r(percentile(ms, 99)), "mean_ms": _r(statistics.fmean(ms) if ms else None)}


def _r(value):
    return None if value is None else round(value, 1)


class Gateway:
    """A tiny keep-alive HTTP client (one connection per green thread)."""

    def __init__(self, port):
        self.port = port
        self.token = None

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def sign_in(self, username, password):
        conn = self.connection()
        status, body = self.call(conn, "POST", "/api/v1/auth/token",
                                 {"username": username, "password": password})
        assert status == 200, body
        self.token = body["access_token"]

    def call(self, conn, method, path, payload=None, token=None):
        """(status, JSON body); as `token`'s account when given, else as the one signed in."""
        headers = {"Content-Type": "application/json"}
        if token or self.token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        conn.request(method, path, body=json.dumps(payload) if payload is not None else None,
                     headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)


def submission(failing=2, rng=None):
    import random
    rng = rng or random
    bad = set(rng.sample(ITEMS, failing))
    return {"id": str(uuid.uuid4()), "facility_id": rng.choice(FACILITIES),
            "template_code": TEMPLATE,
            "visited_at": datetime.now(timezone.utc).isoformat(),
            "coachees": [{"id": "u-dtc-niono", "role": "dtc"},
                         {"id": "u-vacc-1", "role": "vaccinator"}],
            "answers": [{"item": code, "value": "no" if code in bad else "yes"}
                        for code in ITEMS]}


class Tap(EventListener):
    """Copies of the events of the given types, noting when each first arrived."""

    def __init__(self, amqp_uri, routing_keys):
        self.seen: dict[tuple[str, str], float] = {}
        self.counts: dict[str, int] = {}
        super().__init__(amqp_uri, routing_keys)

    def on_message(self, body, message):
        event = json.loads(body) if isinstance(body, (str, bytes)) else body
        data = event["data"]
        key = data.get("submission_id") or data.get("plan_id") or data.get("notification_id")
        self.seen.setdefault((event["type"], str(key)), time.monotonic())
        self.counts[event["type"]] = self.counts.get(event["type"], 0) + 1
        message.ack()


def count_rows(database_url, sql) -> int:
    return query(database_url, sql)[0][0]


def write_json(name, payload) -> str:
    """Write `payload` to bench/results/<name>, or to `name` itself when it names a
    folder (as `--output bench/results/x.json` or `/tmp/x.json` do)."""
    path = name if os.path.dirname(name) else os.path.join(RESULTS_DIR, name)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=2, ensure_ascii=False)
    return path
