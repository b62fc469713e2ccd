"""What a load step costs, read before and after it: CPU from /proc, the
services' own counters from /metrics, transactions and rows from PostgreSQL's
statistics, SQL statements from the services themselves (when run through
`bench/instrumented_run.py`).

CPU time (utime + stime of a process and its live descendants, in ms) does not
depend on how busy the machine is, unlike a rate or a latency: it is the
figure to trust on a shared machine.

- every service process LocalPlatform started (replicas included);
- PostgreSQL: the backends serving this run's databases (found in
  pg_stat_activity), and apart from them the whole server (shared with
  whatever else runs on the machine: indicative only);
- RabbitMQ: every beam.smp process (shared: indicative only; the broker has no
  per-vhost CPU figure).
"""
from __future__ import annotations

import collections
import glob
import json
import os
import re
import signal
import time
import urllib.request

from sqlalchemy import create_engine, text

from c2p.database import driver_url

TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


# --- /proc ----------------------------------------------------------------------

def _stat(pid):
    """(utime + stime, cutime + cstime, comm) of one process in ticks, None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]), comm


def _children(pid):
    out = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path) as f:
                out += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return out


def cpu_ms(pid) -> float:
    """CPU time of a process, its reaped children and its live descendants (ms)."""
    stat = _stat(pid)
    if stat is None:
        return 0.0
    own, reaped, _ = stat
    total = own + reaped
    for child in _children(pid):
        total += cpu_ms(child) / TICK_MS
    return total * TICK_MS


def pids_named(*names) -> list[int]:
    out = []
    for path in glob.glob("/proc/[0-9]*/stat"):
        pid = int(path.split("/")[2])
        stat = _stat(pid)
        if stat and stat[2] in names:
            out.append(pid)
    return out


def own_cpu_ms(pids) -> dict[int, float]:
    """utime + stime of each pid alone (no children), for servers whose workers
    are listed one by one."""
    out = {}
    for pid in pids:
        stat = _stat(pid)
        if stat:
            out[pid] = stat[0] * TICK_MS
    return out


# --- /metrics -------------------------------------------------------------------

_SAMPLE = re.compile(r'^(\w+)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
WANTED = ("c2p_handler_runs_total", "c2p_handler_duration_seconds_sum",
          "c2p_handler_batch_events_count",
          "c2p_handler_duplicates_total", "c2p_handler_retries_total",
          "c2p_rpc_duration_seconds_count", "c2p_rpc_duration_seconds_sum",
          "c2p_http_requests_total", "c2p_http_request_duration_seconds_sum",
          "c2p_outbox_relayed_total")
# The labels kept, in this order, after the metric's name in a key.
LABELS = {"c2p_handler_runs_total": ("queue", "outcome"),
          "c2p_handler_duration_seconds_sum": ("service",),
          "c2p_handler_batch_events_count": ("service",),
          "c2p_handler_duplicates_total": ("queue",), "c2p_handler_retries_total": ("queue",),
          "c2p_rpc_duration_seconds_count": ("service", "method", "outcome"),
          "c2p_rpc_duration_seconds_sum": ("service", "method", "outcome"),
          "c2p_http_requests_total": ("method", "route", "status"),
          "c2p_http_request_duration_seconds_sum": ("method", "route"),
          "c2p_outbox_relayed_total": ("service",)}


def scrape(url) -> dict[tuple, float]:
    """The c2p_* counters of one process: {(metric, labels...): value}."""
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as reply:
            body = reply.read().decode()
    except OSError:
        return {}
    out = {}
    for line in body.splitlines():
        match = _SAMPLE.match(line)
        if not match or match.group(1) not in WANTED:
            continue
        labels = dict(_LABEL.findall(match.group(2) or ""))
        if "queue" in labels and "service" not in labels:  # code before 1 Dec 2026:
            labels["service"] = labels["queue"].split(".")[0]  # workers were per queue
        order = LABELS.get(match.group(1), ())
        key = (match.group(1), *(labels.get(k, "") for k in order))
        out[key] = out.get(key, 0.0) + float(match.group(3))  # labels dropped: summed
    return out


# --- PostgreSQL -----------------------------------------------------------------

class Postgres:
    """Per-database statistics and the backends of this run's databases."""

    def __init__(self, database_urls: dict):
        self.names = {url.rsplit("/", 1)[1]: service for service, url in database_urls.items()}
        any_url = next(iter(database_urls.values()))
        self.engine = create_engine(driver_url(any_url.rsplit("/", 1)[0] + "/postgres"),
                                    pool_size=1)
        self.engines = {}

    def tables(self) -> dict:
        """Per database and table: sequential scans, rows they read, index rows fetched."""
        out = {}
        for name, service in self.names.items():
            engine = self.engines.get(name)
            if engine is None:
                url = self.engine.url.set(database=name)
                engine = self.engines[name] = create_engine(url, pool_size=1)
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "select relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0), "
                    "coalesce(idx_tup_fetch, 0), n_tup_ins from pg_stat_user_tables")).all()
            out[service] = {r[0]: r[1:] for r in rows}
        return out

    def stats(self) -> dict:
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "select datname, xact_commit, xact_rollback, tup_returned, tup_fetched, "
                "tup_inserted, tup_updated, tup_deleted from pg_stat_database "
                "where datname = any(:names)"), {"names": list(self.names)}).all()
            backends = conn.execute(text(
                "select pid from pg_stat_activity where datname = any(:names)"),
                {"names": list(self.names)}).scalars().all()
        stats = {self.names[r[0]]: dict(zip(("commits", "rollbacks", "rows_returned",
                                             "rows_fetched", "rows_inserted", "rows_updated",
                                             "rows_deleted"), r[1:])) for r in rows}
        return {"databases": stats, "backends": list(backends)}

    def close(self):
        self.engine.dispose()
        for engine in self.engines.values():
            engine.dispose()


# --- SQL statements counted in the services (bench/instrumented_run.py) --------

def sql_counts(platform, sql_dir, timeout=5.0) -> dict[str, collections.Counter]:
    """Ask every instrumented process for its statement counts (SIGUSR2)."""
    if not sql_dir:
        return {}
    asked = {}
    for (service, index), process in platform.processes.items():
        path = os.path.join(sql_dir, f"{process.pid}.json")
        before = os.path.getmtime(path) if os.path.exists(path) else 0
        asked[(service, index)] = (path, before)
        try:
            os.kill(process.pid, signal.SIGUSR2)
        except ProcessLookupError:
            pass
    out: dict[str, collections.Counter] = {}
    deadline = time.monotonic() + timeout
    for (service, index), (path, before) in asked.items():
        while time.monotonic() < deadline and (
                not os.path.exists(path) or os.path.getmtime(path) <= before):
            time.sleep(0.05)
        try:
            with open(path) as f:
                counts = json.load(f)
        except (OSError, ValueError):
            continue
        out.setdefault(service, collections.Counter()).update(counts)
    return out


# --- one snapshot, and the difference of two ------------------------------------

class Meter:
    """Snapshots of everything a step costs; `delta(a, b, visits)` per visit."""

    def __init__(self, platform, database_urls, sql_dir=None):
        self.platform = platform
        self.postgres = Postgres(database_urls)
        self.checklist = create_engine(driver_url(database_urls["checklist"]), pool_size=1)
        self.sql_dir = sql_dir

    def stored(self) -> int:
        """Visits stored so far (a visit whose HTTP answer timed out is stored too)."""
        with self.checklist.connect() as conn:
            return conn.execute(text("select count(*) from submissions")).scalar()

    def snapshot(self) -> dict:
        pg = self.postgres.stats()
        services = {f"{s}-{i}": cpu_ms(p.pid) for (s, i), p in self.platform.processes.items()}
        metrics = {}
        for (service, index) in self.platform.processes:
            if (service, index) in self.platform.metrics_ports:
                for key, value in scrape(self.platform.ops_url(service, index)).items():
                    metrics[(service, *key)] = metrics.get((service, *key), 0) + value
        return {"at": time.monotonic(), "stored": self.stored(), "services": services,
                "postgres_backends": own_cpu_ms(pg["backends"]),
                "postgres_all": sum(own_cpu_ms(pids_named("postgres")).values()),
                "rabbitmq": sum(own_cpu_ms(pids_named("beam.smp")).values()),
                "databases": pg["databases"], "tables": self.postgres.tables(),
                "metrics": metrics,
                "sql": sql_counts(self.platform, self.sql_dir)}

    def close(self):
        self.postgres.close()
        self.checklist.dispose()


def _per(value, visits, digits=2):
    return round(value / visits, digits) if visits else None


def delta(before: dict, after: dict, visits: int | None = None,
          idle_ms_per_s: dict | None = None) -> dict:
    """What happened between two snapshots, per visit (by default the visits stored in
    between). `idle_ms_per_s` (service -> CPU ms per second with no load, from
    `idle_rate`) is subtracted when given."""
    if visits is None:
        visits = after["stored"] - before["stored"]
    seconds = after["at"] - before["at"]
    services = {}
    for name, ms in after["services"].items():
        used = ms - before["services"].get(name, 0.0)
        services[name] = used
    by_service = collections.Counter()
    for name, used in services.items():
        by_service[name.rsplit("-", 1)[0]] += used
    idle = collections.Counter()
    for name, rate in (idle_ms_per_s or {}).items():
        idle[name.rsplit("-", 1)[0]] += rate * seconds
    backends = sum(ms - before["postgres_backends"].get(pid, 0.0)
                   for pid, ms in after["postgres_backends"].items())
    cpu = {
        "seconds": round(seconds, 2), "visits": visits,
        "ms_per_visit": {s: _per(v, visits) for s, v in sorted(by_service.items())},
        "ms_per_visit_less_idle": {s: _per(v - idle[s], visits)
                                   for s, v in sorted(by_service.items())},
        "services_ms_per_visit": _per(sum(by_service.values()), visits),
        "services_ms_per_visit_less_idle": _per(sum(by_service.values())
                                                - sum(idle.values()), visits),
        "processes_ms_per_visit": {n: _per(v, visits) for n, v in sorted(services.items())},
        "postgres_backends_ms_per_visit": _per(backends, visits),
        "postgres_server_ms_per_visit_shared": _per(after["postgres_all"]
                                                    - before["postgres_all"], visits),
        "rabbitmq_ms_per_visit_shared": _per(after["rabbitmq"] - before["rabbitmq"], visits),
        "services_cores": round(sum(by_service.values()) / 1000 / seconds, 2) if seconds else None,
    }
    handlers, handler_ms, rpcs, rpc_ms, http, other, failed = {}, {}, {}, {}, {}, {}, {}
    workers = {}  # handler workers (each a batch of one or more events) per service
    for key, value in after["metrics"].items():
        diff = value - before["metrics"].get(key, 0.0)
        if not diff:
            continue
        service, metric, *labels = key
        if metric == "c2p_handler_runs_total":
            handlers[labels[0]] = handlers.get(labels[0], 0) + diff
            if labels[1] != "ok":
                failed[labels[0]] = failed.get(labels[0], 0) + diff
        elif metric == "c2p_handler_duration_seconds_sum":
            handler_ms[labels[0]] = handler_ms.get(labels[0], 0) + diff * 1000
        elif metric == "c2p_handler_batch_events_count":
            workers[labels[0]] = workers.get(labels[0], 0) + diff
        elif metric == "c2p_rpc_duration_seconds_count":
            name = f"{labels[0]}.{labels[1]}"
            rpcs[name] = rpcs.get(name, 0) + diff
        elif metric == "c2p_rpc_duration_seconds_sum":
            name = f"{labels[0]}.{labels[1]}"
            rpc_ms[name] = rpc_ms.get(name, 0) + diff * 1000
        elif metric == "c2p_http_requests_total":
            name = f"{labels[0]} {labels[1]}"
            http[name] = http.get(name, 0) + diff
        elif metric != "c2p_http_request_duration_seconds_sum":
            other[f"{metric}{{{','.join(labels)}}}"] = diff
    work = {
        "handler_runs_per_visit": _per(sum(handlers.values()), visits),
        "handler_runs_per_visit_by_queue": {q: _per(n, visits) for q, n in sorted(handlers.items())},
        # Workers that ran them: fewer than runs when events waited and went in batches.
        "handler_workers_per_visit": _per(sum(workers.values()), visits),
        "handler_workers_per_visit_by_service": {s: _per(n, visits)
                                                 for s, n in sorted(workers.items())},
        "handler_wall_ms_per_visit_by_service": {s: _per(ms, visits)
                                                 for s, ms in sorted(handler_ms.items())},
        "handler_failures_per_visit_by_queue": {q: _per(n, visits) for q, n in failed.items()},
        "rpc_calls_per_visit": {m: _per(n, visits) for m, n in sorted(rpcs.items())},
        "rpc_wall_ms_per_visit": {m: _per(rpc_ms.get(m, 0), visits) for m in sorted(rpcs)},
        "http_requests_per_visit": {r: _per(n, visits) for r, n in sorted(http.items())},
        "other_counters": other,
    }
    database = {}
    for service, stats in after["databases"].items():
        old = before["databases"].get(service, {})
        database[service] = {k: _per(v - old.get(k, 0), visits) for k, v in stats.items()}
    tables, published = {}, {}
    for service, rows in after.get("tables", {}).items():
        old = before.get("tables", {}).get(service, {})
        changed = []
        for table, now in rows.items():
            was = old.get(table, (0, 0, 0, 0, 0))
            d = [a - b for a, b in zip(now, was)]
            if table == "outbox":
                published[service] = d[4]
            if any(d[:4]):
                changed.append((d[1] + d[3], table, d))
        tables[service] = {table: {"seq_scans": _per(d[0], visits), "seq_rows_read": _per(d[1], visits),
                                   "idx_scans": _per(d[2], visits),
                                   "idx_rows_fetched": _per(d[3], visits)}
                           for _, table, d in sorted(changed, reverse=True)[:8]}
    sql = {}
    for service, counts in after["sql"].items():
        old = before["sql"].get(service, collections.Counter())
        diff = {k: v - old.get(k, 0) for k, v in counts.items() if v - old.get(k, 0)}
        sql[service] = {"statements_per_visit": _per(sum(v for k, v in diff.items()
                                                         if not k.startswith("COMMIT")), visits),
                        "by_statement": {k: _per(v, visits) for k, v in
                                         sorted(diff.items(), key=lambda kv: -kv[1])}}
    # Every event is written to its service's outbox first: rows inserted = events.
    work["events_published_per_visit"] = _per(sum(published.values()), visits)
    work["events_published_per_visit_by_service"] = {s: _per(n, visits)
                                                     for s, n in published.items() if n}
    return {"cpu": cpu, "work": work, "database_per_visit": database,
            "tables_per_visit": tables, "sql_per_visit": sql}


def yardstick_ms(rounds: int = 5) -> float:
    """CPU ms of a fixed pure-Python workload (JSON in and out, dicts, strings: what
    the services mostly do), the least of a few rounds. The machines these benches
    run on are virtual and shared: the same code measured 51 and 65 ms per visit
    an hour apart on one of them. Dividing a step's CPU per visit by this, read just
    before and after the step, compares runs made when the machine ran at different
    speeds."""
    visit = {"items": [{"code": f"PEV-{i:02d}", "answer": "yes" if i % 7 else "no",
                        "points": i % 3, "label_fr": f"Élément n° {i}", "label_en": f"Item {i}",
                        "critical": i % 11 == 0} for i in range(49)],
             "facility_path": "/ML/KOU/NIONO/CSCOM-01/", "coach_id": "coach.niono"}
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(200):
            loaded = json.loads(json.dumps(visit, ensure_ascii=False))
            gaps = [dict(item, gap=True) for item in loaded["items"] if item["answer"] == "no"]
            "; ".join(f"{g['code']}:{g['label_fr']}" for g in gaps)
            sorted(loaded["items"], key=lambda item: (item["points"], item["code"]))
        best = min(best, (time.process_time() - start) * 1000)
    return round(best, 2)


def idle_rate(meter: Meter, seconds=5.0) -> dict:
    """CPU ms per second of each service process with no load (timers, polls)."""
    first = {f"{s}-{i}": cpu_ms(p.pid) for (s, i), p in meter.platform.processes.items()}
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    return {name: round((cpu_ms(p.pid) - first[name]) / elapsed, 3)
            for name, p in ((f"{s}-{i}", p) for (s, i), p in meter.platform.processes.items())}
