"""Every benchmark of issue 16 in one command: prints a table, writes bench/results/all.json.

    python bench/run.py                 # full run (15-25 minutes on 2 quiet cores)
    python bench/run.py --quick         # shorter steps, smaller data (about 10 minutes)
    python bench/run.py --only pipeline,profile   # some parts: pipeline, first, profile,
                                                  # streaming, dashboards, codecs, plumbing

Runs, in one process tree on this machine:
- pipeline: the bus's own floor (raw kombu with confirms), then full 49-item
  visits at rising rates (5, 10, 20, 40, 60, 80/s, until latency breaks) with
  one and two replicas of each service: CPU ms per visit per service from /proc (the headline: it does not
  depend on machine load), handler runs per visit per queue, p95 submission ->
  plan, the best rate within p95 <= 300 ms as a share of the bus floor, and the
  two-replica ratio with the busiest processes (bench/results/pipeline.json);
- first: CPU per visit when every visit is a first one (a new CSCom each: no
  earlier action to verify), 10/s (bench/results/pipeline-first-visits.json);
- profile: one step at 15/s for 20 s with py-spy on every service process and
  SQL statements counted per visit (bench/results/pipeline-profile.json,
  profile-r1-<service>-0.txt, and all of it as text in profile-report.txt);
  needs py-spy (`pip install -e '.[bench]'`);
- streaming: evidence upload through the gateway against a direct upload;
- dashboards: the desk's national views at 10 % to 100 % of 2,000 facilities x
  12 monthly visits (bench/results/dashboards.json);
- codecs: CPU per event of loading and dumping event data, compiled codecs against
  marshmallow's own, in one process (bench/results/event_codecs.json);
- plumbing: the CPU of a database round trip, a handler's transaction, a confirmed
  publish and a consumed message, and what they come to per visit: the floor of the
  design (bench/results/plumbing.json; its own process, as it runs green).
"""
import os  # noqa: I001
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import machine, write_json  # noqa: E402

import event_codecs  # noqa: E402
import dashboards  # noqa: E402
import evidence_streaming  # noqa: E402
import pipeline  # noqa: E402

PARTS = ("pipeline", "first", "profile", "streaming", "dashboards", "codecs", "plumbing")


def table(rows, headers):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def pipeline_rows(pipe):
    rows = []
    floor = pipe.get("bus_floor") or {}
    if floor:
        rows.append(["bus floor: publish with confirms / consume with acks",
                     f"{floor['publish_confirmed_per_s']}/s / {floor['consume_acked_per_s']}/s",
                     ""])
    for config in pipe["configs"]:
        replicas = config["replicas"]
        first = config["steps"][0]
        cpu = first["cpu"]
        rows.append([f"CPU per visit, {replicas} replica(s), services summed "
                     f"(at {first['offered_per_s']}/s)",
                     f"{cpu['services_ms_per_visit']} ms (less idle "
                     f"{cpu['services_ms_per_visit_less_idle']})", "target <= 25 ms"])
        rows.append(["  by service", ", ".join(f"{s} {v}" for s, v in cpu["ms_per_visit"].items()),
                     ""])
        rows.append(["  PostgreSQL backends of the run / RabbitMQ (shared)",
                     f"{cpu['postgres_backends_ms_per_visit']} / "
                     f"{cpu['rabbitmq_ms_per_visit_shared']} ms", ""])
        rows.append(["  handler runs per visit", first["work"]["handler_runs_per_visit"], ""])
        best = pipe["best_within_limit"].get(replicas) or pipe["best_within_limit"].get(
            str(replicas))
        if best:
            summary = pipe["summary"]
            ratio = (f"{summary['best_over_bus_floor']} of the bus floor "
                     f"({summary['bus_floor_visits_per_s']} visits/s at "
                     f"{summary['events_published_per_visit']} events + RPC per visit)"
                     if replicas == 1 and "best_over_bus_floor" in summary else "")
            rows.append([f"pipeline, {replicas} replica(s): best rate with p95 <= "
                         f"{pipe['p95_limit_ms']} ms",
                         f"{best['achieved_per_s']}/s (p50 {best['p50_ms']}, p95 "
                         f"{best['p95_ms']} ms)", ratio])
        else:
            rows.append([f"pipeline, {replicas} replica(s)", "no rate within the p95 limit", ""])
        rows.append(["  what bounds it", pipe["summary"][f"replicas_{replicas}"]["bound"], ""])
    if "two_replicas_over_one" in pipe["summary"]:
        rows.append(["pipeline, 2 replicas / 1", "", f"{pipe['summary']['two_replicas_over_one']}x"])
    return rows


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = "--quick" in argv
    only = PARTS
    if "--only" in argv:
        only = tuple(argv[argv.index("--only") + 1].split(","))
    results, rows = {"machine": machine()}, []
    if "pipeline" in only:
        pipe = pipeline.main(["--rates", "5,10,20" if quick else "5,10,20,40,60,80",
                              "--seconds", "5" if quick else "10", "--replicas", "1,2"])
        results["pipeline"] = pipe
        rows += pipeline_rows(pipe)
    if "first" in only:
        first = pipeline.main(["--rates", "10", "--seconds", "5" if quick else "10",
                               "--replicas", "1", "--mix", "first", "--no-floor",
                               "--output", "pipeline-first-visits.json"])
        results["first_visits"] = first
        cpu = first["configs"][0]["steps"][0]["cpu"]
        rows.append(["CPU per FIRST visit (new CSCom each), services summed",
                     f"{cpu['services_ms_per_visit']} ms (less idle "
                     f"{cpu['services_ms_per_visit_less_idle']}): "
                     + ", ".join(f"{s} {v}" for s, v in cpu["ms_per_visit"].items()),
                     "target <= 25 ms"])
    if "profile" in only:
        prof = pipeline.main(["--rates", "10" if quick else "15",
                              "--seconds", "10" if quick else "20", "--replicas", "1",
                              "--profile", "--sql", "--count-events", "--no-floor",
                              "--output", "pipeline-profile.json"])
        results["profile"] = prof
        import profile_report
        profile_report.main([os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                          "pipeline-profile.json"),
                             "--out", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "results", "profile-report.txt")])
        step = prof["configs"][0]["steps"][0]
        rows.append(["SQL statements per visit (instrumented run)",
                     ", ".join(f"{s} {v['statements_per_visit']}"
                               for s, v in step["sql_per_visit"].items()), ""])
        rows.append(["events per visit", ", ".join(f"{t} {n}" for t, n in
                                                   step.get("events_per_visit", {}).items()), ""])
        rows.append(["py-spy top functions", "bench/results/profile-r1-*.txt", ""])
    if "codecs" in only:
        codec = event_codecs.main(["--repeat", "500" if quick else "2000"])
        results["codecs"] = codec
        summary = codec["summary"]
        rows.append(["event codecs per follow-up visit (CPU)",
                     f"{summary['per_visit_ms']} ms (marshmallow: "
                     f"{summary['per_visit_marshmallow_ms']} ms)",
                     f"{summary['per_visit_ms'] / summary['per_visit_marshmallow_ms']:.2f}"])
    if "plumbing" in only:
        import json
        import subprocess
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "results", "plumbing.json")
        subprocess.run([sys.executable, os.path.join(here, "plumbing.py"), "--seconds",
                        "1" if quick else "3", "--output", path], check=True,
                       stdout=subprocess.DEVNULL)
        with open(path) as f:
            plumbing = json.load(f)
        results["plumbing"] = plumbing
        rows.append(["plumbing of one visit (CPU floor of the design)",
                     f"{plumbing['plumbing_per_visit']['total_ms']} ms", "target 25 ms"])
    if "streaming" in only:
        stream = evidence_streaming.main(["--megabytes", "50" if quick else "300"])
        results["evidence_streaming"] = stream
        rows.append(["evidence streaming / direct upload", f"{stream.get('summary', '')}",
                     f"{stream.get('throughput_ratio', '')}"])
    if "dashboards" in only:
        dash = dashboards.main(["--facilities", "200" if quick else "2000"])
        results["dashboards"] = dash
        for level in dash.get("levels", []):
            rows.append([f"dashboard p95 at {level['fraction']:.0%} of national data",
                         f"{level['p95_ms']} ms (CPU per request: mean "
                         f"{level.get('cpu_ms_per_request_mean')}, slowest endpoint "
                         f"{level.get('cpu_ms_per_request_max')} ms)",
                         f"{level['visits']} visits"])
        rows.append(["dashboard p95 growth 10 % -> 100 %", f"{dash.get('growth_10_to_100')}x "
                     f"(CPU per request of the slowest endpoint: "
                     f"{dash.get('cpu_growth_10_to_100')}x)", "target <= 1.5x, p95 <= 50 ms"])
    print()
    table(rows, ["measure", "result", "ratio / target"])
    write_json("all.json", results)


if __name__ == "__main__":
    main()
