"""`python -m c2p.run <service>` with its SQL statements counted (bench only).

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

if __name__ == "__main__":
    from c2p import run
    sys.exit(run.main(sys.argv[1:]))
