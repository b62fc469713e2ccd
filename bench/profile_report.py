"""A plain-text report of a profiled pipeline run (what to cut, service by service).

    python bench/profile_report.py [bench/results/pipeline-profile.json] [--out FILE]

Reads the JSON that `pipeline.py --profile --sql --count-events` wrote and the
py-spy summaries beside it; prints (or writes) CPU ms per visit per service,
handler runs, events and SQL statements per visit, and the top functions of
each service.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import RESULTS_DIR  # noqa: E402

TOP = 10


def report(data) -> str:
    config = data["configs"][0]
    step = config["steps"][0]
    cpu, work = step["cpu"], step["work"]
    out = []
    add = out.append
    commit = data.get("commit", "? (not recorded)")
    add(f"Code: {commit}")
    add(f"Run: {data['machine']['date']}, {data['machine']['cpus']} cores; "
        f"{step['accepted']} full {data['items']}-item {data['template']} visits at "
        f"{step['offered_per_s']}/s offered ({step['achieved_per_s']}/s achieved, p50 "
        f"{step['p50_ms']} ms, p95 {step['p95_ms']} ms submission->plan), "
        f"{config['replicas']} replica of each service; CPU window {cpu['seconds']} s.")
    add("Services ran through bench/instrumented_run.py (SQL statement counter added).")
    add("")
    add("CPU ms per visit (utime+stime from /proc; 'less idle' subtracts each process's")
    add("idle CPU rate measured before the step, times the window):")
    for service, ms in cpu["ms_per_visit"].items():
        add(f"  {service:10} {ms:8.1f}   less idle {cpu['ms_per_visit_less_idle'][service]:8.1f}")
    add(f"  {'SUM':10} {cpu['services_ms_per_visit']:8.1f}   less idle "
        f"{cpu['services_ms_per_visit_less_idle']:8.1f}     (target <= 25)")
    add(f"  PostgreSQL backends of this run: {cpu['postgres_backends_ms_per_visit']} ms/visit; "
        f"whole PostgreSQL server (shared): {cpu['postgres_server_ms_per_visit_shared']}; "
        f"RabbitMQ beam.smp (shared): {cpu['rabbitmq_ms_per_visit_shared']}")
    add("")
    add(f"Handler runs per visit: {work['handler_runs_per_visit']}, in "
        f"{work['handler_workers_per_visit']} workers")
    for queue, n in sorted(work["handler_runs_per_visit_by_queue"].items(), key=lambda kv: -kv[1]):
        add(f"  {n:6.2f}  {queue}")
    add("  workers per visit by service (wall ms per visit in brackets: includes waiting, "
        "not CPU):")
    for service, n in work.get("handler_workers_per_visit_by_service", {}).items():
        add(f"  {n:6.2f}  {service}  "
            f"[{work.get('handler_wall_ms_per_visit_by_service', {}).get(service)}]")
    if work.get("handler_failures_per_visit_by_queue"):
        add(f"  failed runs per visit (retried): {work['handler_failures_per_visit_by_queue']}")
    add(f"  RPC calls per visit: {work['rpc_calls_per_visit']}")
    add(f"  HTTP requests per visit: {work['http_requests_per_visit']}")
    if work.get("other_counters"):
        add(f"  other counters over the step: {work['other_counters']}")
    add("")
    if step.get("events_per_visit"):
        add("Events published per visit (tap on every routing key):")
        for event, n in step["events_per_visit"].items():
            add(f"  {n:6.2f}  {event}")
        add("")
    if step.get("sql_per_visit"):
        total = sum(v["statements_per_visit"] or 0 for v in step["sql_per_visit"].values())
        add(f"SQL statements per visit (SQLAlchemy cursor executes; an executemany counts once; "
            f"COMMIT listed, not summed): {total:.1f} in all")
        for service, v in step["sql_per_visit"].items():
            add(f"  {service}: {v['statements_per_visit']}")
            for statement, n in list(v["by_statement"].items())[:12]:
                add(f"      {n:6.2f}  {statement}")
        add("")
    add("Per database per visit (pg_stat_database): commits, rollbacks, rows returned "
        "(scanned), fetched, inserted, updated")
    for service, s in step["database_per_visit"].items():
        add(f"  {service:10} commits {s['commits']}, rollbacks {s['rollbacks']}, returned "
            f"{s['rows_returned']}, fetched {s['rows_fetched']}, inserted {s['rows_inserted']}, "
            f"updated {s['rows_updated']}")
    add("")
    if step.get("tables_per_visit"):
        add("Busiest tables per visit (pg_stat_user_tables): seq scans / rows they read, "
            "index scans / rows fetched")
        for service, tables in step["tables_per_visit"].items():
            for table, t in list(tables.items())[:4]:
                add(f"  {service:10} {table:28} seq {t['seq_scans']} / {t['seq_rows_read']}, "
                    f"idx {t['idx_scans']} / {t['idx_rows_fetched']}")
        add("")
    for name, summary in (step.get("profile") or {}).items():
        if "error" in summary:
            add(f"== {name}: no profile ({summary['error']})")
            continue
        samples = summary["samples"] or 1
        rate = summary.get("rate_hz", 100)  # runs before 30 Nov evening sampled at 100 Hz
        add(f"== {name}: py-spy {summary['samples']} samples holding the GIL at {rate} Hz "
            f"(~{summary['samples'] * 1000 / rate / max(step['accepted'], 1):.1f} ms "
            "per visit)")
        service_ms = step["cpu"]["ms_per_visit"].get(name.rsplit("-", 1)[0])
        if summary.get("by_entrypoint"):
            add("  by handler: share of busy samples (and the service's CPU ms per visit "
                "split in those shares)")
            for handler, n in summary["by_entrypoint"][:12]:
                ms = f"  ~{n / samples * service_ms:.1f} ms" if service_ms else ""
                add(f"    {n / samples:6.1%}{ms}  {handler}")
        add(f"  top {TOP} project functions (every busy sample charged to the deepest "
            "project frame of its stack):")
        for frame, n in summary["by_project_function"][:TOP]:
            add(f"    {n / samples:6.1%}  {frame}")
        add(f"  top {TOP} self:")
        for frame, n in summary["top_self"][:TOP]:
            add(f"    {n / samples:6.1%}  {frame}")
        add(f"  top {TOP} total (skipping the event loop and nameko's worker frames):")
        shown = 0
        for frame, n in summary["top_total"]:
            if any(skip in frame for skip in ("GreenThread.main", "_run_worker", "BaseHub",
                                              "Hub.", "greenthread", "ConsumerMixin")):
                continue
            add(f"    {n / samples:6.1%}  {frame}")
            shown += 1
            if shown == TOP:
                break
        add("")
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=os.path.join(RESULTS_DIR,
                                                                "pipeline-profile.json"))
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    with open(args.path) as f:
        text = report(json.load(f))
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
