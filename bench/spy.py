"""Where the services' time goes in a load step: py-spy from outside, or each
service's own CPU samples; the top functions of each.

`Profiler(platform, seconds).start()` attaches `py-spy record --nonblocking`
(sampling from outside: the service is not paused, and py-spy's own CPU is not
in the service's figure) to each process; `finish()` waits for them and writes
bench/results/profile-<service>-<index>.txt (top functions by self and by total
samples); the raw collapsed stacks stay in $TMPDIR/c2p-bench-profile/ (for a
flame graph: `flamegraph.pl` or speedscope.app read them as they are).

Only samples where the thread holds the GIL are kept (`--gil`): an eventlet
process waits for the network in epoll with the GIL released, and py-spy's own
idle detection counts that wait as busy (it showed as a third of the samples in
`Hub.do_poll`). But a thread holding the GIL is not always on a CPU: on two busy
cores, a service that has just written to PostgreSQL is often descheduled with
the GIL in hand, and py-spy charges that wait to the caller. In the sixth
session's profile, psycopg2's `execute` held 30-45 % of the back-end services'
samples; `perf record` (by shared object) found 2 % of their CPU in psycopg2
and libpq together, 77 % in the interpreter and 13-15 % in the kernel. For CPU
shares use `cpu_samples`: each service samples its own stack on SIGPROF, a
timer of its CPU time (bench/instrumented_run.py; `pipeline.py --cpu-samples`),
and the summary adds the share of each activity (database, publishing,
consuming, codecs, logging, the handler's own work, the loop).
"""
from __future__ import annotations

import collections
import re
import os
import shutil
import subprocess
import sys
import tempfile

from harness import RESULTS_DIR

RAW_DIR = os.path.join(tempfile.gettempdir(), "c2p-bench-profile")

TOP = 25


def py_spy() -> str | None:
    here = os.path.join(os.path.dirname(sys.executable), "py-spy")
    return here if os.path.exists(here) else shutil.which("py-spy")


class Profiler:
    def __init__(self, platform, seconds, rate=250, prefix="profile"):
        self.platform, self.seconds, self.rate, self.prefix = platform, seconds, rate, prefix
        self.spies: dict[str, tuple[subprocess.Popen, str]] = {}
        self.binary = py_spy()
        if not self.binary:
            raise RuntimeError("py-spy is not installed: pip install -e '.[bench]'")

    def start(self):
        os.makedirs(RESULTS_DIR, exist_ok=True)
        os.makedirs(RAW_DIR, exist_ok=True)
        for (service, index), process in self.platform.processes.items():
            name = f"{service}-{index}"
            raw = os.path.join(RAW_DIR, f"{self.prefix}-{name}.txt")
            self.spies[name] = (subprocess.Popen(
                [self.binary, "record", "--pid", str(process.pid), "--nonblocking", "--gil",
                 "--function", "--format", "raw", "--rate", str(self.rate),
                 "--duration", str(int(self.seconds)), "--output", raw],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), raw)
        return self

    def finish(self, visits=None) -> dict:
        out = {}
        for name, (spy, raw) in self.spies.items():
            try:
                _, err = spy.communicate(timeout=self.seconds + 60)
            except subprocess.TimeoutExpired:
                spy.kill()
                _, err = spy.communicate()
            if not os.path.exists(raw):
                out[name] = {"error": err.decode(errors="replace")[-500:]}
                continue
            summary = summarise(raw)
            summary["rate_hz"] = self.rate
            summary["file"] = os.path.relpath(write_top(name, summary, self.prefix, visits,
                                                        self.rate))
            out[name] = {k: v for k, v in summary.items() if k != "stacks"}
        return out


def _frames(line):
    stack, _, count = line.rpartition(" ")
    return stack.split(";"), int(count)


def short(frame: str) -> str:
    """'handle (/x/site-packages/nameko/rpc.py:12)' -> 'handle (nameko/rpc.py:12)'."""
    name, _, where = frame.partition(" (")
    for marker in ("site-packages/", "/services/", "/gateway/", "/c2p/", "lib/python3"):
        if marker in where:
            cut = where.index(marker) + len(marker)
            where = ("c2p/" if marker == "/c2p/" else "gateway/" if marker == "/gateway/"
                     else "") + where[cut:]
            break
    return f"{name} ({where}" if where else name


def summarise(raw_path, activities=False) -> dict:
    """Top functions of a file of collapsed stacks; with `activities`, also the
    share of each activity (`activity`) and the CPU time the samples cover (the
    `# cpu_ms` line `bench/instrumented_run.py` writes)."""
    own, total, samples = collections.Counter(), collections.Counter(), 0
    in_project, handlers = collections.Counter(), collections.Counter()
    packages, by_activity, cpu_ms = collections.Counter(), collections.Counter(), None
    with open(raw_path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# cpu_ms "):
                cpu_ms = float(line.split()[-1])
            if not line or line.startswith("#"):
                continue
            frames, count = _frames(line)
            if activities:  # on the frames as written: `activity` matches their paths
                by_activity[activity(frames)] += count
            # py-spy puts the process/thread as the first frame: drop non-code ones.
            frames = [short(fr) for fr in frames if "(" in fr]
            if not frames:
                continue
            samples += count
            own[frames[-1]] += count
            for frame in set(frames):
                total[frame] += count
            packages[_package(frames[-1])] += count
            mine = [fr for fr in frames if _project(fr)]
            in_project[mine[-1] if mine else "(no project frame)"] += count
            handlers[_entrypoint(mine)] += count
    summary = {"samples": samples,
               "top_self": [(f, n) for f, n in own.most_common(TOP)],
               "top_total": [(f, n) for f, n in total.most_common(TOP * 2)],
               "self_by_package": packages.most_common(15),
               "by_project_function": in_project.most_common(TOP),
               "by_entrypoint": handlers.most_common()}
    if activities:
        summary.update(by_activity=by_activity.most_common(), cpu_ms=cpu_ms)
    return summary


HANDLER = re.compile(r"^\w*(Service|Routes)\.\w+ \(")
PLUMBING = re.compile(r"^\w*(Http|Hub|Subscription|ServiceBatches|Rpc|Database|UnitOfWork)\.\w+ \(")


def _entrypoint(project_frames):
    """The outermost service method or route in the stack: the handler the sample works
    for; else the outermost piece of our plumbing (HTTP, live hub, subscription,
    settling) and "(no handler)" for the rest (event loop, consumers, ops endpoint)."""
    for pattern in (HANDLER, PLUMBING):
        for frame in project_frames:
            if pattern.match(frame):
                return frame.split(" (")[0]
    return "(no handler)"


PROJECT = ("c2p/", "gateway/", "checklist/", "planner/", "notify/", "evidence/", "hmis/")


def _project(frame):
    where = frame.partition(" (")[2]
    return where.startswith(PROJECT) and not where.startswith("c2p/greening")


def _package(frame):
    where = frame.partition(" (")[2]
    if where.startswith(("c2p/", "gateway/")):
        return where.split("/")[0]
    head = where.split("/")[0].split(".py")[0]
    return head or "?"


def write_top(name, summary, prefix, visits, rate, source="py-spy", kind="busy") -> str:
    path = os.path.join(RESULTS_DIR, f"{prefix}-{name}.txt")
    samples = summary["samples"] or 1
    lines = [f"{source}, {name}: {summary['samples']} {kind} samples at {rate} Hz "
             f"(~{summary['samples'] * 1000 / rate:.0f} ms {kind}"
             + (f", {visits} visits, ~{summary['samples'] * 1000 / rate / visits:.1f} ms "
                f"{kind}/visit" if visits else "") + ")", ""]
    if "by_activity" in summary:
        lines += ["by activity (the first of `ACTIVITIES` any frame of the stack belongs to):"]
        lines += [f"  {n / samples:6.1%}  {a}" for a, n in summary["by_activity"]]
        lines += [""]
    lines += ["self time by package (leaf frame):"]
    lines += [f"  {n / samples:6.1%}  {p}" for p, n in summary["self_by_package"]]
    lines += ["", f"top {TOP} project functions, charged with every busy sample under them "
              "(the deepest project frame of each stack: which of our lines cost the time):"]
    lines += [f"  {n / samples:6.1%}  {f}" for f, n in summary["by_project_function"]]
    lines += ["", f"top {TOP} functions by self samples:"]
    lines += [f"  {n / samples:6.1%}  {f}" for f, n in summary["top_self"]]
    lines += ["", f"top {TOP * 2} functions by total samples (in the stack):"]
    lines += [f"  {n / samples:6.1%}  {f}" for f, n in summary["top_total"]]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


# What a sample's CPU time was spent on: the first activity (in this order) that
# any frame of its stack belongs to, by function name or by module path. A
# publish's frames are in kombu and amqp too, and a handler's database work runs
# inside its worker: the order settles which one a sample is charged to. "work"
# is the rest of a worker (the handler's own code, the domain rules); "loop" the
# event loop and the consumers' threads outside any worker.
ACTIVITIES = (
    ("publishing", ("Bus.publish_all", "publish_pending", "Publisher.publish",
                    "Producer.publish"), ()),
    ("database", ("UnitOfWork.claim", "eventlet_wait_callback"), ("sqlalchemy/", "psycopg2/")),
    ("codecs", ("Event.from_wire", "to_wire", "loader.", "dumper.", "Schema.load",
                "Schema.dump"), ("marshmallow/",)),
    ("logging", (), ("/logging/",)),
    ("consuming", ("Subscription.handle_message", "ServiceBatches.", "QueueConsumer"),
     ("kombu/", "amqp/", "nameko/messaging", "nameko/amqp")),
)


def activity(frames) -> str:
    parsed = [(frame.split(" (")[0], frame.partition(" (")[2]) for frame in frames]
    for label, names, paths in ACTIVITIES:
        for name, where in parsed:
            if any(key in name for key in names) or any(
                    where.startswith(path) or path in where for path in paths):
                return label
    return "work" if any("_run_worker" in frame for frame in frames) else "loop"


def cpu_samples(platform, directory, prefix, visits, interval_ms=2) -> dict:
    """Summaries of the CPU samples each instrumented service wrote for the step
    (bench/instrumented_run.py), in bench/results/<prefix>-<service>-<index>.txt."""
    out = {}
    for (service, index), process in platform.processes.items():
        name = f"{service}-{index}"
        raw = os.path.join(directory, f"{service}-{process.pid}.txt")
        if not os.path.exists(raw):
            out[name] = {"error": "no samples written"}
            continue
        summary = summarise(raw, activities=True)
        cpu_ms = summary["cpu_ms"]
        # The rate the samples came at: the CPU time they cover over their number.
        rate = summary["samples"] * 1000 / cpu_ms if cpu_ms else 1000 / interval_ms
        summary["file"] = os.path.relpath(write_top(
            name, summary, prefix, visits, round(rate), source="CPU samples (SIGPROF)",
            kind="CPU"))
        out[name] = {k: v for k, v in summary.items() if k != "stacks"}
    return out
