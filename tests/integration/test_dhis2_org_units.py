"""Org units straight from a DHIS2 server (the local stand-in): the checklist service
as a nameko container runs the import as a job whose progress an admin reads; the
command does the same with a progress bar.

Checks what C2P asks DHIS2 (pinned API version, paging, fields, the root's subtree,
the authorisation header: token or basic) and how it reacts: created / updated /
unchanged / rejected per unit, idempotent, and nothing written when DHIS2 fails.
"""
import dataclasses
import io

import pytest
from nameko import config
from sqlalchemy import text

from c2p.errors import Forbidden, InvalidInput, NotFound
from checklist import importer
from checklist.service import ChecklistService
from dhis2_standin import Dhis2StandIn
from support import eventually, rpc_client

ADMIN = {"id": "u-admin", "role": "admin", "scope": ["/ML"]}
KAYES_ADMIN = {"id": "u-admin-kayes", "role": "admin", "scope": ["/ML/ML-KAY"]}
COACH = {"id": "u-coach-niono", "role": "coach", "scope": ["/ML/ML-SEG/ML-SEG-NIO"]}
ROOT = "OuMali00001"          # Mali in DHIS2: C2P's seeded ML carries this id
PAGE = 50


@pytest.fixture
def standin():
    dhis2 = Dhis2StandIn().start()
    dhis2.add_unit(ROOT, "Mali")
    for r in range(2):
        region = f"OuRegion{r:03d}"
        dhis2.add_unit(region, f"Région {r}", parent=ROOT)
        for d in range(2):
            district = f"OuDist{r}{d:04d}"
            dhis2.add_unit(district, f"District de Ségou {r}.{d}", parent=region)
            for f in range(30):
                dhis2.add_unit(f"OuFac{r}{d}{f:04d}", f"CSCom N'Golobougou {r}.{d}.{f}",
                               parent=district, code=f"FAC-{r}{d}{f}",
                               point=(-6.0 + f / 100, 14.0 + d / 10))
    # Level 5 (below a facility): C2P knows four levels, so this one is rejected.
    dhis2.add_unit("OuTooDeep01", "Poste de santé", parent="OuFac000000")
    yield dhis2
    dhis2.stop()


@pytest.fixture
def cleanup(engines):
    """Link the seeded Mali to DHIS2's (as an admin would first); afterwards remove
    what the imports added, and the link (org units are reference data)."""
    with engines["checklist"].begin() as conn:
        conn.execute(text("update org_units set dhis2_id = :d where id = 'ML'"), {"d": ROOT})
    yield
    with engines["checklist"].begin() as conn:
        for level in ("facility", "district", "region"):
            conn.execute(text("delete from org_units where path like '/ML/OuRegion%' "
                              "and level = :l"), {"l": level})
        conn.execute(text("update org_units set dhis2_id = null where id = 'ML'"))


@pytest.fixture
def checklist(start_service, service_config, standin, cleanup):
    def start(**overrides):
        values = dict(dhis2_url=standin.url, dhis2_token=standin.token,
                      dhis2_page_size=PAGE, dhis2_timeout_s=5)
        config["C2P_SETTINGS"] = dataclasses.replace(config["C2P_SETTINGS"],
                                                     **{**values, **overrides})
        start_service(ChecklistService)
    return start


def finished(client, job_id, caller=ADMIN):
    return eventually(lambda: (j := client.get_import_job(caller, job_id))["status"]
                      in ("done", "failed") and j, timeout=30)


def units(engines):
    with engines["checklist"].connect() as conn:
        return {row.id: row for row in conn.execute(text(
            "select id, name, level, path, dhis2_id, code, latitude, longitude "
            "from org_units where path like '/ML/OuRegion%'"))}


def test_a_national_import_as_a_job_then_again_changes_nothing(checklist, standin, engines):
    checklist()
    with rpc_client("checklist") as client:
        job = client.start_dhis2_import(ADMIN, {"root": ROOT})
        assert job["status"] == "queued"
        job = finished(client, job["id"])
        assert job["status"] == "done", job["error"]
        assert job["summary"] == {"created": 126, "updated": 0, "unchanged": 1, "rejected": 1}
        assert job["progress"] == {"pages_done": 3, "pages_total": 3, "units_fetched": 128,
                                   "units_total": 128}
        [rejected] = [line for line in job["lines"] if line["status"] == "rejected"]
        assert rejected["id"] == "OuTooDeep01" and rejected["errors"][0]["field"] == "level"

        # What C2P asked: the pinned version, the root, then its subtree page by page.
        gets = [r for r in standin.requests if r.method == "GET"]
        assert gets[0].path == f"/api/40/organisationUnits/{ROOT}"
        assert gets[0].headers["Authorization"] == f"ApiToken {standin.token}"
        pages = gets[1:]
        assert [r.args["page"] for r in pages] == ["1", "2", "3"]
        assert pages[0].path == "/api/40/organisationUnits"
        assert pages[0].args == {"fields": "id,code,name,path,parent[id],level,geometry",
                                 "filter": f"path:like:{ROOT}", "order": "level:asc",
                                 "paging": "true", "page": "1", "pageSize": str(PAGE)}

        stored = units(engines)
        facility = stored["OuFac010007"]
        assert (facility.name, facility.level, facility.code) == (
            "CSCom N'Golobougou 0.1.7", "facility", "FAC-017")
        assert facility.path == "/ML/OuRegion000/OuDist00001/OuFac010007"   # under C2P's Mali
        assert (facility.latitude, facility.longitude) == (14.1, -5.93)

        # Idempotent: the same tree again changes nothing; one rename is one update.
        again = finished(client, client.start_dhis2_import(ADMIN, {"root": ROOT})["id"])
        assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 127,
                                    "rejected": 1}
        standin.org_units["OuFac010007"]["name"] = "CSCom N'Golobougou (nouveau)"
        renamed = finished(client, client.start_dhis2_import(
            ADMIN, {"root": ROOT, "dry_run": True})["id"])
        assert renamed["summary"]["updated"] == 1 and renamed["dry_run"] is True
        assert units(engines)["OuFac010007"].name == "CSCom N'Golobougou 0.1.7"

        # Who may start and read imports.
        with pytest.raises(Forbidden):
            client.start_dhis2_import(COACH, {"root": ROOT})
        with pytest.raises(NotFound):
            client.get_import_job(KAYES_ADMIN, job["id"])
        # An admin of Kayes may pull, but touches nothing outside Kayes.
        kayes = finished(client, client.start_dhis2_import(KAYES_ADMIN, {"root": ROOT})[
            "id"], caller=KAYES_ADMIN)
        assert kayes["summary"]["rejected"] == 128 and kayes["summary"]["created"] == 0
        with pytest.raises(InvalidInput) as bad:
            client.start_dhis2_import(ADMIN, {"root": "../x", "dry_run": "no", "extra": 1})
        assert set(bad.value.errors) == {"root", "dry_run", "extra"}


def test_dhis2_failures_leave_the_org_units_as_they_were(checklist, standin, engines):
    checklist(dhis2_token="", dhis2_username="admin", dhis2_password="district")
    with rpc_client("checklist") as client:
        missing = finished(client, client.start_dhis2_import(ADMIN, {"root": "OuNowhere01"})[
            "id"])
        assert missing["status"] == "failed" and "404" in missing["error"]
        assert standin.requests[0].headers["Authorization"].startswith("Basic ")

        standin.down = True
        down = finished(client, client.start_dhis2_import(ADMIN, {"root": ROOT})["id"])
        assert down["status"] == "failed" and "503" in down["error"]
        standin.down = False
        standin.status_override = 401
        refused = finished(client, client.start_dhis2_import(ADMIN, {"root": ROOT})["id"])
        assert "refused the credentials" in refused["error"]
        assert units(engines) == {}


def test_the_command_shows_progress_and_reports_each_unit(standin, engines, settings,
                                                         cleanup, capsys):
    settings = dataclasses.replace(settings, dhis2_url=standin.url,
                                   dhis2_token=standin.token, dhis2_page_size=PAGE)
    out = io.StringIO()
    assert importer.pull(ROOT, False, engines["checklist"], out, settings) == 1  # 1 rejected
    lines = out.getvalue().splitlines()
    assert lines[-1] == "126 created, 0 updated, 1 unchanged, 1 rejected"
    assert any("rejected OuTooDeep01" in line for line in lines)
    assert "3/3" in capsys.readouterr().err          # the tqdm bar: pages done / total
    out = io.StringIO()
    assert importer.pull(ROOT, False, engines["checklist"], out, settings) == 1
    assert out.getvalue().splitlines()[-1] == "0 created, 0 updated, 127 unchanged, 1 rejected"
