"""Plain rules of a working day: visit planning, CSV cells, the PDF's text."""
import csv
import io
from datetime import date, datetime, timezone

from pypdf import PdfReader

from checklist import planning
from checklist.domain import passed_items
from gateway.report import printable, visit_report_pdf
from gateway.routes.exports import csv_bytes, gaps_table, visits_table

TODAY = date(2026, 11, 30)


def at(day):
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc)


def test_interval_comes_from_the_template_else_the_setting():
    assert planning.interval_of({"visit_interval_days": 30}, 90) == (30, "template")
    assert planning.interval_of({}, 90) == (90, "setting")
    assert planning.interval_of(None, 60) == (60, "setting")


def test_next_visit_states():
    never = planning.next_visit(None, None, 90, TODAY)
    assert never["status"] == "never_visited" and never["due_on"] is None
    late = planning.next_visit(at(date(2026, 8, 1)), None, 90, TODAY)
    assert late["status"] == "overdue" and late["due_on"] == "2026-10-30"
    assert late["days_overdue"] == 31
    assert planning.next_visit(at(date(2026, 9, 1)), None, 90, TODAY)["status"] == "due"
    soon = planning.next_visit(at(date(2026, 9, 5)), None, 90, TODAY, within_days=7)
    assert soon["status"] == "due_soon" and soon["days_overdue"] == 0
    assert planning.next_visit(at(date(2026, 11, 1)), None, 90, TODAY)["status"] == "not_due"


def test_never_visited_first_then_most_overdue():
    rows = [{"facility_path": "/a", **planning.next_visit(at(date(2026, 10, 1)), None, 30,
                                                          TODAY)},
            {"facility_path": "/b", **planning.next_visit(None, None, 30, TODAY)},
            {"facility_path": "/c", **planning.next_visit(at(date(2026, 6, 1)), None, 30,
                                                          TODAY)}]
    assert [r["facility_path"] for r in sorted(rows, key=planning.plan_order)] == [
        "/b", "/c", "/a"]


def test_passed_items_are_those_with_full_points():
    template = {"sections": [{"code": "s", "items": [
        {"code": "a", "type": "yes_no", "points": 1},
        {"code": "b", "type": "yes_no", "points": 1},
        {"code": "c", "type": "yes_no", "points": 1},
        {"code": "d", "type": "yes_no", "points": 1}]}]}
    answers = {"a": {"value": "yes"}, "b": {"value": "partial"}, "c": {"value": "na"},
               "d": {"value": "no"}}
    assert passed_items(template, answers) == ["a"]


def test_csv_cells_never_run_as_formulas_and_keep_accents():
    content = csv_bytes(["name", "n"], [["=HYPERLINK(\"x\")", 1], ["Ségou", None],
                                        ["-2+3", 2.5]])
    assert content.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(content.decode("utf-8")[1:])))
    assert rows == [["name", "n"], ["'=HYPERLINK(\"x\")", "1"], ["Ségou", ""],
                    ["'-2+3", "2.5"]]


def _visit(**extra):
    return {"id": "v1", "visited_at": "2026-11-20T09:30:00+00:00", "facility_id": "F",
            "facility_name": "CSCom de Ségala", "region_name": "Kayes",
            "district_name": "Kayes", "coach_id": "c", "template_code": "t",
            "template_version": 1, "percent": 70.5, "colour": "amber", "flagged": True,
            "sections": [{"code": "cold_chain", "percent": 50.0},
                         {"code": "stock", "percent": 100.0}],
            "gaps": [{"item_code": "i", "section_code": "cold_chain", "label_fr": "Températures",
                      "label_en": "Temperatures", "answer": "no", "critical": True,
                      "points_lost": 2.0, "action_fr": "Relever", "action_en": "Record"}],
            **extra}


def test_visits_table_has_one_column_per_section_and_gaps_one_line_per_gap():
    header, rows = visits_table([_visit(), _visit(id="v2", sections=[
        {"code": "aefi", "percent": 80.0}], gaps=[])])
    assert header[-3:] == ["section_cold_chain_percent", "section_stock_percent",
                           "section_aefi_percent"]
    assert rows[0][-3:] == [50.0, 100.0, None] and rows[1][-3:] == [None, None, 80.0]
    header, rows = gaps_table([_visit(), _visit(id="v2", gaps=[])])
    assert len(rows) == 1 and rows[0][header.index("critical")] is True


def test_printable_keeps_french_and_replaces_what_the_font_lacks():
    assert printable("Chaîne du froid : « œuvre » – 2–8 °C ≥ 80 %") == \
        "Chaîne du froid : « œuvre » – 2–8 °C ≥ 80 %"
    assert printable("✓ ǅ") == "? Dz"  # no check mark in the font; ǅ decomposed


def test_the_visit_report_reads_back_in_both_languages():
    visit = {"facility_id": "F", "facility_name": "CSCom de Kéléya",
             "visited_at": "2026-11-20T09:30:00+00:00", "coach_id": "c",
             "coachees": [{"id": "p", "role": "dtc", "name": "Aïssata Koné"}],
             "template_version": 2, "comment": "Très bon accueil.",
             "score": {"percent": 70.5, "colour": "amber", "flagged": True,
                       "sections": [{"code": "cc", "title_fr": "Chaîne du froid",
                                     "title_en": "Cold chain", "percent": 50.0,
                                     "colour": "red"}]},
             "gaps": [{"item_code": "i", "label_fr": "Températures relevées",
                       "label_en": "Temperatures recorded", "answer": "no", "critical": True,
                       "action": {"text_fr": "Relever à 8 h et 16 h", "text_en": "Record"}}]}
    plan = {"actions": [{"position": 1, "text_fr": "Relever à 8 h", "text_en": "Record at 8",
                         "owner_id": "p", "due_date": "2026-12-01", "status": "todo"}]}
    template = {"code": "t", "title_fr": "Grille intégrée", "title_en": "Integrated",
                "sections": []}
    fr = visit_report_pdf(visit, template, plan, {"c": "Awa Traoré"}, "fr")
    assert fr == visit_report_pdf(visit, template, plan, {"c": "Awa Traoré"}, "fr")
    text = PdfReader(io.BytesIO(fr)).pages[0].extract_text()
    for words in ("CSCom de Kéléya", "70,5 %", "Chaîne du froid", "Aïssata Koné",
                  "Awa Traoré", "à faire", "1 déc. 2026", "Très bon accueil."):
        assert words in text, words
    en = PdfReader(io.BytesIO(visit_report_pdf(visit, template, plan, {}, "en")))
    text = en.pages[0].extract_text()
    assert "70.5 %" in text and "Cold chain" in text and "1 Dec 2026" in text
    assert "2026-12-01" not in text  # a day as people read it, not ISO text


# --- planner and evidence rules ------------------------------------------------

def test_staff_without_an_account_own_nothing_the_dtc_does():
    from planner.domain import choose_owner
    met = [{"id": "vacc", "role": "vaccinator", "account": False},
           {"id": "dtc", "role": "dtc", "account": True}]
    assert choose_owner("vaccinator", met) == "dtc"
    assert choose_owner("vaccinator", [met[0]], dtc_id="dtc-account") == "dtc-account"
    assert choose_owner("vaccinator", [met[0]]) is None  # then the coach is alerted
    assert choose_owner("vaccinator", [{"id": "v", "role": "vaccinator"}]) == "v"


def test_a_visit_verifies_the_open_actions_of_the_items_it_found_passing():
    from types import SimpleNamespace

    from planner.domain import verifiable, verify
    actions = {"a": SimpleNamespace(id=1), "b": SimpleNamespace(id=2)}
    assert verifiable(actions, ["b", "z"]) == [actions["b"]]
    assert verifiable(actions, []) == []
    action = SimpleNamespace(status="in_progress", comment="", started_at=None,
                             closed_at=None, due_date=date(2026, 11, 1), late=False,
                             drop_reason="", verified_by_submission_id=None)
    assert verify(action, at(date(2026, 11, 30)), "visit-2") == "in_progress"
    assert (action.status, action.verified_by_submission_id, action.late) == (
        "done", "visit-2", True)


def test_who_may_comment_on_an_action():
    import pytest

    from c2p.errors import Refused
    from planner.domain import check_comment, comment_side
    check_comment("coach", False)
    check_comment("champion", False)
    check_comment("coachee", True)
    for role, concerned in (("coachee", False), ("manager", True)):
        with pytest.raises(Refused):
            check_comment(role, concerned)
    assert comment_side("coachee") == "coachee" and comment_side("admin") == "coach"


def test_unreviewed_evidence_settles_when_its_action_closes():
    from evidence.domain import settles
    assert settles("done", "accepted") and settles("dropped", "accepted")
    assert not settles("in_progress", "accepted")
    assert not settles("done", "approved") and not settles("done", "pending_upload")
