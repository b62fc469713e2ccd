"""CPU per event of loading and dumping event data: the compiled codecs
(`c2p.fastload`, `c2p.fastdump`) against marshmallow's own `Schema.load` /
`Schema.dump` + `Schema.validate`, in this one process, on events shaped as a
follow-up visit of the 49-item checklist makes them.

    python bench/event_codecs.py [--repeat 2000] [--output bench/results/event_codecs.json]

A visit's events are loaded by three consumers each and dumped (then checked)
once by their producer; the report gives microseconds of CPU per call and the
ratio to marshmallow, and what that comes to per visit.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from c2p.contracts import REGISTRY, latest_version  # noqa: E402
from c2p.contracts.events import dump_data, known_fields, load_data  # noqa: E402
from support import sample_data  # noqa: E402

# (event type, list lengths, per visit: dumps, loads) for a follow-up 49-item visit:
# 15 gaps and 34 passing items, a plan of 15 actions, ~10 per-action events.
EVENTS = [("checklist.submitted", 15, 1, 3), ("plan.created", 15, 1, 3),
          ("actions.status_changed", 5, 0.5, 1.5), ("action.status_changed", 1, 5, 0),
          ("action.verified", 1, 5, 0)]


def example(event_type: str, length: int) -> dict:
    data = sample_data(REGISTRY[(event_type, latest_version(event_type))]())
    for key, value in list(data.items()):
        if isinstance(value, list) and value:
            data[key] = [copy.deepcopy(value[0]) for _ in range(length)]
    if "passed_items" in data:
        data["passed_items"] = [f"item_{i}" for i in range(34)]
    return data


def cpu_us(fn, repeat: int) -> float:
    fn()
    start = time.process_time()
    for _ in range(repeat):
        fn()
    return 1e6 * (time.process_time() - start) / repeat


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    from c2p.contracts.events import _schema
    rows, quick_visit, slow_visit = [], 0.0, 0.0
    for event_type, length, dumps, loads in EVENTS:
        version = latest_version(event_type)
        schema = _schema(event_type, version)
        data = example(event_type, length)
        wire = json.loads(json.dumps(dump_data(event_type, version, data), default=str))

        def slow_dump():
            dumped = schema.dump(data)
            assert not schema.validate(dumped)

        row = {"event": event_type, "list_length": length,
               "dump_us": cpu_us(lambda: dump_data(event_type, version, data), args.repeat),
               "dump_marshmallow_us": cpu_us(slow_dump, args.repeat),
               "load_us": cpu_us(lambda: load_data(event_type, version, wire), args.repeat),
               "load_marshmallow_us": cpu_us(lambda: schema.load(known_fields(schema, wire)),
                                             args.repeat)}
        row["dump_ratio"] = round(row["dump_us"] / row["dump_marshmallow_us"], 3)
        row["load_ratio"] = round(row["load_us"] / row["load_marshmallow_us"], 3)
        quick_visit += dumps * row["dump_us"] + loads * row["load_us"]
        slow_visit += dumps * row["dump_marshmallow_us"] + loads * row["load_marshmallow_us"]
        rows.append({k: round(v, 1) if isinstance(v, float) and "ratio" not in k else v
                     for k, v in row.items()})
        print(f"{event_type:24s} x{length:<3d} dump {row['dump_us']:7.1f} us "
              f"(marshmallow {row['dump_marshmallow_us']:7.1f}, {row['dump_ratio']:.2f}x)  "
              f"load {row['load_us']:7.1f} us (marshmallow {row['load_marshmallow_us']:7.1f}, "
              f"{row['load_ratio']:.2f}x)")
    summary = {"per_visit_ms": round(quick_visit / 1000, 2),
               "per_visit_marshmallow_ms": round(slow_visit / 1000, 2),
               "saved_per_visit_ms": round((slow_visit - quick_visit) / 1000, 2)}
    print(f"per follow-up visit, summed over producers and consumers: {summary['per_visit_ms']} "
          f"ms of CPU (marshmallow alone: {summary['per_visit_marshmallow_ms']} ms)")
    result = {"run_at": datetime.now(timezone.utc).isoformat(), "repeat": args.repeat,
              "events": rows, "summary": summary}
    if args.output:
        with open(args.output, "w") as out:
            json.dump(result, out, indent=1)
    return result


if __name__ == "__main__":
    main()
