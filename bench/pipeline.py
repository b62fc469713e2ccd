"""The supervision cycle end to end: CPU per visit, throughput and latency.

A full visit on the shipped 49-item `pev-integrated` template (every item
answered, a realistic share of gaps, to nine CSComs of Niono, coach.niono's
district) is POSTed to the gateway; the checklist service stores and scores it and
publishes `checklist.submitted`; the planner builds the plan (`plan.created`);
notify, evidence, hmis and the gateway's webhook and live consumers react.
Latency is from the send to `plan.created` on a tap queue; completeness (one
plan and one coach alert per visit, nothing parked) is checked in the databases.

With `--districts N` the visits are spread evenly over N districts of the shipped
org units (Niono first), each visited by its own coach, scoped to it (the seed's
demo coach where there is one, else one the admin creates), so that no district's
monthly counters or CSComs take every visit, as under a national load; a district
with fewer shipped CSComs than `--facilities` gets more, imported by the admin.

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
  functions per service in bench/results/profile-*.txt. py-spy samples wall
  time while the GIL is held: on busy cores it over-counts whatever has just
  made a system call (it charged 40 % of notify to psycopg2's `execute`, where
  perf finds 2 % of its CPU);
- with `--cpu-samples`: each service samples its own stack every 2 ms of its
  CPU time (bench/instrumented_run.py), during the first step: top functions
  per service in bench/results/cpu-*.txt, shares of CPU time.

Load is open-loop at rising rates until latency breaks, with one replica of
each service, then two. The bus's floor (bench/bus_floor.py) is measured in the
same run, and the best rate within the limit reported as a share of it.

    python bench/pipeline.py [--rates 5,10,20,40,60,80] [--seconds 10] [--replicas 1,2]
                             [--profile] [--cpu-samples] [--sql] [--count-events]
                             [--no-floor]
                             [--mix follow-up|first] [--facilities 9] [--districts 1]
"""
from harness import (Gateway, Tap, count_rows, deployed_env, local_sandbox, machine,  # noqa: I001
                     summarise, write_json)

import argparse  # noqa: E402
import csv  # noqa: E402
import http.client  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

import eventlet  # noqa: E402
from eventlet.queue import LightQueue  # noqa: E402

from c2p import deadletters, demo  # noqa: E402
from c2p.processes import LocalPlatform  # noqa: E402
from c2p.sandbox import ROOT, query  # noqa: E402

import measure  # noqa: E402

P95_LIMIT_MS = 300
SERVICES = ("checklist", "planner", "notify", "evidence", "hmis", "gateway")
ORG_UNITS_CSV = os.path.join(ROOT, "services", "checklist", "checklist", "org_units.csv")
NIONO = "ML-SEG-NIO"  # coach.niono's district: the bench's only one before --districts
# A district's shipped CSComs the bench visits at most; more are imported under it.
# Nine: the nine of Niono it has always visited (CEN, MOL, SIR, POG, KOL, SOK, DIA,
# NAM, DOG), so a run with one district visits the CSComs it always did.
SHIPPED_PER_DISTRICT = 9
TEMPLATE = demo.load_template()
ITEMS = sum(len(s["items"]) for s in TEMPLATE["sections"])
INSTRUMENTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "instrumented_run.py")


class NewFacilities:
    """First visits only (`--mix first`): every visit goes to a CSCom never visited
    before (imported under the districts by the admin before the run), a quarter
    of its items failing: no earlier action to verify or carry over."""

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


@dataclass
class District:
    """One district of the load: the CSComs visited there and the one coach who
    visits them, scoped to the district (so every visit is in the coach's scope, and
    the coach is the one alerted of its plan)."""
    id: str
    name: str
    path: str  # /ML/<region>/<district>, as accounts' scopes name it
    latitude: float
    longitude: float
    shipped: list[str]  # its CSComs in the shipped org units, in file order
    facilities: list[str] = field(default_factory=list)  # those this run visits
    coach_id: str | None = None
    token: str | None = None  # the coach's, signed in


def shipped_districts() -> list[District]:
    """The districts of the shipped org units (the seed loads them into every
    sandbox) with their CSComs: Niono first, the others in file order."""
    with open(ORG_UNITS_CSV, encoding="utf-8", newline="") as f:
        units = list(csv.DictReader(f))
    parent = {u["id"]: u["parent_id"] for u in units}

    def path(unit_id):
        return (path(parent[unit_id]) if parent[unit_id] else "") + "/" + unit_id

    districts = [District(u["id"], u["name"], path(u["id"]), float(u["latitude"]),
                          float(u["longitude"]),
                          [f["id"] for f in units
                           if f["level"] == "facility" and f["parent_id"] == u["id"]])
                 for u in units if u["level"] == "district"]
    return sorted(districts, key=lambda d: d.id != NIONO)  # stable: file order after


def sign_in(port, username, password) -> str:
    client = Gateway(port)
    client.sign_in(username, password)
    return client.token


def staff(admin, port, districts):
    """Gives each district its coach, signed in: the seed's demo coach scoped to it
    where there is one (coach.niono, coach.kayes: a second coach of the district
    would get a second alert of each visit there; seeded with the demo password),
    else a coach the admin creates."""
    status, page = admin.call(admin.connection(), "GET",
                              "/api/v1/accounts?role=coach&active=true&per_page=100")
    assert status == 200, (status, page)
    existing = {tuple(a["scope"]): a for a in page["items"]}
    for district in districts:
        account = existing.get((district.path,)) or create_coach(admin, district)
        district.coach_id = account["id"]
        district.token = sign_in(port, account["username"], demo.PASSWORD)


def create_coach(admin, district) -> dict:
    """A coach scoped to `district`, created by the admin as an admin would (the
    account id is fixed, so a retried create answers the same account)."""
    slug = district.id.lower()
    status, account = admin.call(admin.connection(), "POST", "/api/v1/accounts", {
        "id": f"u-coach-bench-{slug}", "username": f"coach.bench.{slug}",
        "password": demo.PASSWORD, "display_name": f"Coach de banc, {district.name}",
        "role": "coach", "scope": [district.path], "language": "fr"})
    assert status in (200, 201), (status, account)
    return account


def import_facilities(admin, districts, counts) -> dict[str, list[str]]:
    """`counts[district id]` new CSComs under each district, imported by the admin
    through the gateway in one CSV: {district id: the new CSComs' ids}."""
    ids = {d.id: [f"{d.id}-B{n:05d}" for n in range(counts.get(d.id, 0))] for d in districts}
    rows = [f"{i},{d.id},facility,CSCom de banc {n},{d.latitude},{d.longitude}\n"
            for d in districts for n, i in enumerate(ids[d.id])]
    if not rows:
        return ids
    body = "id,parent_id,level,name,latitude,longitude\n" + "".join(rows)
    conn = admin.connection()
    conn.request("POST", "/api/v1/org-units/import?format=csv", body=body.encode(),
                 headers={"Content-Type": "text/csv",
                          "Authorization": f"Bearer {admin.token}"})
    reply = conn.getresponse()
    text = reply.read()
    assert reply.status == 200, (reply.status, text[:500])
    return ids


def follow_up_facilities(admin, districts, per_district) -> list[str]:
    """Each district's CSComs for follow-up visits, `per_district` of them: its
    shipped ones (at most SHIPPED_PER_DISTRICT), then ones imported under it."""
    for district in districts:
        district.facilities = district.shipped[:min(per_district, SHIPPED_PER_DISTRICT)]
    imported = import_facilities(admin, districts, {
        d.id: per_district - len(d.facilities) for d in districts})
    for district in districts:
        district.facilities += imported[district.id]
    return [f for d in districts for f in d.facilities]


def first_visit_facilities(admin, districts, total) -> list[str]:
    """`total` (or a few more) new CSComs, imported under the districts in equal
    shares, in the order the visits take them: one of each district in turn, so
    every step's first visits are spread over the districts too."""
    share = -(-total // len(districts))
    imported = import_facilities(admin, districts, {d.id: share for d in districts})
    for district in districts:
        district.facilities = imported[district.id]
    return [f for turn in zip(*imported.values()) for f in turn]


class Facilities:
    """The districts' CSComs as they stand between monthly visits: each item of the
    template passes or fails at each facility. At every visit a failing item is
    fixed with probability 1/2 (its open action then closes, verified by the
    visit) and a passing one fails with probability 1/6, so about a quarter of the
    items fail at a visit (~12 gaps of 49), about half of the last visit's gaps
    are verified and the other half carried over: the steady state of follow-up
    visits, which is most visits once a district is under way."""

    FIX, BREAK = 0.5, 1 / 6

    def __init__(self, rng: random.Random, ids):
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


# `--together`: the back-end services in one process (`python -m c2p.run checklist
# planner …`); the gateway in its own.
BACKEND = ("checklist", "planner", "notify", "evidence", "hmis")


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
    (as a load balancer would), a visit sent as the coach of its CSCom's district."""

    def __init__(self, ports, districts):
        super().__init__(ports[0])
        self.ports, self.turn = list(ports), 0
        self.tokens = {f: d.token for d in districts for f in d.facilities}

    def submit(self, conn, payload):
        """POST one visit as its facility's coach: (status, body)."""
        return self.call(conn, "POST", "/api/v1/submissions", payload,
                         token=self.tokens[payload["facility_id"]])

    def connection(self):
        self.turn += 1
        return http.client.HTTPConnection("127.0.0.1", self.ports[self.turn % len(self.ports)],
                                          timeout=30)


def send_load(gateway, rate, seconds, visits, connections=64):
    """POST visits at `rate`/s for `seconds` (open loop): ({id: sent at}, errors, start)."""
    pool = LightQueue()
    for _ in range(connections):
        pool.put(gateway.connection())
    sent, errors = {}, []

    def send(payload):
        conn = pool.get()
        try:
            started = time.monotonic()
            status, body = gateway.submit(conn, payload)
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
    payloads = [visits.visit() for _ in range(total)]  # built before: not in the timing
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


def run_step(platform, meter, gateway, tap, rate, seconds, visits, idle, profiler=None):
    settle(platform)
    yardstick = [measure.yardstick_ms()]
    before = meter.snapshot()
    bench_cpu = time.process_time()  # the load generator and the tap share the 2 cores
    if profiler:
        profiler.start()
    sent, errors, start, ids = send_load(gateway, rate, seconds, visits)
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
    step["cpu"]["bench_ms_per_visit"] = round(
        (time.process_time() - bench_cpu) * 1000 / max(len(sent), 1), 2)
    step["load_average"] = round(os.getloadavg()[0], 1)
    yardstick.append(measure.yardstick_ms())
    step["cpu"]["yardstick_ms"] = round(sum(yardstick) / 2, 2)
    # The services' CPU per visit in yardsticks: comparable between runs made while
    # the (shared, virtual) machine ran at different speeds.
    step["cpu"]["services_yardsticks_per_visit"] = round(
        step["cpu"]["services_ms_per_visit"] / step["cpu"]["yardstick_ms"], 3)
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
            f"rabbitmq (shared) {cpu['rabbitmq_ms_per_visit_shared']}, "
            f"this load generator {cpu.get('bench_ms_per_visit')}; "
            f"services used {cpu['services_cores']} cores; "
            f"handler runs/visit {step['work']['handler_runs_per_visit']} "
            f"in {step['work'].get('handler_workers_per_visit')} workers; "
            f"load average {step['load_average']}; yardstick {cpu.get('yardstick_ms')} ms, "
            f"services {cpu.get('services_yardsticks_per_visit')} yardsticks/visit")


def prepare(platform, mix, count, facilities, warmup, total_first):
    """The run's first `count` districts with their coaches and CSComs, set up by
    the admin through the gateway, and what the visits are: (districts, visits,
    warm-up visits). `total_first`: how many first visits the run will make."""
    districts = shipped_districts()[:count]
    admin = Gateway(platform.gateway_port)
    admin.sign_in("admin", demo.PASSWORD)
    staff(admin, platform.gateway_port, districts)
    if mix == "first":
        visits = NewFacilities(random.Random(16),
                               first_visit_facilities(admin, districts, total_first))
    else:
        # Follow-ups spread over more CSComs with --facilities or --districts, as a
        # national rollout has them (Niono's 9 make a queue of visits to the same
        # few facilities, whose plans and actions each visit locks, and to one
        # district's monthly counters). The warm-up visits each CSCom once or more,
        # so the steps measure follow-ups.
        visits = Facilities(random.Random(16),
                            follow_up_facilities(admin, districts, facilities))
        warmup = max(warmup, 2 * len(visits.ids))
    settle(platform)  # the new CSComs and coaches known to every service
    return districts, visits, warmup


def totals_of(box, districts) -> dict:
    """What the run left in the databases: every visit stored with its plan and one
    `plan.to_agree` alert to the coach who made it (counted per coach: each is the
    only coach of its district), nothing parked."""
    urls = box.database_urls
    coaches = ", ".join(f"'{d.coach_id}'" for d in districts)
    visits = dict(query(urls["checklist"],
                        "select coach_id, count(*) from submissions group by coach_id"))
    alerts = dict(query(urls["notify"],
                        "select recipient_id, count(*) from inbox_messages where kind = "
                        f"'plan.to_agree' and recipient_id in ({coaches}) group by recipient_id"))
    by_coach = {d.coach_id: {"visits": visits.get(d.coach_id, 0),
                             "alerts": alerts.get(d.coach_id, 0)} for d in districts}
    return {"submissions": sum(visits.values()),
            "plans": count_rows(urls["planner"], "select count(*) from plans"),
            "coach_alerts": sum(alerts.values()),
            "coaches_not_one_alert_per_visit": sorted(
                c for c, n in by_coach.items() if n["visits"] != n["alerts"]),
            "by_coach": by_coach,
            "parked": len(deadletters.list_parked(box.amqp_uri))}


def describe_totals(totals) -> str:
    coaches = len(totals["by_coach"])
    wrong = totals["coaches_not_one_alert_per_visit"]
    return (f"  totals: {totals['submissions']} visits stored, {totals['plans']} plans, "
            f"{totals['coach_alerts']} coach alerts ("
            + (f"not one per visit for {', '.join(wrong)}" if wrong
               else f"one per visit, each to its coach, {coaches} coach(es)")
            + f"), {totals['parked']} parked")


def run_config(replicas, rates, seconds, profile=False, sql=False, count_events=False,
               warmup=40, mix="follow-up", facilities=SHIPPED_PER_DISTRICT, districts=1,
               together=False, cpu_samples=False):
    box, s3 = local_sandbox("pipe")
    platform = meter = tap = None
    sql = sql or cpu_samples  # the sampler lives in the instrumented run
    sql_dir = tempfile.mkdtemp(prefix="c2p-bench-sql-") if sql else None
    samples_dir = tempfile.mkdtemp(prefix="c2p-bench-cpu-") if cpu_samples else None
    try:
        env = deployed_env(box)
        if sql_dir:
            env["C2P_BENCH_SQL_DIR"] = sql_dir
        if samples_dir:
            env["C2P_BENCH_CPU_SAMPLES"] = samples_dir
        names = ("gateway", "+".join(BACKEND)) if together else SERVICES
        platform = BenchPlatform(env, tempfile.mkdtemp(prefix="c2p-bench-"),
                                 replicas={name: replicas for name in names},
                                 together=BACKEND if together else (),
                                 instrumented=sql).start()
        tap = Tap(box.amqp_uri, ["#"] if count_events else ["plan.created"])
        places, visits, warmup = prepare(platform, mix, districts, facilities, warmup,
                                         warmup + int(sum(rates) * seconds) + 10)
        gateway = Gateways(platform.gateway_ports, places)
        meter = measure.Meter(platform, box.database_urls, sql_dir)
        # Warm-up (imports, caches, connection pools), not measured.
        send_load(gateway, 10, warmup / 10, visits)
        settle(platform)
        idle = measure.idle_rate(meter, 6)
        steps = []
        for n, rate in enumerate(rates):
            profiler = None
            if profile and n == 0:
                import spy
                profiler = spy.Profiler(platform, seconds, prefix=f"profile-r{replicas}")
            events_before = dict(tap.counts)
            step = run_step(platform, meter, gateway, tap, rate, seconds, visits, idle, profiler)
            if count_events:  # per visit stored (some HTTP answers may have timed out)
                step["events_per_visit"] = {
                    t: round((c - events_before.get(t, 0)) / max(step["cpu"]["visits"], 1), 2)
                    for t, c in sorted(tap.counts.items()) if c - events_before.get(t, 0)}
            if samples_dir and n == 0:
                import spy
                step["cpu_samples"] = spy.cpu_samples(platform, samples_dir,
                                                      f"cpu-r{replicas}", step["cpu"]["visits"])
            steps.append(step)
            print(describe(step, replicas), flush=True)
            if step["missing_plans"] or (step["p95_ms"] or 0) > P95_LIMIT_MS * 3:
                break  # latency broke: higher rates only queue up
        tap.close()
        tap = None
        settle(platform)
        totals = totals_of(box, places)
        print(describe_totals(totals), flush=True)
        return {"replicas": replicas, "idle_cpu_ms_per_s": idle, "steps": steps,
                "districts": {d.id: d.facilities for d in places}, "totals": totals}
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
    parser.add_argument("--cpu-samples", action="store_true",
                        help="each service samples its stack by CPU time in the first step")
    parser.add_argument("--sql", action="store_true",
                        help="count SQL statements per visit (instrumented services)")
    parser.add_argument("--count-events", action="store_true",
                        help="tap every event type and report events per visit")
    parser.add_argument("--no-floor", action="store_true", help="skip the bus floor")
    parser.add_argument("--mix", choices=("follow-up", "first"), default="follow-up",
                        help="follow-up visits to each district's CSComs (default), or "
                        "first visits only, each to a new CSCom")
    parser.add_argument("--facilities", type=int, default=SHIPPED_PER_DISTRICT,
                        help="follow-ups over this many CSComs per district: its shipped "
                        "ones (at most 9), then more imported under it (default 9)")
    parser.add_argument("--districts", type=int, default=1,
                        help="spread the visits over this many districts of the shipped "
                        "org units, Niono first, each visited by its own coach (default 1)")
    parser.add_argument("--together", action="store_true",
                        help="the back-end services in one process (python -m c2p.run "
                        "checklist planner notify evidence hmis), the gateway in its own")
    parser.add_argument("--output", default="pipeline.json")
    args = parser.parse_args(argv)
    if args.together and (args.sql or args.cpu_samples):
        parser.error("--together runs without --sql or --cpu-samples (they wrap one service)")
    shipped = len(shipped_districts())
    if not 1 <= args.districts <= shipped:
        parser.error(f"--districts: from 1 to {shipped} (the shipped org units' districts)")
    if args.facilities < 1:
        parser.error("--facilities: at least 1")
    rates = [float(r) for r in args.rates.split(",")]
    floor = None
    if not args.no_floor:
        import bus_floor
        floor = bus_floor.main(["--messages", "3000"])
    configs = []
    for replicas in [int(r) for r in args.replicas.split(",")]:
        print(f"pipeline with {replicas} replica(s) of each service"
              f"{' (the back-end services together in one process)' if args.together else ''} "
              f"({ITEMS}-item {demo.TEMPLATE} visits, {args.mix}, {args.districts} "
              f"district(s))", flush=True)
        configs.append(run_config(replicas, rates, args.seconds, args.profile, args.sql,
                                  args.count_events, mix=args.mix,
                                  facilities=args.facilities, districts=args.districts,
                                  together=args.together, cpu_samples=args.cpu_samples))
    bests = {c["replicas"]: best(c) for c in configs}
    summary = {}
    for config in configs:
        first = config["steps"][0]
        summary[f"replicas_{config['replicas']}"] = {
            "cpu_ms_per_visit_services": first["cpu"]["services_ms_per_visit"],
            "services_yardsticks_per_visit": first["cpu"].get("services_yardsticks_per_visit"),
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
              "districts": args.districts, "facilities_per_district": args.facilities,
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
