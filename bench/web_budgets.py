"""The web app's budgets (issue 13), measured against a whole platform.

    .venv/bin/python bench/web_budgets.py [--runs 3]

Starts the platform (every service its own process, fresh databases), builds the
web app if needed, and runs web/bench/budgets.mjs in Debian's Chromium: the
gzip-compressed JS and CSS of the first load (budget 200 KB), and under
Chromium's Slow 3G profile with 4x CPU slowdown the time to a usable sign-in
screen, to open a 49-item visit and to save an answer; axe-core's serious and
critical findings on those screens. Writes bench/results/web.json.
"""
import argparse  # noqa: I001
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import deployed_env, local_sandbox, machine, write_json  # noqa: E402

from c2p.processes import LocalPlatform  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEB = os.path.join(ROOT, "web")
BUDGET_KB = 200


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if not os.path.exists(os.path.join(WEB, "dist", "index.html")):
        subprocess.run(["npm", "run", "build"], cwd=WEB, check=True, capture_output=True)
    workdir = tempfile.mkdtemp(prefix="c2p-web-bench-")
    box, s3_process = local_sandbox("webbench")
    platform = None
    try:
        platform = LocalPlatform(deployed_env(box), os.path.join(workdir, "logs")).start()
        out = subprocess.run(["node", "bench/budgets.mjs", platform.base_url, "--runs",
                              str(args.runs)], cwd=WEB, capture_output=True, text=True,
                             timeout=1800)
        if out.returncode != 0:
            raise RuntimeError(out.stdout + out.stderr)
        measured = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        if platform is not None:
            platform.stop()
        box.close()
        s3_process.terminate()
        s3_process.wait(10)
    result = {"machine": machine(), "load_average_1m_at_end": round(os.getloadavg()[0], 2),
              "budget_first_load_kb": BUDGET_KB, **measured,
              "within_budget": measured["first_load_through_home"]["gzip_kb"] <= BUDGET_KB}
    write_json("web.json", result)
    rows = [
        ("first load, sign-in screen (JS+CSS, gzip)",
         f"{measured['first_load_sign_in']['gzip_kb']} KB", f"budget {BUDGET_KB} KB"),
        ("first load through the home screen (gzip)",
         f"{measured['first_load_through_home']['gzip_kb']} KB",
         f"raw {measured['first_load_through_home']['raw_kb']} KB"),
        ("usable sign-in, cold (Slow 3G, 4x CPU)",
         f"{measured['usable_sign_in_cold_ms']['median']} ms", "median"),
        ("app start from the service worker (Slow 3G, 4x CPU)",
         f"{measured['warm_start_ms']['median']} ms", "median"),
        ("open a 49-item visit (4x CPU)", f"{measured['open_visit_ms']['median']} ms", "median"),
        ("save an answer: shown / stored in IndexedDB (4x CPU)",
         f"{measured['save_answer_ms']['shown_median']} / "
         f"{measured['save_answer_ms']['stored_median']} ms", "median"),
        ("axe-core serious or critical", json.dumps(measured["axe_serious_or_critical"]), ""),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>14}  {note}")
    return result


if __name__ == "__main__":
    main()
