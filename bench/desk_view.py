"""The desk view at national scale, in a throttled browser.

2,000 facilities with a year of monthly visits each (24,000 visits, loaded
straight into the checklist database by `dashboards.Loader`), each facility
spread over all of Mali's districts (those the demo lacks are added) and placed
near its district's seat (seeded random offsets: synthetic positions, not real
CSCom locations). Then Debian's Chromium,
driven by playwright-core with the CPU slowed 4x through the DevTools
protocol, signs in as the national manager and measures (web/bench/desk.mjs):

- from the gaps answer's arrival to the map drawn with every facility, and to
  the table drawn;
- panning and zooming with every facility drawn: the frame times while the map
  pans and zooms, and how long each zoom takes to settle.

    python bench/desk_view.py [--facilities 2000] [--runs 5] [--keep]

`--keep` leaves the platform running (Ctrl-C stops it) to look at the view by
hand. Needs the built app (web/dist, `npm run build` in web/).
"""
from harness import deployed_env, local_sandbox, machine, write_json  # noqa: I001

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import unicodedata  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

from c2p.database import driver_url  # noqa: E402
from c2p.processes import LocalPlatform  # noqa: E402
from dashboards import Loader  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEB = os.path.join(ROOT, "web")
TOPOLOGY = os.path.join(WEB, "src", "desk", "map", "mali.topo.json")


def boundary_districts():
    """The districts shipped with the map: name, region id and seat (lon, lat)."""
    with open(TOPOLOGY, encoding="utf-8") as f:
        topo = json.load(f)
    return [g["properties"] for g in topo["objects"]["districts"]["geometries"]]


def fold(name):
    return unicodedata.normalize("NFD", name).encode("ascii", "ignore").decode().lower()


def add_districts(database_url):
    """The country's other districts (the demo seeds a few), so that the national
    dataset spreads over all of them."""
    engine = create_engine(driver_url(database_url))
    with engine.begin() as conn:
        known = {(fold(name), parent) for name, parent in conn.execute(text(
            "select name, parent_id from org_units where level = 'district'"))}
        regions = dict(conn.execute(text("select id, path from org_units where level = 'region'")).all())
        rows = [{"id": f"BENCH-D-{n:02d}", "name": d["name"], "parent": d["region_id"],
                 "path": f"{regions[d['region_id']]}/BENCH-D-{n:02d}"}
                for n, d in enumerate(boundary_districts())
                if d["region_id"] in regions and (fold(d["name"]), d["region_id"]) not in known]
        if rows:
            conn.execute(text("insert into org_units (id, name, level, parent_id, path) "
                              "values (:id, :name, 'district', :parent, :path)"), rows)
    engine.dispose()
    return len(rows)


def place_facilities(database_url, seed=11):
    """Give every facility without coordinates a point near its district's seat
    (Bamako's communes: near Bamako), a few kilometres off at random."""
    rng = random.Random(seed)
    seats = {fold(d["name"]): d["seat"] for d in boundary_districts()}
    engine = create_engine(driver_url(database_url))
    with engine.begin() as conn:
        found = conn.execute(text(
            "select f.id, d.name, r.name from org_units f join org_units d on d.id = f.parent_id "
            "join org_units r on r.id = d.parent_id where f.level = 'facility' and "
            "f.latitude is null order by f.id")).all()
        rows = []
        for unit_id, district, region in found:
            lon, lat = seats.get(fold(district)) or (
                seats["bamako"] if "bamako" in fold(region) else rng.choice(list(seats.values())))
            spread = 0.03 if "bamako" in fold(region) else 0.3
            rows.append({"id": unit_id, "lat": lat + rng.gauss(0, spread),
                         "lon": lon + rng.gauss(0, spread)})
        if rows:
            conn.execute(text("update org_units set latitude = :lat, longitude = :lon "
                              "where id = :id"), rows)
    engine.dispose()
    return len(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facilities", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not os.path.exists(os.path.join(WEB, "dist", "index.html")):
        raise SystemExit("web/dist is missing: run `npm ci && npm run build` in web/ first")
    box, s3 = local_sandbox("desk")
    platform = None
    try:
        platform = LocalPlatform(deployed_env(box),
                                 tempfile.mkdtemp(prefix="c2p-bench-desk-")).start()
        started = time.monotonic()
        add_districts(box.database_urls["checklist"])
        visits = Loader(box.database_urls["checklist"]).load_until(args.facilities)
        placed = place_facilities(box.database_urls["checklist"])
        print(f"  loaded {args.facilities} facilities, {visits} visits, {placed} placed "
              f"in {time.monotonic() - started:.0f} s", flush=True)
        if args.keep:
            print(f"  {platform.base_url}  (manager.national / demo-c2p-2025); Ctrl-C stops",
                  flush=True)
            def stop(*_):
                raise KeyboardInterrupt
            signal.signal(signal.SIGTERM, stop)  # `kill PID` cleans up like Ctrl-C
            while True:
                time.sleep(1)
        out = subprocess.run(
            ["node", os.path.join(WEB, "bench", "desk.mjs"), "--base", platform.base_url,
             "--runs", str(args.runs)],
            cwd=WEB, capture_output=True, text=True, timeout=900)
        if out.returncode != 0:
            raise SystemExit(f"desk.mjs failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
        measured = json.loads(out.stdout.strip().splitlines()[-1])
        result = {"machine": machine(), "facilities": args.facilities, "visits": visits,
                  **measured}
        write_json("desk_view.json", result)
        print(json.dumps(measured, indent=2), flush=True)
        return result
    except KeyboardInterrupt:
        return None
    finally:
        if platform:
            platform.stop()
        box.close()
        s3.terminate()


if __name__ == "__main__":
    main()
