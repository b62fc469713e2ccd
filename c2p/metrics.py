"""What operators watch: Prometheus metrics, the ops HTTP endpoint, readiness.

Every C2P process (`python -m c2p.run <service>`) serves, on `C2P_METRICS_PORT`
(0 turns it off), a small HTTP endpoint of its own, apart from the API:

- `GET /metrics`  Prometheus text format (prometheus_client's default
  registry: the counters below plus the process's CPU, memory and open files);
- `GET /healthz`  liveness: the process answers (no dependency checked, so a
  broker outage does not make Kubernetes restart every pod at once);
- `GET /readyz`   readiness: 200 only if the broker accepts a connection and
  the service's own database answers `select 1`, else 503 naming what failed.

It runs on its own green thread, outside the nameko container, so it answers
even while every worker is busy. The counters are fed from `c2p.entrypoints`
and `c2p.service` through the small functions at the end of this module.
"""
from __future__ import annotations

import json
import logging
import time
import weakref

from prometheus_client import (CONTENT_TYPE_LATEST, Counter, Gauge, Histogram,
                               generate_latest)

log = logging.getLogger(__name__)

# Latency buckets in seconds, from a fast RPC to a slow handler under load.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

HANDLER_RUNS = Counter(
    "c2p_handler_runs_total", "Event handler runs, by subscription queue and outcome "
    "(ok, failed).", ["queue", "outcome"])
HANDLER_SECONDS = Histogram(
    "c2p_handler_duration_seconds", "Event handler worker run time (a batch of events "
    "of the service's queues), commit included.", ["service"], buckets=BUCKETS)
HANDLER_BATCH = Histogram(
    "c2p_handler_batch_events", "Events handed to one handler worker of the service "
    "(deliveries to any of its queues that waited while the previous worker ran).",
    ["service"],
    buckets=(1, 2, 3, 5, 8, 13, 21, 34, 55, 89))
HANDLER_SKIPPED = Counter(
    "c2p_handler_duplicates_total", "Deliveries of events already processed (ignored).",
    ["queue"])
HANDLER_DECLINED = Counter(
    "c2p_handler_declined_total",
    "Events a subscription's `when` declined: acked without a worker or a transaction.",
    ["queue"])
RETRIES = Counter(
    "c2p_handler_retries_total", "Failed handler runs sent to a delay queue for a retry.",
    ["queue"])
PARKED = Counter(
    "c2p_messages_parked_total", "Messages this process moved to <queue>.parked, by reason "
    "(failed: retries exhausted; invalid: not an event).", ["queue", "reason"])
PARKED_WAITING = Gauge(
    "c2p_parked_messages", "Messages waiting in <queue>.parked (sampled by the service "
    "that owns the queue).", ["queue"])
QUEUE_WAITING = Gauge(
    "c2p_queue_messages", "Messages ready in a subscription queue (sampled by its service).",
    ["queue"])
OUTBOX_PENDING = Gauge(
    "c2p_outbox_pending", "Outbox rows not yet published.", ["service"])
OUTBOX_LAG = Gauge(
    "c2p_outbox_lag_seconds", "Age of the oldest unpublished outbox row (0 when none).",
    ["service"])
OUTBOX_RELAYED = Counter(
    "c2p_outbox_relayed_total", "Events the outbox relay published after their worker "
    "could not.", ["service"])
RPC_SECONDS = Histogram(
    "c2p_rpc_duration_seconds", "RPC methods served: run time, commit included, by outcome "
    "(ok, error).", ["service", "method", "outcome"], buckets=BUCKETS)
HTTP_REQUESTS = Counter(
    "c2p_http_requests_total", "HTTP requests by method, route pattern and status.",
    ["method", "route", "status"])
HTTP_SECONDS = Histogram(
    "c2p_http_request_duration_seconds", "HTTP request time by method and route pattern.",
    ["method", "route"], buckets=BUCKETS)

_started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# --- hooks (kept to one call each in the entrypoints) ---------------------------

def worker_started(worker_ctx):
    _started[worker_ctx] = time.monotonic()


def _elapsed(worker_ctx):
    started = _started.pop(worker_ctx, None)
    return None if started is None else time.monotonic() - started


def batch_done(service, worker_ctx, events):
    """A handler worker's end (runs per event are counted by the subscription)."""
    HANDLER_BATCH.labels(service).observe(events)
    elapsed = _elapsed(worker_ctx)
    if elapsed is not None:
        HANDLER_SECONDS.labels(service).observe(elapsed)


def rpc_done(worker_ctx, exc_info):
    elapsed = _elapsed(worker_ctx)
    if elapsed is not None:
        RPC_SECONDS.labels(worker_ctx.container.service_name,
                           worker_ctx.entrypoint.method_name,
                           "ok" if exc_info is None else "error").observe(elapsed)


def http_done(method, route, status, seconds):
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_SECONDS.labels(method, route).observe(seconds)


def forget(worker_ctx):
    _started.pop(worker_ctx, None)


# --- the ops endpoint -----------------------------------------------------------

def ops_app(readiness):
    """A WSGI app serving /metrics, /healthz and /readyz (`readiness()` -> problems)."""

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body, status, kind = generate_latest(), "200 OK", CONTENT_TYPE_LATEST
        elif path == "/healthz":
            body, status, kind = b'{"status": "ok"}', "200 OK", "application/json"
        elif path == "/readyz":
            problems = readiness()
            status = "200 OK" if not problems else "503 Service Unavailable"
            body = json.dumps({"status": "ready" if not problems else "not ready",
                               "problems": problems}).encode()
            kind = "application/json"
        else:
            body, status, kind = b'{"status": 404}', "404 Not Found", "application/json"
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]
    return app


def readiness_check(settings, services):
    """Checks the broker and the database of each service the process runs (a name or
    a list of names); returns what failed (empty: ready)."""
    from kombu import Connection
    from c2p.database import make_engine
    names = [services] if isinstance(services, str) else list(services)
    engines = {name: make_engine(settings.database_url(name), pool_size=1, max_overflow=0)
               for name in names}

    def check():
        problems = []
        try:
            with Connection(settings.amqp_uri, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1, timeout=3)
        except Exception as exc:
            problems.append(f"broker: {exc.__class__.__name__}: {exc}"[:300])
        from sqlalchemy import text
        for name, engine in engines.items():
            try:
                with engine.connect() as conn:
                    conn.execute(text("select 1"))
            except Exception as exc:
                where = "database" if len(engines) == 1 else f"{name} database"
                problems.append(f"{where}: {exc.__class__.__name__}"[:300])
        return problems
    return check


def serve(port, readiness):
    """Serve the ops endpoint on 0.0.0.0:port in a green thread; returns the socket."""
    import eventlet
    import eventlet.wsgi
    sock = eventlet.listen(("0.0.0.0", port))
    eventlet.spawn_n(eventlet.wsgi.server, sock, ops_app(readiness), log_output=False,
                     log=logging.getLogger("c2p.metrics.http"))
    return sock
