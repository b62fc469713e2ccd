"""Importing org units into the real checklist database, through the command
`python -m checklist.importer` (its `main`) and the store the RPC uses.

Org units are reference data kept across tests, so each test imports under a
region of its own and removes it afterwards.
"""
import io
import json
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from c2p.errors import InvalidInput
from checklist import importer, store


@pytest.fixture
def region(engines):
    """A fresh test region under Mali with one district; removed with all under it."""
    tag = uuid.uuid4().hex[:6].upper()
    region_id, district_id = f"ML-T{tag}", f"ML-T{tag}-D"
    with Session(engines["checklist"]) as session, session.begin():
        report = store.import_org_units(session, "csv", (
            "id,parent_id,level,name,dhis2_id\n"
            f"{region_id},ML,region,Région d'essai {tag},\n"
            f"{district_id},{region_id},district,District d'essai,Dist{tag}\n"))
        assert report["created"] == 2, report
    yield region_id, district_id, tag
    with engines["checklist"].begin() as conn:
        like = {"prefix": f"/ML/{region_id}%"}
        conn.execute(text("delete from submission_gaps where facility_path like :prefix"), like)
        conn.execute(text("delete from submissions where facility_path like :prefix"), like)
        conn.execute(text("delete from org_units where path like :prefix and level = 'facility'"), like)
        conn.execute(text("delete from org_units where path like :prefix and level = 'district'"), like)
        conn.execute(text("delete from org_units where path like :prefix"), like)


def snapshot(engine, region_id):
    with engine.connect() as conn:
        return conn.execute(text(
            "select id, name, level, parent_id, path, dhis2_id, code, latitude, longitude, "
            "updated_at from org_units where path like :p order by id"),
            {"p": f"/ML/{region_id}%"}).all()


def dhis2_export(tag):
    return {"organisationUnits": [
        {"id": f"Fac{tag}A", "name": "CSCom de Dogofry", "level": 4, "code": "DGF",
         "parent": {"id": f"Dist{tag}"},
         "geometry": {"type": "Point", "coordinates": [-5.63, 14.64]}},
        {"id": f"Fac{tag}B", "name": "CSCom de Ténenkou", "level": 4,
         "parent": {"id": f"Dist{tag}"}},
        {"id": f"Fac{tag}C", "name": "Poste de santé", "level": 5,
         "parent": {"id": f"Fac{tag}A"}},
    ]}


def run(engine, tmp_path, kind, content, *extra):
    path = tmp_path / f"import.{kind}"
    path.write_text(content if isinstance(content, str) else json.dumps(content,
                                                                        ensure_ascii=False),
                    encoding="utf-8")
    out = io.StringIO()
    status = importer.main([kind, str(path), *extra], engine=engine, out=out)
    return status, out.getvalue()


def test_importing_the_same_dhis2_file_twice_changes_nothing_the_second_time(
        engines, region, tmp_path):
    region_id, district_id, tag = region
    engine = engines["checklist"]
    status, out = run(engine, tmp_path, "dhis2", dhis2_export(tag))
    assert status == 1  # one line rejected
    assert f"line 1: created Fac{tag}A" in out and f"line 2: created Fac{tag}B" in out
    assert f"line 3: rejected Fac{tag}C\n    level:" in out
    assert out.strip().endswith("2 created, 0 updated, 0 unchanged, 1 rejected")
    first = snapshot(engine, region_id)
    facility = next(row for row in first if row.id == f"Fac{tag}A")
    assert facility.path == f"/ML/{region_id}/{district_id}/Fac{tag}A"
    assert (facility.latitude, facility.longitude, facility.code) == (14.64, -5.63, "DGF")
    assert next(row for row in first if row.id == f"Fac{tag}B").name == "CSCom de Ténenkou"

    status, out = run(engine, tmp_path, "dhis2", dhis2_export(tag))
    assert out.strip().endswith("0 created, 0 updated, 2 unchanged, 1 rejected")
    assert snapshot(engine, region_id) == first  # not even updated_at moved


def test_csv_import_updates_moves_and_dry_runs(engines, region, tmp_path):
    region_id, district_id, tag = region
    engine = engines["checklist"]
    other = f"{region_id}-E"
    csv_text = ("id,parent_id,level,name\n"
                f"{other},{region_id},district,Autre district\n"
                f"{district_id}-F1,{district_id},facility,CSCom de Kéniéba\n")
    status, out = run(engine, tmp_path, "csv", csv_text, "--dry-run")
    assert status == 0 and out.strip().endswith("dry run: 2 created, 0 updated, "
                                                 "0 unchanged, 0 rejected")
    assert len(snapshot(engine, region_id)) == 2
    assert run(engine, tmp_path, "csv", csv_text)[0] == 0

    # A visit recorded at the facility follows it when it moves to another district.
    with engine.begin() as conn:
        template_id = conn.execute(text("select min(id) from template_versions")).scalar()
        conn.execute(text(
            "insert into submissions (id, facility_id, facility_path, coach_id, template_id, "
            "visited_at, coachees, answers, score, gaps) values (:id, :f, :p, 'c', :t, now(), "
            "'[]', '{}', '{}', '[]')"), {"id": uuid.uuid4(), "f": f"{district_id}-F1",
                                         "p": f"/ML/{region_id}/{district_id}/{district_id}-F1",
                                         "t": template_id})
    status, out = run(engine, tmp_path, "csv",
                      "id,parent_id,level,name\n"
                      f"{district_id}-F1,{other},facility,CSCom de Kéniéba Central\n")
    assert f"line 2: updated {district_id}-F1 (name, parent_id, path)" in out
    new_path = f"/ML/{region_id}/{other}/{district_id}-F1"
    with engine.connect() as conn:
        assert conn.execute(text("select facility_path from submissions where facility_id = :f"),
                            {"f": f"{district_id}-F1"}).scalar() == new_path


def test_a_file_that_cannot_be_read_is_refused_as_a_whole(engines, region, tmp_path):
    engine = engines["checklist"]
    status, _ = run(engine, tmp_path, "csv", "name,level\nX,facility\n")
    assert status == 2
    with Session(engine) as session:
        with pytest.raises(InvalidInput) as refused:
            store.import_org_units(session, "dhis2", "{oops")
        assert "file" in refused.value.errors
        with pytest.raises(InvalidInput) as refused:
            store.import_org_units(session, "xml", "<a/>")
        assert "format" in refused.value.errors
