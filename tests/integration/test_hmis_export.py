"""Supervision figures into DHIS2: the HMIS service (and the checklist service for the
facilities' DHIS2 ids) as nameko containers on the real bus and databases, against
the local DHIS2 stand-in (`tests/dhis2_standin.py`).

Checks exactly what C2P sends (path with the pinned API version, parameters,
authorisation header, the data values) and how it reacts: only changed values go
again; conflicts are kept with their reasons and tried later; DHIS2 down means
nothing is marked sent and the next try, after the back-off, sends it all.
"""
import dataclasses
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from nameko import config
from sqlalchemy import text

from c2p.contracts import Event
from checklist.service import ChecklistService
from dhis2_standin import Dhis2StandIn
from hmis import domain as hmis_domain
from hmis import export as export_command
from hmis.service import HmisService
from support import eventually, publish_raw, rpc_client

ADMIN = {"id": "u-admin", "role": "admin", "scope": ["/ML"]}
KAYES_ADMIN = {"id": "u-admin-kayes", "role": "admin", "scope": ["/ML/ML-KAY"]}
COACH = {"id": "u-coach-niono", "role": "coach", "scope": ["/ML/ML-SEG/ML-SEG-NIO"]}
CEN = ("ML-SEG-NIO-CEN", "CSCom central de Niono", "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN",
       "OuNioCen001")
LAF = ("ML-KAY-KAY-LAF", "CSCom de Lafiabougou", "/ML/ML-KAY/ML-KAY-KAY/ML-KAY-KAY-LAF",
       "OuKayLaf001")
MAPPING = {"org_unit_scheme": "UID", "entries": [
    {"figure": "score", "data_element": "DeScore0001", "id_scheme": "UID"},
    {"figure": "section:cc", "data_element": "DeSectCc001", "id_scheme": "UID"},
    {"figure": "visits", "data_element": "C2P_VISITS", "id_scheme": "CODE"},
    {"figure": "actions_done", "data_element": "DeDone00001", "id_scheme": "UID"},
    {"figure": "actions_open", "data_element": "DeOpen00001", "id_scheme": "UID"},
    {"figure": "actions_overdue", "data_element": "DeOver00001", "id_scheme": "UID"},
]}


@pytest.fixture
def standin():
    dhis2 = Dhis2StandIn().start()
    dhis2.add_unit("OuMali00001", "Mali")
    for uid, code in (("DeScore0001", "C2P_SCORE"), ("DeSectCc001", "C2P_SECTION_CC"),
                      ("DeVisits001", "C2P_VISITS"), ("DeDone00001", "C2P_ACTIONS_DONE"),
                      ("DeOpen00001", "C2P_ACTIONS_OPEN"),
                      ("DeOver00001", "C2P_ACTIONS_OVERDUE")):
        dhis2.add_data_element(uid, code)
    dhis2.add_unit(CEN[3], CEN[1], parent="OuMali00001")
    yield dhis2
    dhis2.stop()


@pytest.fixture
def dhis2_ids(engines):
    """Give two seeded facilities a DHIS2 id (reference data: put back afterwards)."""
    with engines["checklist"].begin() as conn:
        for facility in (CEN, LAF):
            conn.execute(text("update org_units set dhis2_id = :d where id = :i"),
                         {"d": facility[3], "i": facility[0]})
    yield
    with engines["checklist"].begin() as conn:
        conn.execute(text("update org_units set dhis2_id = null where id in (:a, :b)"),
                     {"a": CEN[0], "b": LAF[0]})


@pytest.fixture
def services(start_service, service_config, standin, dhis2_ids):
    def start(**overrides):
        values = dict(dhis2_url=standin.url, dhis2_token=standin.token,
                      dhis2_api_version=40, dhis2_timeout_s=5, hmis_export_interval_s=1,
                      hmis_backoff_s=(1,))
        config["C2P_SETTINGS"] = dataclasses.replace(config["C2P_SETTINGS"],
                                                     **{**values, **overrides})
        start_service(ChecklistService)
        start_service(HmisService)
    return start


def send(settings, event):
    publish_raw(settings.amqp_uri, event.to_wire(), event.type, str(event.id))


def visit(facility, percent, sections, at):
    return Event(type="checklist.submitted", source="test", data={
        "submission_id": uuid.uuid4(), "facility_id": facility[0],
        "facility_name": facility[1], "facility_path": facility[2],
        "coach_id": COACH["id"], "coachees": [], "template_code": "pev-mini",
        "template_version": 1, "visited_at": at, "received_at": at,
        "score": {"percent": percent, "points": 1, "max_points": 2, "colour": "amber",
                  "flagged": False, "sections": [
                      {"code": code, "title_fr": code, "title_en": code, "points": 1,
                       "max_points": 2, "percent": value} for code, value in sections]},
        "gaps": []})


def plan(facility, actions, at, visited_at=None):
    return Event(type="plan.created", source="test", occurred_at=at, data={
        "visited_at": visited_at,
        "plan_id": uuid.uuid4(), "submission_id": uuid.uuid4(), "facility_id": facility[0],
        "facility_name": facility[1], "facility_path": facility[2],
        "coach_id": COACH["id"], "coachee_ids": [], "actions": [
            {"action_id": action_id, "item_code": "x", "text_fr": "x", "text_en": "x",
             "owner_id": None, "owner_role": "dtc", "due_date": due, "critical": False,
             "status": "todo"} for action_id, due in actions]})


def done(facility, action_id, due, at):
    return Event(type="actions.status_changed", source="test", data={"changes": [{
        "plan_id": uuid.uuid4(), "facility_id": facility[0], "facility_name": facility[1],
        "facility_path": facility[2], "coach_id": COACH["id"], "coachee_ids": [],
        "action_id": action_id, "item_code": "x", "text_fr": "x", "text_en": "x",
        "owner_id": None, "due_date": due, "status": "done", "from_status": "awaiting_review",
        "changed_by": COACH["id"], "changed_at": at, "comment": "", "late": False}]})


def values_of(recorded):
    return sorted((v["dataElement"], v["orgUnit"], v["period"], v["value"])
                  for v in recorded.body["dataValues"])


def test_scores_go_to_dhis2_once_then_only_what_changed(services, settings, standin,
                                                        engines):
    services()
    now = datetime.now(timezone.utc)
    period = now.strftime("%Y%m")
    with rpc_client("hmis") as hmis:
        first, second = uuid.uuid4(), uuid.uuid4()
        send(settings, visit(CEN, 75.0, [("cc", 50.0)], now))
        send(settings, plan(CEN, [(first, now.date() + timedelta(days=20)),
                                  (second, now.date() + timedelta(days=30))], now))
        # Both events kept before anything is mapped: the first export takes them together.
        eventually(lambda: _count(engines, "select count(*) from hmis_actions") == 2
                   and _count(engines, "select count(*) from hmis_visits") == 1)
        saved = {e["figure"]: e for e in hmis.set_mapping(ADMIN, MAPPING)["entries"]}
        assert saved["visits"]["id_scheme"] == "CODE" and saved["score"]["id_scheme"] == "UID"

        def posted(count):
            found = standin.posted()
            return found if len(found) >= count and _settled(hmis) else None
        requests = eventually(lambda: posted(2) if _has_actions(standin) else None,
                              timeout=30)
        by_scheme = {r.args["dataElementIdScheme"]: r for r in requests}
        uid, code = by_scheme["UID"], by_scheme["CODE"]
        assert uid.path == code.path == "/api/40/dataValueSets"
        assert uid.headers["Authorization"] == f"ApiToken {standin.token}"
        assert uid.args == {"dryRun": "false", "importStrategy": "CREATE_AND_UPDATE",
                            "dataElementIdScheme": "UID", "orgUnitIdScheme": "UID",
                            "categoryOptionComboIdScheme": "UID", "idScheme": "UID",
                            "async": "false"}
        assert values_of(uid) == sorted([("DeScore0001", CEN[3], period, "75"),
                                         ("DeSectCc001", CEN[3], period, "50"),
                                         ("DeOpen00001", CEN[3], period, "2")])
        assert values_of(code) == [("C2P_VISITS", CEN[3], period, "1")]
        assert standin.values[("DeScore0001", period, CEN[3], "HllvX50cXC0")] == "75"

        # One action done: only the counts that moved go, nothing else again.
        seen = len(standin.posted())
        send(settings, done(CEN, first, now.date() + timedelta(days=20),
                            now + timedelta(seconds=1)))
        later = eventually(lambda: standin.posted()[seen:] or None, timeout=30)
        assert [values_of(r) for r in later] == [sorted([
            ("DeDone00001", CEN[3], period, "1"), ("DeOpen00001", CEN[3], period, "1")])]

        # The log (newest first): the change, then the first export.
        runs = eventually(lambda: (r := hmis.list_exports(ADMIN)["items"]) and len(r) == 2
                          and r[0]["values_sent"] == 2 and r)
        assert [r["status"] for r in runs] == ["success", "success"]
        assert runs[0]["import_count"] == {"imported": 1, "updated": 1, "ignored": 0,
                                           "deleted": 0}
        assert runs[1]["import_count"]["imported"] == 4 and runs[1]["trigger"] == "timer"
        assert hmis.get_export(ADMIN, runs[0]["id"])["payloads"][0]["payload"][
            "dataValues"][0]["orgUnit"] == CEN[3]
        # Runs of all Mali are not shown to an admin of Kayes.
        assert hmis.list_exports(KAYES_ADMIN)["total"] == 0


def _has_actions(standin):
    return any(v["dataElement"] == "DeOpen00001" for r in standin.posted()
               for v in r.body["dataValues"])


def _settled(hmis):
    return all(r["status"] not in ("queued", "running")
               for r in hmis.list_exports(ADMIN)["items"])


def test_conflicts_are_kept_with_their_reasons_and_an_outage_loses_nothing(
        services, settings, standin, engines):
    services()
    now = datetime.now(timezone.utc)
    period = now.strftime("%Y%m")
    mapping = {**MAPPING, "entries": [
        *MAPPING["entries"][:2],
        {"figure": "visits", "data_element": "DeUnknown01", "id_scheme": "UID"}]}
    with rpc_client("hmis") as hmis:
        send(settings, visit(CEN, 80.0, [], now))
        send(settings, visit(LAF, 60.0, [], now))   # LAF is not in DHIS2 at all
        eventually(lambda: _count(engines, "select count(*) from hmis_visits") == 2)
        hmis.set_mapping(ADMIN, mapping)
        run = eventually(lambda: next((r for r in hmis.list_exports(ADMIN)["items"]
                                       if r["status"] == "warning"), None), timeout=30)
        full = hmis.get_export(ADMIN, run["id"])
        reasons = {(c["object"], c["reason"]) for c in full["conflicts"]}
        assert ("DeUnknown01", "Data element not found or not accessible") in reasons
        assert (LAF[3], "Organisation unit not found or not accessible") in reasons
        assert full["import_count"]["imported"] == 1             # CEN's score only
        with engines["hmis"].connect() as conn:
            rows = dict(((f, fig), (status, reason)) for f, fig, status, reason in
                        conn.execute(text("select facility_id, figure, status, reason "
                                          "from hmis_sent_values")))
        assert rows[(CEN[0], "score")] == ("sent", None)
        assert rows[(CEN[0], "visits")][0] == "rejected"
        assert "DeUnknown01" in rows[(CEN[0], "visits")][1]
        assert rows[(LAF[0], "score")][0] == "rejected"

        # DHIS2 goes down: the new visit is not lost, it goes once DHIS2 is back.
        standin.down = True
        seen = len(standin.posted())
        send(settings, visit(CEN, 90.0, [], now + timedelta(seconds=1)))
        eventually(lambda: next((r for r in hmis.list_exports(ADMIN)["items"]
                                 if r["status"] == "unavailable"), None), timeout=30)
        with engines["hmis"].connect() as conn:
            failures, next_try = conn.execute(text(
                "select failures, next_attempt_at from hmis_export_state")).one()
            assert failures >= 1 and next_try is not None
            assert conn.execute(text("select value from hmis_sent_values where facility_id"
                                     " = :f and figure = 'score'"), {"f": CEN[0]}).scalar() \
                == "80"
        standin.down = False
        eventually(lambda: standin.values.get(("DeScore0001", period, CEN[3],
                                               "HllvX50cXC0")) == "85", timeout=30)
        assert len(standin.posted()) > seen


def test_dry_run_shows_the_payload_and_dhis2s_answer_and_stores_nothing(
        services, settings, standin, engines):
    services(hmis_export_interval_s=3600)   # only what the admin asks for
    now = datetime.now(timezone.utc)
    period = now.strftime("%Y%m")
    with rpc_client("hmis") as hmis:
        hmis.set_mapping(ADMIN, MAPPING)
        send(settings, visit(CEN, 70.0, [("cc", 40.0)], now))
        eventually(lambda: _count(engines, "select count(*) from hmis_visits") == 1)
        queued = hmis.request_export(ADMIN, {"period": period, "dry_run": True})
        assert queued["status"] == "queued"
        run = eventually(lambda: (r := hmis.get_export(ADMIN, queued["id"]))["status"]
                         not in ("queued", "running") and r)
        assert run["status"] == "success" and run["dry_run"] is True
        assert run["import_count"]["imported"] == 2 + 1        # UID pair, CODE visits
        sent = [v for p in run["payloads"] for v in p["payload"]["dataValues"]]
        assert {(v["dataElement"], v["value"]) for v in sent} == {
            ("DeScore0001", "70"), ("DeSectCc001", "40"), ("C2P_VISITS", "1")}
        assert {r.args["dryRun"] for r in standin.posted()} == {"true"}
        assert standin.values == {}
        assert _count(engines, "select count(*) from hmis_sent_values") == 0
        # Outside the caller's scope: nothing to send, and bad input names the field.
        kayes = hmis.request_export(KAYES_ADMIN, {"period": period, "dry_run": True})
        run = eventually(lambda: (r := hmis.get_export(KAYES_ADMIN, kayes["id"]))["status"]
                         not in ("queued", "running") and r)
        assert run["status"] == "nothing_to_send" and run["payloads"] == []
        from c2p.errors import Forbidden, InvalidInput, NotFound
        with pytest.raises(InvalidInput) as bad:
            hmis.request_export(ADMIN, {"period": "2025-07", "dry_run": "yes"})
        assert set(bad.value.errors) == {"period", "dry_run"}
        with pytest.raises(Forbidden):
            hmis.request_export(COACH, {"period": period})
        with pytest.raises(NotFound):
            hmis.get_export(KAYES_ADMIN, queued["id"])

        # The command exports the same period for real, and says what DHIS2 said.
        out = _Out()
        assert export_command.main(["period", period], engine=engines["hmis"],
                                   refs=lambda ids: {CEN[0]: {"dhis2_id": CEN[3]}},
                                   out=out, settings=config["C2P_SETTINGS"]) == 0
        assert '"status": "success"' in out.text and '"imported": 3' in out.text
        assert standin.values[("DeSectCc001", period, CEN[3], "HllvX50cXC0")] == "40"


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, chunk):
        self.text += chunk

    def flush(self):
        pass


def test_a_plan_synced_late_counts_its_actions_open_from_the_visits_month(
        services, settings, engines):
    # A phone offline for weeks: the visit (and the plan drawn up with the team that
    # day) reach the platform two months later. Its actions were open at the end
    # of every month since the visit: each of those months is to be sent again.
    services()
    now = datetime.now(timezone.utc)
    visited = now - timedelta(days=45)
    action_id = uuid.uuid4()
    send(settings, plan(CEN, [(action_id, now.date() + timedelta(days=20))], now, visited))
    expected = hmis_domain.periods_from(visited, now)
    assert len(expected) >= 2

    def marked():  # since this test began (the export timer may have sent them since)
        with engines["hmis"].connect() as conn:
            return sorted(row[0] for row in conn.execute(text(
                "select period from hmis_facility_months where facility_id = :f"
                " and changed_at >= :since"), {"f": CEN[0], "since": now}))
    eventually(lambda: marked() == expected)
    with engines["hmis"].connect() as conn:
        created = conn.execute(text("select created_at from hmis_actions where action_id = "
                                    ":id"), {"id": action_id}).scalar_one()
    assert created == visited


def _count(engines, sql):
    with engines["hmis"].connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_section_titles_are_written_once_read_again_only_when_unknown(engines):
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from hmis import store
    statements = []
    engine = engines["hmis"]
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *args: statements.append(sql.split()[0].upper()))

    def save(titles, known, commit=True):
        statements.clear()
        with Session(engine) as session:
            store.save_sections(session, titles, known)
            session.commit() if commit else session.rollback()
        return [s for s in statements if s in ("SELECT", "INSERT")]

    def titles():
        with engine.connect() as conn:
            return dict(conn.execute(text("select code, title_en from hmis_sections")).all())

    known = {}
    assert save({"cc": ("Chaîne", "Cold chain")}, known) == ["SELECT", "INSERT"]
    assert save({"cc": ("Chaîne", "Cold chain")}, known) == ["SELECT"]  # committed: learnt
    assert save({"cc": ("Chaîne", "Cold chain")}, known) == []  # known: nothing at all
    # A section written in a transaction that rolls back is not taken as known.
    assert save({"dq": ("Données", "Data")}, known, commit=False) == ["SELECT", "INSERT"]
    assert save({"dq": ("Données", "Data")}, known) == ["SELECT", "INSERT"]
    assert save({"cc": ("Chaîne", "Cold chain (CC)")}, known) == ["SELECT", "INSERT"]
    assert titles() == {"cc": "Cold chain (CC)", "dq": "Data"}
