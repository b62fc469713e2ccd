"""The DHIS2 export at national scale: one month of a whole country's facilities.

    python bench/hmis_export.py [--facilities 1500]

A fresh hmis database (migrated like production), N facilities each with two
visits (nine section scores) and five actions in the month, the mapping of every
figure, and the local DHIS2 stand-in (tests/dhis2_standin.py) as the server. Times:

- a first export of the month (every value: figures, POSTs of 1000 values, and
  each value remembered as sent);
- the same export again (nothing changed: nothing sent);
- the timer's export after one facility's visit changed (only its values go).

The stand-in answers in-process, so the times are C2P's side plus local HTTP, not
a real DHIS2's import time (which dominates in production: DHIS2 documents imports
of tens of thousands of values per request).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from c2p import migrate  # noqa: E402
from c2p.database import driver_url  # noqa: E402
from c2p.dhis2 import Dhis2Client  # noqa: E402
from c2p.sandbox import drop_databases  # noqa: E402
from dhis2_standin import Dhis2StandIn  # noqa: E402
from hmis import domain, exporter, schemas, store  # noqa: E402
from hmis.models import FacilityMonth, TrackedAction, Visit  # noqa: E402

SECTIONS = ["cold_chain", "stock", "microplan", "session", "waste", "aefi", "data", "demand",
            "vpd"]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facilities", type=int, default=1500)
    parser.add_argument("--server", default=os.environ.get(
        "C2P_TEST_DATABASE_URL", "postgresql://postgres@localhost:5432/postgres"))
    args = parser.parse_args(argv)
    name = f"c2p_bench{uuid.uuid4().hex[:8]}_hmis"
    url = args.server.rsplit("/", 1)[0] + "/" + name
    migrate.upgrade("hmis", url)
    engine = create_engine(driver_url(url))
    dhis2 = Dhis2StandIn().start()
    now = datetime.now(timezone.utc)
    period = domain.period_of(now)
    try:
        mapping = {"org_unit_scheme": "UID", "data_set": None, "entries": []}
        for figure in list(domain.FIXED_FIGURES) + [f"section:{s}" for s in SECTIONS]:
            uid = domain.make_uid(figure)
            dhis2.add_data_element(uid, figure)
            mapping["entries"].append({"figure": figure, "data_element": uid,
                                       "category_option_combo": None, "id_scheme": "UID"})
        refs = {}
        with Session(engine) as session, session.begin():
            store.save_mapping(session, mapping, "bench")
            for i in range(args.facilities):
                facility, path = f"F{i:05d}", f"/ML/R{i % 10}/D{i % 75}/F{i:05d}"
                ou = domain.make_uid(facility)
                dhis2.org_units[ou] = {"id": ou, "path": "/" + ou, "level": 4, "name": facility}
                refs[facility] = {"dhis2_id": ou, "code": facility}
                for v in range(2):
                    session.add(Visit(
                        submission_id=uuid.uuid4(), facility_id=facility, facility_path=path,
                        facility_name=facility, period=period, visited_at=now,
                        percent=50.0 + (i + v) % 50, flagged=False, template_code="pev",
                        sections={s: float((i * 7 + v + k) % 100)
                                  for k, s in enumerate(SECTIONS)}))
                for a in range(5):
                    session.add(TrackedAction(
                        action_id=uuid.uuid4(), facility_id=facility, facility_path=path,
                        created_at=now - timedelta(days=1), due_date=date.today() +
                        timedelta(days=a - 2), status="done" if a == 0 else "todo",
                        closed_at=now if a == 0 else None, as_of=now))
                session.add(FacilityMonth(facility_id=facility, period=period,
                                          facility_path=path, dirty=True))
        client = Dhis2Client(dhis2.url, 40, token=dhis2.token, timeout_s=120)

        def export(**kwargs):
            started = time.perf_counter()
            with Session(engine) as session, session.begin():
                run = exporter.export(session, client, lambda ids: refs, **kwargs)
                view = schemas.run_view(run) if run else None
            return time.perf_counter() - started, view

        first_s, first = export(trigger="command", period=period)
        again_s, again = export(trigger="command", period=period)
        with Session(engine) as session, session.begin():
            session.execute(text("update hmis_visits set percent = 99 where facility_id = "
                                 "'F00007'"))
            store.mark_dirty(session, "F00007", "/ML/R7/D7/F00007", period)
        timer_s, timer = export(trigger="timer")
        bodies = [r.body for r in dhis2.posted()[:len(first["payloads"])]]
        result = {
            "facilities": args.facilities, "values_first": first["values_sent"],
            "requests_first": len(first["payloads"]),
            "payload_bytes_first": sum(len(json.dumps(b)) for b in bodies),
            "first_export_s": round(first_s, 2), "first_status": first["status"],
            "imported": first["import_count"]["imported"],
            "unchanged_export_s": round(again_s, 2), "values_again": again["values_sent"],
            "timer_one_change_s": round(timer_s, 2),
            "values_after_one_change": timer["values_sent"] if timer else 0,
        }
        print(json.dumps(result, indent=2))
        return result
    finally:
        dhis2.stop()
        engine.dispose()
        drop_databases({"hmis": url})


if __name__ == "__main__":
    main()
