"""Supervision figures reach DHIS2 end to end: every service as its own process,
an admin over HTTP only (metadata, mapping, exports), DHIS2 as the local stand-in.

The admin takes C2P's metadata payload (what DHIS2 would then hold), maps every
figure to it, gives a facility its DHIS2 id by the ordinary CSV import; a coach's
visit then reaches DHIS2 as data values of that month, and the export log says so.
"""
import pytest

from c2p.processes import LocalPlatform
from dhis2_standin import Dhis2StandIn
from support import eventually, sample_submission
from test_access_matrix import API, Client

FACILITY_CSV = "id,parent_id,level,name,dhis2_id\nML-SEG-NIO-CEN,ML-SEG-NIO,facility,CSCom central de Niono,{}\n"


@pytest.fixture
def standin():
    dhis2 = Dhis2StandIn().start()
    dhis2.add_unit("OuMali00001", "Mali")
    dhis2.add_unit("OuNioCen001", "CSCom central de Niono", parent="OuMali00001")
    yield dhis2
    dhis2.stop()


@pytest.fixture
def platform_with_dhis2(process_env, tmp_path, standin):
    env = {**process_env, "C2P_DHIS2_URL": standin.url, "C2P_DHIS2_TOKEN": standin.token,
           "C2P_HMIS_EXPORT_INTERVAL_S": "1", "C2P_HMIS_BACKOFF_S": "1",
           # The stand-in runs in this test process: a request of an export it is slow
           # to answer holds the one export lock for the whole DHIS2 timeout (30 s by
           # default), and an export asked meanwhile waits as long (seen in CI). Give up
           # sooner: the export fails, backs off for 1 s, and is tried again.
           "C2P_DHIS2_TIMEOUT_S": "5"}
    running = LocalPlatform(env, str(tmp_path / "logs")).start()
    yield running.base_url
    running.stop()


@pytest.mark.slow
def test_a_visit_reaches_dhis2_as_monthly_data_values(platform_with_dhis2, standin):
    admin = Client(platform_with_dhis2, "admin")
    coach = Client(platform_with_dhis2, "coach.niono")
    metadata = admin.call("GET", f"{API}/hmis/metadata", params={"template": "pev-mini"})
    assert metadata.status_code == 200, metadata.text
    for element in metadata.json()["metadata"]["dataElements"]:
        standin.add_data_element(element["id"], element["code"])   # "imported into DHIS2"
    mapping = metadata.json()["mapping"]
    mapping.pop("data_set")
    saved = admin.call("PUT", f"{API}/hmis/mapping", json=mapping)
    assert saved.status_code == 200, saved.text
    assert coach.call("GET", f"{API}/hmis/mapping").status_code == 403
    bad = admin.call("PUT", f"{API}/hmis/mapping", json={"entries": [{"figure": "x"}]})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"entries.0.figure",
                                                          "entries.0.data_element"}
    imported = admin.call("POST", f"{API}/org-units/import", params={"format": "csv"},
                          data=FACILITY_CSV.format("OuNioCen001").encode(),
                          headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    try:
        visit = sample_submission(failing=("cc_in_range",))
        assert coach.call("POST", f"{API}/submissions", json=visit).status_code == 201
        element = {e["figure"]: e["data_element"] for e in mapping["entries"]}
        period = visit["visited_at"][:7].replace("-", "")

        def key(figure):
            return element[figure], period, "OuNioCen001", "HllvX50cXC0"
        eventually(lambda: key("score") in standin.values, timeout=60)
        # Once the planner wrote the plan: its one action, open and overdue (due three
        # days after a visit on the 20th).
        for figure in ("visits", "actions_open", "actions_overdue"):
            eventually(lambda: standin.values.get(key(figure)) == "1", timeout=60)
        # The log: score, its sections, visits, open and overdue, each imported once.
        runs = eventually(lambda: (r := admin.call("GET", f"{API}/hmis/exports").json()[
            "items"]) and sum(x["import_count"]["imported"] for x in r) == len(
            standin.values) and r)
        assert {r["status"] for r in runs} == {"success"} and len(standin.values) >= 5
        assert {r["trigger"] for r in runs} == {"timer"}

        asked = admin.call("POST", f"{API}/hmis/exports",
                           json={"period": period, "dry_run": True, "all": True})
        assert asked.status_code == 202
        run = eventually(lambda: (r := admin.call("GET", asked.headers["Location"]).json())[
            "status"] not in ("queued", "running") and r, timeout=60)
        assert run["status"] == "success" and run["dry_run"]
        # DHIS2 already holds every non-zero value (ignored); `all` adds the zero counts.
        count = run["import_count"]
        assert count["updated"] == 0 and count["imported"] + count["ignored"] == run[
            "values_sent"]
        zeros = [v for p in run["payloads"] for v in p["payload"]["dataValues"]
                 if v["value"] == "0"]
        assert len(zeros) == count["imported"] > 0
        assert admin.call("POST", f"{API}/hmis/exports",
                          json={"period": "2026-11"}).status_code == 422
    finally:
        admin.call("POST", f"{API}/org-units/import", params={"format": "csv"},
                   data=FACILITY_CSV.format("").encode(),
                   headers={"Content-Type": "text/csv"})
