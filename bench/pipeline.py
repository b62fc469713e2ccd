"""The supervision cycle end to end: CPU per visit, throughput and latency.

A full visit on the shipped 49-item `pev-integrated` template (every item
answered, a realistic share of gaps, the four CSComs of coach.niono's district)
is POSTed to the gateway; the checklist service stores and scores it and
publishes `checklist.submitted`; the planner builds the plan (`plan.created`);
notify, evidence, hmis and the gateway's webhook and live consumers react.
Latency is from the send to `plan.created` on a tap queue; completeness (one
plan and one coach alert per visit, nothing parked) is checked in the databases.

For every load step the bench reads, before and after (`bench/measure.py`):
- **CPU ms per visit** of every service process (utime + stime from /proc,
  replicas summed per service), of the PostgreSQL backends of this run's
  databases, and of the whole PostgreSQL server and RabbitMQ (both shared with
  whatever else runs on the machine: indicative). This figure does not depend
  on how loaded the machine is: it is the headline. It is given raw and less
  the services' idle CPU (timers, polls) measured before the steps;
- handler runs, RPC calls and HTTP requests per visit, from each process's
  /metrics; commits and rows per visit per database (pg_stat_database);
- with `--sql`: SQL statements per visit per service, by verb and table
  (the services then run through bench/instrumented_run.py);
- with `--profile`: py-spy on every process during the first step, top
  functions per service in bench/results/profile-*.txt.

Load is open-loop at rising rates until latency breaks, with one replica of
each service, then two. The bus's floor (bench/bus_floor.py) is measured in the
same run, and the best rate within the limit reported as a share of it.

    python bench/pipeline.py [--rates 5,10,20,40,60,80] [--seconds 10] [--replicas 1,2]
                             [--profile] [--sql] [--count-events] [--no-floor]
                             [--mix follow-up|first] [--facilities 9]
"""
from harness import (COACH, Gateway, Tap, count_rows, local_sandbox, machine,  # noqa: I001
                     summarise, write_json)

import argparse  # noqa: E402
import http.client  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

import eventlet  # noqa: E402
from eventlet.queue import LightQueue  # noqa: E402

from c2p import deadletters, demo  # noqa: E402
from c2p.processes import LocalPlatform  # noqa: E402
from c2p.sandbox import ROOT  # noqa: E402

import measure  # noqa: E402

P95_LIMIT_MS = 300
SERVICES = ("checklist", "planner", "notify", "evidence", "hmis", "gateway")
# The CSComs of coach.niono's district, Niono (services/checklist/checklist/org_units.csv).
FACILITIES = ["ML-SEG-NIO-CEN", "ML-SEG-NIO-MOL", "ML-SEG-NIO-SIR", "ML-SEG-NIO-POG",
              "ML-SEG-NIO-KOL", "ML-SEG-NIO-SOK", "ML-SEG-NIO-DIA", "ML-SEG-NIO-NAM",
              "ML-SEG-NIO-DOG"]
TEMPLATE = demo.load_template()
ITEMS = sum(len(s["items"]) for s in TEMPLATE["sections"])
INSTRUMENTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "instrumented_run.py")


class NewFacilities:
    """First visits only (`--mix first`): every visit goes to a CSCom never visited
    before (imported under Niono by the admin before the run), a quarter of its
    items failing: no earlier action to verify or carry over."""

    def __init__(self, rng: random.Random, ids):
        self.rng, self.ids = rng, iter(ids)
        self.items = {i["code"]: i for s in TEMPLATE["sections"] for i in s["items"]}

    def visit(self) -> dict:
        rng, facility = self.rng, next(self.ids)
        answers = [{"item": code, "value": (demo._bad if rng.random() < 0.25 else demo._good)(
            item, rng)} for code, item in self.items.items()]
        role, name = rng.choice(demo.STAFF)
        return {"id": str(uuid.uuid4()), "facility_id": facility,
                "template_code": demo.TEMPLATE,
                "visited_at": (datetime.now(timezone.utc)
                               - timedelta(minutes=rng.randint(5, 600))).isoformat(),
                "coachees": [{"id": f"staff-{facility.lower()}-{role}", "role": role,
                              "name": name}],
                "answers": answers, "gps": {"lat": 14.25, "lon": -5.99, "accuracy_m": 12.0},
                "comment": "Visite de banc d'essai"}


def import_facilities(base_port, count) -> list[str]:
    """`count` new CSComs under Niono, imported by the admin through the gateway."""
    admin = Gateway(base_port)
    admin.sign_in("admin", "demo-c2p-2025")
    ids = [f"ML-SEG-NIO-B{n:05d}" for n in range(count)]
    body = "id,parent_id,level,name,latitude,longitude\n" + "".join(
        f"{i},ML-SEG-NIO,facility,CSCom de banc {n},14.2,-6.0\n" for n, i in enumerate(ids))
    conn = admin.connection()
    conn.request("POST", "/api/v1/org-units/import?format=csv", body=body.encode(),
                 headers={"Content-Type": "text/csv",
                          "Authorization": f"Bearer {admin.token}"})
    reply = conn.getresponse()
    text = reply.read()
    assert reply.status == 200, (reply.status, text[:500])
    return ids


class Facilities:
    """The district's CSComs as they stand between monthly visits: each item of the
    template passes or fails at each facility. At every visit a failing item is
    fixed with probability 1/2 (its open action then closes, verified by the
    visit) and a passing one fails with probability 1/6, so about a quarter of the
    items fail at a visit (~12 gaps of 49), about half of the last visit's gaps
    are verified and the other half carried over: the steady state of follow-up
    visits, which is most visits once a district is under way."""

    FIX, BREAK = 0.5, 1 / 6

    def __init__(self, rng: random.Random, ids=FACILITIES):
        self.rng, self.ids = rng, list(ids)
        codes = [i["code"] for s in TEMPLATE["sections"] for i in s["items"]]
        self.items = {i["code"]: i for s in TEMPLATE["sections"] for i in s["items"]}
        share = self.BREAK / (self.FIX + self.BREAK)
        self.failing = {f: {c for c in codes if rng.random() < share} for f in self.ids}

    def visit(self) -> dict:
        rng = self.rng
        facility = rng.choice(self.ids)
        failing = self.failing[facility]
        for code in self.items:
            if code in failing:
                if rng.random() < self.FIX:
                    failing.discard(code)
            elif rng.random() < self.BREAK:
                failing.add(code)
        answers = [{"item": code, "value": (demo._bad if code in failing else demo._good)(
            item, rng)} for code, item in self.items.items()]
        role, name = rng.choice(demo.STAFF)
        people = [demo.DTC_NIONO] if facility == "ML-SEG-NIO-CEN" else []
        people.append({"id": f"staff-{facility.lower()}-{role}", "role": role, "name": name})
        return {"id": str(uuid.uuid4()), "facility_id": facility,
                "template_code": demo.TEMPLATE,
                "visited_at": (datetime.now(timezone.utc)
                               - timedelta(minutes=rng.randint(5, 600))).isoformat(),
                "coachees": people, "answers": answers,
                "gps": {"lat": 14.25, "lon": -5.99, "accuracy_m": 12.0},
                "comment": "Visite de banc d'essai"}


class BenchPlatform(LocalPlatform):
    """LocalPlatform, with the services run through bench/instrumented_run.py
    when SQL statements are to be counted (same code, a statement counter added)."""

    def __init__(self, *args, instrumented=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrumented = instrumented

    def command(self, service):
        if not self.instrumented:
            return super().command(service)
        return [sys.executable, INSTRUMENTED, service]


class Gateways(Gateway):
    """Every gateway replica of the platform: connections spread over them in turn
    (as a load balancer would), one sign-in for all."""

    def __init__(self, ports):
        super().__init__(ports[0])
        self.ports, self.turn = list(ports), 0

    def connection(self):
        self.turn += 1
        return http.client.HTTPConnection("127.0.0.1", self.ports[self.turn % len(self.ports)],
                                          timeout=30)


def send_load(gateway, rate, seconds, district, connections=64):
    """POST visits at `rate`/s for `seconds` (open loop): ({id: sent at}, errors, start)."""
    pool = LightQueue()
    for _ in range(connections):
        pool.put(gateway.connection())
    sent, errors = {}, []

    def send(payload):
        conn = pool.get()
        try:
            started = time.monotonic()
            status, body = gateway.call(conn, "POST", "/api/v1/submissions", payload)
            if status in (200, 201):
                sent[payload["id"]] = started
            else:
                errors.append(status)
        except Exception as exc:  # a dropped keep-alive connection: count it, reconnect
            errors.append(type(exc).__name__)
            conn = gateway.connection()
        finally:
            pool.put(conn)

    green = eventlet.GreenPool(connections * 4)
    total = int(rate * seconds)
    payloads = [district.visit() for _ in range(total)]  # built before: not in the timing
    start = time.monotonic()
    for i, payload in enumerate(payloads):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            eventlet.sleep(delay)
        green.spawn_n(send, payload)
    green.waitall()
    return sent, errors, start, [p["id"] for p in payloads]


def wait_for_plans(tap, ids, stall_s=60, limit_s=900):
    """Until every visit sent has its plan (those whose HTTP answer timed out are
    stored all the same), as long as plans keep coming (none for `stall_s`: give up)."""
    deadline = time.monotonic() + limit_s
    done, moved = -1, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - moved < stall_s:
        now = sum(("plan.created", sid) in tap.seen for sid in ids)
        if now == len(ids):
            return
        if now != done:
            done, moved = now, time.monotonic()
        eventlet.sleep(0.2)


def settle(platform, quiet_s=1.5, limit_s=300):
    """Wait until no handler, RPC or HTTP counter of any process moves for `quiet_s`:
    the work a step caused is over (outbox relays and alerts included)."""
    def total():
        n = 0
        for key in platform.processes:
            n += sum(v for k, v in measure.scrape(platform.ops_url(*key)).items()
                     if k[0] in ("c2p_handler_runs_total", "c2p_rpc_duration_seconds_count",
                                 "c2p_http_requests_total", "c2p_outbox_relayed_total"))
        return n
    deadline = time.monotonic() + limit_s
    last, quiet_since = total(), time.monotonic()
    while time.monotonic() < deadline:
        eventlet.sleep(0.5)
        now = total()
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            return True
    return False


def run_step(platform, meter, gateway, tap, rate, seconds, district, idle, profiler=None):
    settle(platform)
    before = meter.snapshot()
    if profiler:
        profiler.start()
    sent, errors, start, ids = send_load(gateway, rate, seconds, district)
    total = len(ids)
    send_done = time.monotonic()
    wait_for_plans(tap, ids)
    latencies = [tap.seen[("plan.created", sid)] - t for sid, t in sent.items()
                 if ("plan.created", sid) in tap.seen]
    last = max((tap.seen[("plan.created", sid)] for sid in sent
                if ("plan.created", sid) in tap.seen), default=send_done)
    settled = settle(platform)
    after = meter.snapshot()
    cost = measure.delta(before, after, None, idle)  # per visit stored in the window
    step = {"offered_per_s": rate, "seconds": seconds, "sent": total, "accepted": len(sent),
            "http_errors": len(errors), "error_kinds": sorted(set(map(str, errors))),
            "planned": len(latencies), "missing_plans": len(sent) - len(latencies),
            "achieved_per_s": round(len(latencies) / max(last - start, 1e-9), 1),
            **summarise(latencies), **cost}
    step["load_average"] = round(os.getloadavg()[0], 1)
    step["settled"] = settled  # False: work still going on after 300 s (figures partial)
    if profiler:
        step["profile"] = profiler.finish(cost["cpu"]["visits"])
    return step


def describe(step, replicas):
    cpu = step["cpu"]
    per = ", ".join(f"{s} {v}" for s, v in cpu["ms_per_visit"].items())
    return (f"  replicas={replicas} offered {step['offered_per_s']}/s -> "
            f"{step['achieved_per_s']}/s p50 {step['p50_ms']} p95 {step['p95_ms']} "
            f"p99 {step['p99_ms']} ms missing {step['missing_plans']} errors "
            f"{step['http_errors']}\n"
            f"    CPU ms/visit: services {cpu['services_ms_per_visit']} "
            f"(less idle {cpu['services_ms_per_visit_less_idle']}; {per}); "
            f"postgres backends {cpu['postgres_backends_ms_per_visit']}, "
            f"rabbitmq (shared) {cpu['rabbitmq_ms_per_visit_shared']}; "
            f"services used {cpu['services_cores']} cores; "
            f"handler runs/visit {step['work']['handler_runs_per_visit']} "
            f"in {step['work'].get('handler_workers_per_visit')} workers; "
            f"load average {step['load_average']}")


def run_config(replicas, rates, seconds, profile=False, sql=False, count_events=False,
               warmup=40, mix="follow-up", facilities=len(FACILITIES)):
    box, s3 = local_sandbox("pipe")
    platform = meter = tap = None
    sql_dir = tempfile.mkdtemp(prefix="c2p-bench-sql-") if sql else None
    district = Facilities(random.Random(16))
    try:
        env = box.env(C2P_OUTBOX_INTERVAL_S=2, C2P_RETRY_DELAYS_MS="1000,5000,30000")
        if sql_dir:
            env["C2P_BENCH_SQL_DIR"] = sql_dir
        platform = BenchPlatform(env, tempfile.mkdtemp(prefix="c2p-bench-"),
                                 replicas={s: replicas for s in SERVICES},
                                 instrumented=sql).start()
        tap = Tap(box.amqp_uri, ["#"] if count_events else ["plan.created"])
        gateway = Gateways(platform.gateway_ports)
        gateway.sign_in(*COACH)
        if mix == "first":
            total = warmup + int(sum(rates) * seconds) + 10
            district = NewFacilities(random.Random(16), import_facilities(platform.gateway_port,
                                                                          total))
            settle(platform)
        elif facilities > len(FACILITIES):
            # Follow-ups spread over more CSComs, as a national rollout has them (the
            # 9 of Niono make a queue of visits to the same few facilities, whose
            # plans and actions each visit locks). The warm-up visits each of them
            # once or more, so the steps measure follow-ups.
            more = import_facilities(platform.gateway_port, facilities - len(FACILITIES))
            district = Facilities(random.Random(16), FACILITIES + more)
            warmup = max(warmup, 2 * facilities)
            settle(platform)
        meter = measure.Meter(platform, box.database_urls, sql_dir)
        # Warm-up (imports, caches, connection pools), not measured.
        send_load(gateway, 10, warmup / 10, district)
        settle(platform)
        idle = measure.idle_rate(meter, 6)
        steps = []
        for n, rate in enumerate(rates):
            profiler = None
            if profile and n == 0:
                import spy
                profiler = spy.Profiler(platform, seconds, prefix=f"profile-r{replicas}")
            events_before = dict(tap.counts)
            step = run_step(platform, meter, gateway, tap, rate, seconds, district, idle, profiler)
            if count_events:  # per visit stored (some HTTP answers may have timed out)
                step["events_per_visit"] = {
                    t: round((c - events_before.get(t, 0)) / max(step["cpu"]["visits"], 1), 2)
                    for t, c in sorted(tap.counts.items()) if c - events_before.get(t, 0)}
            steps.append(step)
            print(describe(step, replicas), flush=True)
            if step["missing_plans"] or (step["p95_ms"] or 0) > P95_LIMIT_MS * 3:
                break  # latency broke: higher rates only queue up
        tap.close()
        tap = None
        settle(platform)
        submissions = count_rows(box.database_urls["checklist"], "select count(*) from submissions")
        plans = count_rows(box.database_urls["planner"], "select count(*) from plans")
        alerts = count_rows(box.database_urls["notify"],
                            "select count(*) from inbox_messages where kind = 'plan.to_agree' "
                            "and recipient_id = 'u-coach-niono'")
        parked = len(deadletters.list_parked(box.amqp_uri))
        return {"replicas": replicas, "idle_cpu_ms_per_s": idle, "steps": steps,
                "totals": {"submissions": submissions, "plans": plans, "coach_alerts": alerts,
                           "parked": parked}}
    finally:
        if tap:
            tap.close()
        if meter:
            meter.close()
        if platform:
            platform.stop()
        box.close()
        s3.terminate()


def commit() -> str:
    """The code measured: the commit, and whether the work tree differs from it."""
    try:
        head = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=ROOT, text=True,
                              capture_output=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":!bench/results"],
                               cwd=ROOT, text=True, capture_output=True).stdout.strip()
    except OSError:
        return "?"
    return head + (" (+ uncommitted changes)" if dirty else "")


def best(config):
    ok = [s for s in config["steps"] if not s["missing_plans"]
          and (s["p95_ms"] or 1e9) <= P95_LIMIT_MS]
    return max(ok, key=lambda s: s["achieved_per_s"]) if ok else None


def bound(config) -> str:
    """What bounds the highest step run: the busiest processes, in shares of a core
    (PostgreSQL: the backends of this run; RabbitMQ: the whole broker, shared)."""
    step = config["steps"][-1]
    cpu = step["cpu"]
    seconds, visits = cpu["seconds"] or 1, cpu["visits"] or 0

    def share(ms_per_visit):
        return (ms_per_visit or 0) * visits / 1000 / seconds

    busiest = sorted(((share(ms), name) for name, ms in cpu["processes_ms_per_visit"].items()),
                     reverse=True)[:3]
    return (f"at {step['offered_per_s']}/s offered the services used {cpu['services_cores']} "
            f"of {os.cpu_count()} cores (PostgreSQL backends "
            f"{share(cpu['postgres_backends_ms_per_visit']):.2f}, RabbitMQ "
            f"{share(cpu['rabbitmq_ms_per_visit_shared']):.2f}, machine load average "
            f"{step.get('load_average', '?')}); busiest: "
            + ", ".join(f"{name} {value:.0%} of a core" for value, name in busiest))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="5,10,20,40,60,80")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--replicas", default="1,2")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy on every process during the first step")
    parser.add_argument("--sql", action="store_true",
                        help="count SQL statements per visit (instrumented services)")
    parser.add_argument("--count-events", action="store_true",
                        help="tap every event type and report events per visit")
    parser.add_argument("--no-floor", action="store_true", help="skip the bus floor")
    parser.add_argument("--mix", choices=("follow-up", "first"), default="follow-up",
                        help="follow-up visits to Niono's 9 CSComs (default), or first "
                        "visits only, each to a new CSCom")
    parser.add_argument("--facilities", type=int, default=len(FACILITIES),
                        help="follow-ups over this many CSComs: Niono's 9, and more "
                        "imported under Niono (default 9)")
    parser.add_argument("--output", default="pipeline.json")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    floor = None
    if not args.no_floor:
        import bus_floor
        floor = bus_floor.main(["--messages", "3000"])
    configs = []
    for replicas in [int(r) for r in args.replicas.split(",")]:
        print(f"pipeline with {replicas} replica(s) of each service "
              f"({ITEMS}-item {demo.TEMPLATE} visits)", flush=True)
        configs.append(run_config(replicas, rates, args.seconds, args.profile, args.sql,
                                  args.count_events, mix=args.mix,
                                  facilities=args.facilities))
    bests = {c["replicas"]: best(c) for c in configs}
    summary = {}
    for config in configs:
        first = config["steps"][0]
        summary[f"replicas_{config['replicas']}"] = {
            "cpu_ms_per_visit_services": first["cpu"]["services_ms_per_visit"],
            "cpu_ms_per_visit_services_less_idle":
                first["cpu"]["services_ms_per_visit_less_idle"],
            "cpu_ms_per_visit_by_service": first["cpu"]["ms_per_visit"],
            "cpu_ms_per_visit_postgres_backends": first["cpu"]["postgres_backends_ms_per_visit"],
            "handler_runs_per_visit": first["work"]["handler_runs_per_visit"],
            "best_rate_within_limit": (bests[config["replicas"]] or {}).get("achieved_per_s"),
            "p95_ms_at_best": (bests[config["replicas"]] or {}).get("p95_ms"),
            "bound": bound(config)}
    if bests.get(1) and bests.get(2):
        summary["two_replicas_over_one"] = round(
            bests[2]["achieved_per_s"] / bests[1]["achieved_per_s"], 2)
    if floor and bests.get(1):
        # The bus's floor in visits/s: its confirmed publishes/s over what a visit
        # publishes (its events, written to the outboxes, and the RPC request and reply).
        events = bests[1]["work"]["events_published_per_visit"] or 0
        per_visit = events + 2  # + the RPC request and its reply
        summary["events_published_per_visit"] = events
        summary["bus_floor_visits_per_s"] = round(floor["publish_confirmed_per_s"] / per_visit, 1)
        summary["best_over_bus_floor"] = round(
            bests[1]["achieved_per_s"] / summary["bus_floor_visits_per_s"], 3)
    result = {"machine": machine(), "commit": commit(), "mix": args.mix,
              "template": demo.TEMPLATE, "items": ITEMS,
              "cpu_target_ms_per_visit": 25, "p95_limit_ms": P95_LIMIT_MS,
              "bus_floor": floor, "summary": summary, "configs": configs,
              "best_within_limit": bests}
    path = write_json(args.output, result)
    print(f"summary: {summary}")
    print(f"written {os.path.relpath(path)}")
    return result


if __name__ == "__main__":
    main()
