"""The whole suite, in a few parallel pytest sessions, then the fault runs alone.

`./c2pctl test` (no arguments) runs this. Most of the suite waits on the broker,
the databases and service processes rather than on the CPU, so independent
sessions side by side finish in a fraction of the time. Each session has its
own databases and vhosts (see tests/conftest.py), so they cannot interfere.
The fault runs restart the broker and the database server, so they run last,
alone. (pytest-xdist is no option: its workers hang once eventlet has patched
the process.)

The servers are shared with whatever ran on this machine before (CI runs on the
machine a session left). So the run first removes the sandboxes of runs that
died, and prints what the servers and the machine looked like at the start and,
if anything failed, at the end: a broker resource alarm (low disk or memory
blocks every publisher), a full disk or a loaded machine explains at once a
handful of unrelated timeouts.
"""
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def test_files(tier):
    return sorted(f"tests/{tier}/{f}" for f in os.listdir(os.path.join(HERE, tier))
                  if f.startswith("test_") and f.endswith(".py"))


def groups():
    """Three sessions of about the same length (from the CI logs' durations: unit
    ~2 min, integration ~9, each half of e2e 6-8): a third of the integration
    files go with the shorter half of e2e."""
    e2e, integration = test_files("e2e"), test_files("integration")
    kept = [f for i, f in enumerate(integration) if i % 3 != 2]
    return [["tests/unit", *kept], e2e[0::2], [*integration[2::3], *e2e[1::2]]]


def run_session(paths, log_path, extra):
    log = open(log_path, "w")
    # --durations: the slowest tests in each log, to balance `groups()` by.
    return subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                             "--durations=15", *extra, *paths], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)


def run_web_session(log_path):
    """The web app's checks (web/package.json `test:ci`): the API types generated from
    the current OpenAPI document, the type-check of the app against them, and the
    Vitest unit tests. Its browser tests are pytest e2e tests (tests/e2e/test_web_app.py)."""
    log = open(log_path, "w")
    return subprocess.Popen(["npm", "run", "--silent", "test:ci"], cwd=os.path.join(ROOT, "web"),
                            stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "C2P_PYTHON": sys.executable, "CI": "1"})


def counts(log_path):
    with open(log_path, errors="replace") as f:
        lines = f.read().splitlines()
    summary = next((line for line in reversed(lines) if re.search(r"\d+ (passed|failed)", line)),
                   "")
    found = {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|error|errors|skipped)",
                                                     summary)}
    return found, lines


def run_text(command) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        return (done.stdout + done.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"({exc.__class__.__name__}: {exc})"


def machine_state() -> str:
    """One paragraph: load, memory, disk, and the local broker's alarms and size."""
    lines = [f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"]
    with open("/proc/meminfo") as f:
        info = dict(line.split(":", 1) for line in f)
    lines.append(f"memory available {int(info['MemAvailable'].split()[0]) // 1024} MiB")
    for path in ("/var/lib/rabbitmq", "/var/lib/postgresql", ROOT):
        if os.path.isdir(path):
            usage = shutil.disk_usage(path)
            lines.append(f"disk free at {path}: {usage.free // 2**20} MiB")
    if shutil.which("rabbitmqctl"):
        lines.append("broker: " + run_text(["rabbitmq-diagnostics", "-q", "alarms"]))
        vhosts = run_text(["rabbitmqctl", "-q", "list_vhosts", "--no-table-headers"]).split()
        lines.append(f"broker vhosts: {len(vhosts)}")
    return "\n".join(lines)


def remove_orphans():
    """Remove the vhosts and databases of earlier runs that died (c2p.sandbox)."""
    sys.path.insert(0, ROOT)
    from c2p.sandbox import remove_orphans as remove
    try:
        vhosts, databases = remove(
            os.environ.get("C2P_TEST_AMQP_URI", "amqp://guest:guest@localhost:5672/"),
            os.environ.get("C2P_TEST_DATABASE_URL", "postgresql://postgres@localhost:5432/postgres"),
            os.environ.get("C2P_TEST_RABBIT_API"))
        return f"removed what dead runs left: {vhosts} vhosts, {databases} databases"
    except Exception as exc:  # the sessions will say more if the servers are unusable
        return f"could not look for what dead runs left ({exc.__class__.__name__}: {exc})"


def main(extra):
    log_dir = os.path.join(ROOT, ".c2p", "test-logs")
    os.makedirs(log_dir, exist_ok=True)
    print(remove_orphans())
    print(machine_state(), flush=True)
    started = time.monotonic()
    sessions = []
    for index, paths in enumerate(groups()):
        log_path = os.path.join(log_dir, f"session-{index}.log")
        sessions.append((paths, log_path, run_session(paths, log_path, extra)))
    web_log = os.path.join(log_dir, "web.log")
    sessions.append((["web (types, type-check, vitest)"], web_log, run_web_session(web_log)))
    codes = [process.wait() for _, _, process in sessions]
    fault_log = os.path.join(log_dir, "faults.log")
    sessions.append((["tests/faults"], fault_log, None))
    codes.append(run_session(["tests/faults"], fault_log, extra).wait())

    total = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
    for (paths, log_path, _), code in zip(sessions, codes):
        found, lines = counts(log_path)
        total["passed"] += found.get("passed", 0)
        total["failed"] += found.get("failed", 0)
        total["skipped"] += found.get("skipped", 0)
        total["errors"] += found.get("error", 0) + found.get("errors", 0)
        print(f"== {' '.join(paths)}  (exit {code}, log {os.path.relpath(log_path, ROOT)})")
        # Failures in full, otherwise just the closing lines.
        tail = lines if code not in (0, 5) else lines[-2:]
        print("\n".join(tail[-400:]))
    elapsed = time.monotonic() - started
    print(f"\nwhole suite in {elapsed / 60:.1f} min")
    failed = total["failed"] + total["errors"] + sum(1 for c in codes if c not in (0, 5))
    if failed:
        print("\nthe machine and the servers now:\n" + machine_state())
    print(f"{total['passed']} passed, {total['failed'] + total['errors']} failed, "
          f"{total['skipped']} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
