"""Dashboard queries on a national-scale dataset.

2,000 facilities under the seeded districts, a year of monthly visits each on
the shipped integrated template (24,000 visits, their gaps), loaded in 10 %,
25 %, 50 % and 100 % steps. After each step the national views the desk asks for
are requested through the gateway by a national manager (scope: all of Mali),
as the desk asks for them (web/src/desk/api.ts): the map layer
(`/dashboards/map`), the gap totals and top items (`/dashboards/gaps`, facility
level, one row), the district and region roll-ups, the facility table and the
leaderboard; the p95 over all of them at each step, and its growth from 10 % to
100 % of the data (target: p95 <= 50 ms at 100 %, growth <= 1.5x).

The loader writes the visits and gap rows by SQL into the checklist database, as
the checklist service stores them (same columns, scores from the service's own
`checklist.domain.score`): going through the service would cost the whole
pipeline's CPU for 24,000 visits (about an hour on two cores). The dashboards'
read models are kept by statement-level triggers on `submissions` and
`submission_gaps` (checklist.read_models), so they are filled by these inserts as
by the service's; after each step the bench checks that `latest_visits`, when
the table exists, has one row per loaded facility (else the run stops).

    python bench/dashboards.py [--facilities 2000] [--requests 20]
"""
from harness import (Gateway, deployed_env, local_sandbox, machine, summarise,  # noqa: I001
                     write_json)

import argparse  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from c2p.database import driver_url  # noqa: E402
from c2p.processes import LocalPlatform  # noqa: E402
import measure as meter  # noqa: E402
from checklist import domain, read_models  # noqa: E402
from checklist.models import OrgUnit, Submission, SubmissionGap, TemplateVersion  # noqa: E402

MANAGER = ("manager.national", "demo-c2p-2025")
FRACTIONS = (0.10, 0.25, 0.50, 1.00)
# As the desk asks (web/src/desk/api.ts), plus the facility table's first page.
ENDPOINTS = ("/api/v1/dashboards/map",
             "/api/v1/dashboards/gaps?level=facility&top=10&per_page=1",
             "/api/v1/dashboards/gaps?level=district&top=10&per_page=100",
             "/api/v1/dashboards/gaps?level=region&top=10&per_page=100",
             "/api/v1/dashboards/gaps?level=facility&per_page=100",
             "/api/v1/dashboards/leaderboard")


def random_answers(template, rng):
    answers = {}
    for _, item in domain.items(template):
        roll = rng.random()
        if item["type"] == "yes_no":
            value = "yes" if roll < 0.8 else "partial" if roll < 0.9 else "no"
        elif item["type"] == "numeric":
            low, high = item["pass_range"]
            value = (low + high) / 2 if roll < 0.8 else item["valid_range"][0]
        else:
            value = item["choices"][0 if roll < 0.8 else -1]["value"]
        answers[item["code"]] = {"value": value, "comment": ""}
    return answers


class Loader:
    def __init__(self, url, seed=7):
        self.engine = create_engine(driver_url(url))
        self.rng = random.Random(seed)
        with self.engine.connect() as conn:
            row = conn.execute(select(TemplateVersion).where(
                TemplateVersion.code == "pev-integrated")).first()
            self.template_id, self.template = row.id, row.definition
            self.districts = conn.execute(select(OrgUnit.id, OrgUnit.path).where(
                OrgUnit.level == "district")).all()
        self.points = {item["code"]: float(item["points"])
                       for _, item in domain.items(self.template)}
        self.loaded = 0

    def new_generation(self):
        """What a stored visit does to the dashboards' answer cache (read_models)."""
        with self.engine.begin() as conn:
            conn.execute(text(read_models.BUMP))

    def load_until(self, facilities):
        """Add facilities (each with 12 monthly visits) until `facilities` exist."""
        now = datetime.now(timezone.utc)
        units, visits, gaps = [], [], []
        for n in range(self.loaded, facilities):
            district_id, district_path = self.districts[n % len(self.districts)]
            unit_id = f"BENCH-{n:05d}"
            path = f"{district_path}/{unit_id}"
            units.append({"id": unit_id, "name": f"CSCom de test nº {n}", "level": "facility",
                          "parent_id": district_id, "path": path})
            for month in range(12):
                visited = now - timedelta(days=30 * month + self.rng.randint(0, 20))
                score, found = domain.score(self.template, answers := random_answers(
                    self.template, self.rng))
                sid = uuid.uuid4()
                visits.append({"id": sid, "facility_id": unit_id, "facility_path": path,
                               "coach_id": "u-bench-coach", "template_id": self.template_id,
                               "visited_at": visited, "received_at": visited,
                               "coachees": [], "answers": answers, "gps": None,
                               "score": score, "gaps": found, "percent": score["percent"],
                               "colour": score["colour"], "flagged": score["flagged"]})
                gaps.extend({"submission_id": sid, "item_code": g["item_code"],
                             "section_code": g["section_code"], "template_id": self.template_id,
                             "facility_path": path, "visited_at": visited,
                             "critical": g["critical"],
                             "partial": g["points_lost"] < self.points[g["item_code"]]}
                            for g in found)
        with self.engine.begin() as conn:
            if units:
                conn.execute(insert(OrgUnit), units)
            for start in range(0, len(visits), 2000):
                conn.execute(insert(Submission), visits[start:start + 2000])
            for start in range(0, len(gaps), 5000):
                conn.execute(insert(SubmissionGap), gaps[start:start + 5000])
            conn.exec_driver_sql("analyze submissions; analyze submission_gaps; "
                                 "analyze org_units")
            self.check_read_models(conn, facilities)
        self.loaded = facilities
        return len(visits)

    def check_read_models(self, conn, facilities):
        """The read model of latest visits, if the checklist service has one, must
        hold every loaded facility: else the numbers would not be the service's."""
        exists = conn.exec_driver_sql("select to_regclass('latest_visits')").scalar()
        if not exists:
            self.read_models = False
            return
        self.read_models = True
        conn.exec_driver_sql("analyze")
        rows = conn.exec_driver_sql("select count(*) from latest_visits where facility_id "
                                    "like 'BENCH-%%'").scalar()
        if rows != facilities:
            raise RuntimeError(f"latest_visits has {rows} bench facilities, not {facilities}: "
                               "the read models are not kept on insert; load through "
                               "the service instead")


def cpu_now(platform, postgres):
    """CPU ms so far of the gateway and checklist processes and of the PostgreSQL
    backends of the run (a dashboard request touches nothing else)."""
    services = sum(meter.cpu_ms(p.pid) for (s, _), p in platform.processes.items()
                   if s in ("gateway", "checklist"))
    backends = meter.own_cpu_ms(postgres.stats()["backends"])
    return services, backends


def measure(gateway, requests_per_endpoint, platform=None, postgres=None, change=None):
    """Latency of each endpoint (sequential requests), and, given the platform, the CPU
    ms per request it costs the gateway + checklist and PostgreSQL: unlike the
    latency, that does not depend on how busy the machine is. `change`, when
    given, is called before each request (cold: as if a visit had just arrived)."""
    conn = gateway.connection()
    per_endpoint, everything = {}, []
    for path in ENDPOINTS:
        gateway.call(conn, "GET", path)  # warm caches and connections
        latencies = []
        if platform:
            services_before, backends_before = cpu_now(platform, postgres)
        for _ in range(requests_per_endpoint):
            if change:
                change()
            started = time.monotonic()
            status, _ = gateway.call(conn, "GET", path)
            latencies.append(time.monotonic() - started)
            assert status == 200, (path, status)
        per_endpoint[path] = summarise(latencies)
        if platform:
            services_after, backends_after = cpu_now(platform, postgres)
            per_endpoint[path]["cpu_ms_per_request_services"] = round(
                (services_after - services_before) / requests_per_endpoint, 1)
            per_endpoint[path]["cpu_ms_per_request_postgres"] = round(sum(
                ms - backends_before.get(pid, 0.0) for pid, ms in backends_after.items())
                / requests_per_endpoint, 1)
        everything += latencies
    return per_endpoint, summarise(everything)


def _ratio(a, b):
    return round(a / b, 2) if a and b else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facilities", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--cold", action="store_true",
                        help="move the read models' generation before each request (the "
                             "first request after a new visit: no cached answer)")
    args = parser.parse_args(argv)
    box, s3 = local_sandbox("dash")
    platform = None
    try:
        platform = LocalPlatform(deployed_env(box),
                                 tempfile.mkdtemp(prefix="c2p-bench-dash-")).start()
        gateway = Gateway(platform.gateway_port)
        gateway.sign_in(*MANAGER)
        loader = Loader(box.database_urls["checklist"])
        postgres = meter.Postgres(box.database_urls)
        levels, total_visits = [], 0
        for fraction in FRACTIONS:
            started = time.monotonic()
            total_visits += loader.load_until(int(args.facilities * fraction))
            load_s = time.monotonic() - started
            per_endpoint, overall = measure(gateway, args.requests, platform, postgres,
                                            loader.new_generation if args.cold else None)
            cpu = [e.get("cpu_ms_per_request_services", 0) + e.get("cpu_ms_per_request_postgres", 0)
                   for e in per_endpoint.values()]
            levels.append({"fraction": fraction, "facilities": loader.loaded,
                           "read_models": getattr(loader, "read_models", None),
                           "visits": total_visits, "load_s": round(load_s, 1),
                           "p95_ms": overall["p95_ms"], "p50_ms": overall["p50_ms"],
                           "cpu_ms_per_request_max": max(cpu),
                           "cpu_ms_per_request_mean": round(sum(cpu) / len(cpu), 1),
                           "endpoints": per_endpoint})
            print(f"  {fraction:>4.0%}: {loader.loaded} facilities, {total_visits} visits: "
                  f"p50 {overall['p50_ms']} ms, p95 {overall['p95_ms']} ms; CPU per request "
                  f"(gateway+checklist+PostgreSQL) mean {levels[-1]['cpu_ms_per_request_mean']}, "
                  f"max {levels[-1]['cpu_ms_per_request_max']} ms", flush=True)
        first, last = levels[0], levels[-1]
        growth = {path: _ratio(last["endpoints"][path]["p95_ms"],
                               first["endpoints"][path]["p95_ms"]) for path in ENDPOINTS}
        result = {"machine": machine(), "targets": {"p95_ms": 50, "growth": 1.5},
                  "p95_ms_at_10_percent": first["p95_ms"], "p95_ms_at_100_percent": last["p95_ms"],
                  "growth_10_to_100": _ratio(last["p95_ms"], first["p95_ms"]),
                  "growth_by_endpoint": growth,
                  "cpu_growth_10_to_100": _ratio(last["cpu_ms_per_request_max"],
                                                 first["cpu_ms_per_request_max"]),
                  "levels": levels}
        print(f"  p95 {first['p95_ms']} ms at {first['fraction']:.0%}, {last['p95_ms']} ms at "
              f"{last['fraction']:.0%}: growth {result['growth_10_to_100']}x; CPU per request "
              f"(slowest endpoint) growth {result['cpu_growth_10_to_100']}x", flush=True)
        write_json("dashboards.json", result)
        return result
    finally:
        if platform:
            platform.stop()
        box.close()
        s3.terminate()


if __name__ == "__main__":
    main()
