"""`python -m c2p.run <service>` with its SQL statements counted, and its CPU
sampled if asked (bench only).

    python bench/instrumented_run.py <service>

Every statement sent through SQLAlchemy is counted by verb and table
("INSERT submission_gaps", "SELECT inbox_messages"; an executemany counts once:
one round trip), and every commit ("COMMIT"). On SIGUSR2 the counts so far are
written to $C2P_BENCH_SQL_DIR/<pid>.json. The cost of counting is a dict
increment per statement; the CPU figures of the bench are taken without it
unless `--sql` is given.
"""
from c2p.greening import green

green()

import collections  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

COUNTS: collections.Counter = collections.Counter()
TABLE = re.compile(r'\b(?:from|into|update)\s+"?([\w.]+)', re.IGNORECASE)
_keys: dict[str, str] = {}


def key(statement: str) -> str:
    found = _keys.get(statement)
    if found is None:
        words = statement.lstrip().split(None, 1)
        verb = words[0].upper() if words else "?"
        table = TABLE.search(statement)
        found = _keys[statement] = f"{verb} {table.group(1) if table else ''}".strip()
    return found


@event.listens_for(Engine, "before_cursor_execute")
def _count(conn, cursor, statement, parameters, context, executemany):
    COUNTS[key(statement)] += 1


@event.listens_for(Engine, "commit")
def _commit(conn):
    COUNTS["COMMIT"] += 1


def _dump(signum, frame):
    directory = os.environ.get("C2P_BENCH_SQL_DIR")
    if not directory:
        return
    path = os.path.join(directory, f"{os.getpid()}.json")
    with open(path + ".tmp", "w") as f:
        json.dump(dict(COUNTS), f)
    os.replace(path + ".tmp", path)


signal.signal(signal.SIGUSR2, _dump)

# CPU samples: with $C2P_BENCH_CPU_SAMPLES set, a SIGPROF every 2 ms of this
# process's CPU time (ITIMER_PROF: user + system, never wall time; in practice at
# most once per kernel tick) records the Python stack that was running, whatever
# greenlet it belongs to. py-spy samples
# wall time while the GIL is held, and on busy cores a process descheduled just
# after a system call keeps it: it charged 40 % of the services to psycopg2's
# `execute`, where perf finds 2 % of their CPU. The first SIGUSR2 of a step
# clears the samples, the second writes them (collapsed stacks, as py-spy's raw
# format) to $C2P_BENCH_CPU_SAMPLES/<service>-<pid>.txt.
SAMPLES: collections.Counter = collections.Counter()
_sample_dir = os.environ.get("C2P_BENCH_CPU_SAMPLES")


def _where(code):
    return f"{code.co_qualname} ({code.co_filename.rsplit('site-packages/', 1)[-1]}:{code.co_firstlineno})"


def _sample(signum, frame):
    stack = []
    while frame is not None:
        stack.append(_where(frame.f_code))
        frame = frame.f_back
    SAMPLES[";".join(reversed(stack))] += 1


if _sample_dir:
    _rounds, _cpu_at_clear = [0], [0.0]
    _count_sql = _dump

    def _dump(signum, frame):  # noqa: F811 (the SQL counts, then the samples)
        _count_sql(signum, frame)
        _rounds[0] += 1
        if _rounds[0] % 2:
            SAMPLES.clear()
            _cpu_at_clear[0] = time.process_time()
            return
        name = sys.argv[1] if len(sys.argv) > 1 else "service"
        with open(os.path.join(_sample_dir, f"{name}-{os.getpid()}.txt"), "w") as f:
            # The timer fires at most once per kernel tick (every 4 ms at 250 Hz),
            # so the samples are a share of the CPU time written here, not 2 ms each.
            f.write(f"# cpu_ms {1000 * (time.process_time() - _cpu_at_clear[0]):.1f}\n")
            f.writelines(f"{stack} {n}\n" for stack, n in SAMPLES.items())

    signal.signal(signal.SIGPROF, _sample)
    signal.setitimer(signal.ITIMER_PROF, 0.002, 0.002)
    signal.signal(signal.SIGUSR2, _dump)

if __name__ == "__main__":
    from c2p import run
    sys.exit(run.main(sys.argv[1:]))
