"""Every benchmark in one command: prints a table, writes bench/results/all.json.

    python bench/run.py            # full run (about 10 minutes on 2 cores)
    python bench/run.py --quick    # shorter steps, for a smoke check

Runs, in one process tree on this machine: the bus's own floor (raw kombu with
confirms), the supervision-cycle pipeline with one and two replicas of each
service, evidence streaming through the gateway against a direct minio-SDK
upload, and dashboard queries on a national-scale dataset. Speed is reported
as ratios against the baselines measured in the same run.
"""
import os  # noqa: I001
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import machine, write_json  # noqa: E402

import bus_floor  # noqa: E402
import dashboards  # noqa: E402
import evidence_streaming  # noqa: E402
import pipeline  # noqa: E402


def table(rows, headers):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def main(argv=None):
    quick = "--quick" in (argv or sys.argv[1:])
    floor = bus_floor.main(["--messages", "2000" if quick else "5000"])
    pipe = pipeline.main(["--rates", "20,50,100" if quick else "25,50,100,150,200,250",
                          "--seconds", "4" if quick else "8", "--replicas", "1,2"])
    stream = evidence_streaming.main(["--megabytes", "50" if quick else "300"])
    dash = dashboards.main(["--facilities", "200" if quick else "2000"])

    best = pipe["best_within_limit"]
    one, two = best.get(1), best.get(2)
    rows = [
        ["bus floor: publish with confirms", f"{floor['publish_confirmed_per_s']}/s", ""],
        ["bus floor: consume with acks", f"{floor['consume_acked_per_s']}/s", ""],
    ]
    for replicas, step in ((1, one), (2, two)):
        if step:
            rows.append([f"pipeline, {replicas} replica(s): best rate with p95 <= "
                         f"{pipe['p95_limit_ms']} ms",
                         f"{step['achieved_per_s']}/s (p50 {step['p50_ms']}, p95 "
                         f"{step['p95_ms']}, p99 {step['p99_ms']} ms)",
                         f"{step['achieved_per_s'] / floor['publish_confirmed_per_s']:.3f} "
                         "of the bus floor"])
        else:
            rows.append([f"pipeline, {replicas} replica(s)", "no rate within the p95 limit", ""])
    if one and two:
        rows.append(["pipeline scaling, 2 replicas / 1", "",
                     f"{two['achieved_per_s'] / one['achieved_per_s']:.2f}x"])
    rows.append(["evidence streaming / direct upload", f"{stream.get('summary', '')}",
                 f"{stream.get('throughput_ratio', '')}"])
    for level in dash.get("levels", []):
        rows.append([f"dashboard p95 at {level['fraction']:.0%} of national data",
                     f"{level['p95_ms']} ms", f"{level['visits']} visits"])
    print()
    table(rows, ["measure", "result", "ratio"])
    write_json("all.json", {"machine": machine(), "bus_floor": floor, "pipeline": pipe,
                            "evidence_streaming": stream, "dashboards": dash})


if __name__ == "__main__":
    main()
