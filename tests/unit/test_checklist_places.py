"""Reading org-unit files (CSV, DHIS2 export) and planning an import, without a database."""
import json

import pytest

from checklist import places
from checklist.seed import ORG_UNITS_CSV

MALI = [
    {"id": "ML", "name": "Mali", "level": "country", "parent_id": None, "path": "/ML"},
    {"id": "ML-SEG", "name": "Ségou", "level": "region", "parent_id": "ML",
     "path": "/ML/ML-SEG"},
    {"id": "ML-SEG-NIO", "name": "Niono", "level": "district", "parent_id": "ML-SEG",
     "path": "/ML/ML-SEG/ML-SEG-NIO", "dhis2_id": "NioDist0001"},
    {"id": "ML-SEG-NIO-CEN", "name": "CSCom central de Niono", "level": "facility",
     "parent_id": "ML-SEG-NIO", "path": "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"},
]
for unit in MALI:
    for name in places.FIELDS:
        unit.setdefault(name, None)


def by_status(plan):
    return {entry["id"]: entry["status"] for entry in plan.report}


def test_seed_file_is_a_clean_tree_with_exact_french_names():
    lines = places.read_csv(ORG_UNITS_CSV.read_text(encoding="utf-8"))
    plan = places.plan_import([], lines)
    summary = plan.summary()
    assert summary["rejected"] == 0 and summary["created"] == len(lines)
    units = plan.writes
    assert units["ML-SEG-NIO-CEN"]["path"] == "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"
    assert units["ML-SEG-NIO-MOL"]["path"] == "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-MOL"
    assert units["ML-KAY-KAY-LAF"]["path"] == "/ML/ML-KAY/ML-KAY-KAY/ML-KAY-KAY-LAF"
    assert units["ML-BKO-C1-BAN"]["path"] == "/ML/ML-BKO/ML-BKO-C1/ML-BKO-C1-BAN"
    assert units["ML-SIK-KLD"]["name"] == "Kolondiéba"
    assert units["ML-SEG"]["name"] == "Ségou"
    districts = {u["name"] for u in units.values() if u["level"] == "district"}
    assert {"Kayes", "Kolondiéba", "Bougouni", "Ségou", "Niono", "Commune I"} <= districts
    for district in ("ML-KAY-KAY", "ML-SIK-KLD", "ML-SIK-BGN", "ML-SEG-SEG", "ML-SEG-NIO"):
        assert sum(u["parent_id"] == district for u in units.values()) >= 8, district
    regions = [u for u in units.values() if u["level"] == "region"]
    assert len(regions) == 11


def test_csv_lines_are_checked_one_by_one_naming_the_field():
    text = ("id,parent_id,level,name,latitude,longitude\n"
            "ML-SEG-NIO-SIR,ML-SEG-NIO,facility,CSCom de Siribala,14.05,-5.9\n"
            "ML-SEG-NIO-X,ML-SEG-NIO,hamlet,CSCom X,,\n"
            "ML-SEG-NIO-Y,ML-NOWHERE,facility,CSCom Y,,\n"
            "ML-SEG-NIO-Z,ML-SEG-NIO,facility,,,\n"
            "ML-SEG-NIO-W,ML-SEG-NIO,facility,CSCom W,95,0\n"
            "ML-SEG-BAD,ML-SEG-NIO,district,District sous district,,\n"
            "bad/id,ML-SEG-NIO,facility,CSCom slash,,\n"
            "ML-SEG-NIO-SIR,ML-SEG-NIO,facility,Doublon,,\n")
    plan = places.plan_import(MALI, places.read_csv(text))
    report = {entry["line"]: entry for entry in plan.report}
    assert report[2]["status"] == "created"
    assert plan.writes["ML-SEG-NIO-SIR"]["latitude"] == 14.05

    def fields(line):
        assert report[line]["status"] == "rejected"
        return [error["field"] for error in report[line]["errors"]]
    assert fields(3) == ["level"]
    assert fields(4) == ["parent_id"] and "ML-NOWHERE" in report[4]["errors"][0]["reason"]
    assert fields(5) == ["name"]
    assert fields(6) == ["latitude"]
    assert fields(7) == ["level"]  # a district cannot sit under a district
    assert fields(8) == ["id"]
    assert fields(9) == ["id"] and "line 2" in report[9]["errors"][0]["reason"]
    assert set(plan.writes) == {"ML-SEG-NIO-SIR"}


def test_children_may_come_before_their_parent_and_follow_its_rejection():
    text = ("id,parent_id,level,name\n"
            "ML-SIK-KLD-FAK,ML-SIK-KLD,facility,CSCom de Fakola\n"
            "ML-SIK-KLD,ML-SIK,district,Kolondiéba\n"
            "ML-SIK,ML,region,Sikasso\n"
            "ML-GAO-X-1,ML-GAO-X,facility,CSCom orphelin\n"
            "ML-GAO-X,ML-GAO,district,\n")
    plan = places.plan_import(MALI, places.read_csv(text))
    assert by_status(plan) == {"ML-SIK-KLD-FAK": "created", "ML-SIK-KLD": "created",
                               "ML-SIK": "created", "ML-GAO-X-1": "rejected",
                               "ML-GAO-X": "rejected"}
    assert plan.writes["ML-SIK-KLD-FAK"]["path"] == "/ML/ML-SIK/ML-SIK-KLD/ML-SIK-KLD-FAK"
    orphan = next(e for e in plan.report if e["id"] == "ML-GAO-X-1")
    assert "rejected (line 6)" in orphan["errors"][0]["reason"]


def test_a_header_without_the_required_columns_is_unreadable():
    with pytest.raises(places.UnreadableFile, match="parent_id"):
        places.read_csv("id,level,name\nA,country,A\n")
    with pytest.raises(places.UnreadableFile, match="colour"):
        places.read_csv("id,parent_id,level,name,colour\n")


def dhis2_export():
    return {"system": {"version": "2.40"}, "organisationUnits": [
        {"id": "FacMolodo01", "name": "CSCom de Molodo", "level": 4, "code": "ML0402",
         "path": "/MaliRoot01/SegouReg01/NioDist0001/FacMolodo01",
         "parent": {"id": "NioDist0001"},
         "geometry": {"type": "Point", "coordinates": [-5.99, 14.25]}},
        {"id": "FacPogo0001", "name": "CSCom de Pogo", "level": 4,
         "parent": {"id": "NioDist0001"}},
        {"id": "FacDiaby001", "name": "CSCom de Diabaly", "level": 5,
         "parent": {"id": "NioDist0001"}},
        {"id": "FacGhost001", "name": "CSCom fantôme", "level": 4,
         "parent": {"id": "Unknown0001"}},
    ]}


def test_dhis2_export_hangs_facilities_under_units_known_by_their_dhis2_id():
    plan = places.plan_import(MALI, places.read_dhis2(json.dumps(dhis2_export())))
    assert by_status(plan) == {"FacMolodo01": "created", "FacPogo0001": "created",
                               "FacDiaby001": "rejected", "FacGhost001": "rejected"}
    molodo = plan.writes["FacMolodo01"]
    assert molodo["path"] == "/ML/ML-SEG/ML-SEG-NIO/FacMolodo01"
    assert (molodo["latitude"], molodo["longitude"], molodo["code"]) == (14.25, -5.99, "ML0402")
    assert molodo["dhis2_id"] == "FacMolodo01"
    rejected = {e["id"]: e["errors"][0]["field"] for e in plan.report
                if e["status"] == "rejected"}
    assert rejected == {"FacDiaby001": "level", "FacGhost001": "parent.id"}


def test_the_same_dhis2_export_twice_changes_nothing_the_second_time():
    first = places.plan_import(MALI, places.read_dhis2(dhis2_export()))
    after = [dict(u) for u in MALI] + [dict(v) for v in first.writes.values()]
    second = places.plan_import(after, places.read_dhis2(dhis2_export()))
    assert second.writes == {} and second.moves == []
    assert by_status(second)["FacMolodo01"] == "unchanged"
    assert second.summary()["created"] == 0 and second.summary()["updated"] == 0


def test_renaming_and_moving_update_the_unit_and_everything_under_it():
    text = ("id,parent_id,level,name\n"
            "ML-SEG-NIO-CEN,ML-SEG-NIO,facility,CSCom Central de Niono\n"
            "ML-KAY,ML,region,Kayes\n"
            "ML-SEG-NIO,ML-KAY,district,Niono\n")
    plan = places.plan_import(MALI, places.read_csv(text))
    report = {e["id"]: e for e in plan.report}
    assert report["ML-SEG-NIO-CEN"]["changed"] == ["name"]
    assert report["ML-SEG-NIO"]["changed"] == ["parent_id", "path"]
    assert plan.moves == [("/ML/ML-SEG/ML-SEG-NIO", "/ML/ML-KAY/ML-SEG-NIO")]
    assert plan.writes["ML-SEG-NIO-CEN"]["path"] == "/ML/ML-KAY/ML-SEG-NIO/ML-SEG-NIO-CEN"
    assert plan.writes["ML-SEG-NIO-CEN"]["name"] == "CSCom Central de Niono"


def test_unreadable_dhis2_files():
    with pytest.raises(places.UnreadableFile):
        places.read_dhis2("{not json")
    with pytest.raises(places.UnreadableFile, match="organisationUnits"):
        places.read_dhis2({"dataElements": []})
