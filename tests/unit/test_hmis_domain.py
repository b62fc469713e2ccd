"""The HMIS export rules: monthly figures, the mapping, what is sent, DHIS2's answers."""
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from c2p.dhis2 import Conflict, parse_import_summary
from hmis import domain
from hmis.domain import ActionFacts, Sent, VisitFacts

NOW = datetime(2025, 8, 10, 12, tzinfo=timezone.utc)


def at(day, month=7, year=2025):
    return datetime(year, month, day, 9, tzinfo=timezone.utc)


def test_periods():
    assert domain.period_of(at(31)) == "202507"
    assert domain.previous_period("202501") == "202412"
    assert domain.period_bounds("202512") == (datetime(2025, 12, 1, tzinfo=timezone.utc),
                                             datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert domain.periods_from(at(20, 11), at(2, 1, 2026)) == ["202511", "202512", "202601"]
    assert domain.periods_from(at(20), at(21)) == domain.periods_from(at(21), at(20)) \
        == ["202507"]
    for bad in ("2025-07", "202513", "25070", None, 202507):
        with pytest.raises(ValueError):
            domain.parse_period(bad)


def test_month_figures_scores_are_means_and_counts_follow_actions():
    visits = [VisitFacts(80.0, {"cold_chain": 100.0, "stock": None}),
              VisitFacts(65.0, {"cold_chain": 50.0, "stock": 40.0})]
    actions = [
        ActionFacts(at(2), date(2025, 7, 9), "done", at(8)),          # done in July
        ActionFacts(at(2), date(2025, 7, 20), "todo", None),          # open, overdue by Aug
        ActionFacts(at(2), date(2025, 8, 30), "in_progress", None),   # open, not overdue
        ActionFacts(at(2), date(2025, 7, 5), "dropped", at(3)),       # closed: not counted
        ActionFacts(at(5, 8), date(2025, 8, 9), "todo", None),        # created after July
    ]
    july = domain.month_figures("202507", visits, actions, NOW)
    assert july == {"score": "72.5", "section:cold_chain": "75", "section:stock": "40",
                    "visits": "2", "actions_done": "1", "actions_open": "2",
                    "actions_overdue": "1"}
    # The month under way: as of now (10 August), the August action is overdue too.
    august = domain.month_figures("202508", [], actions, NOW)
    assert "score" not in august
    assert august["visits"] == "0"
    assert (august["actions_open"], august["actions_overdue"]) == ("3", "2")


MAPPING = {"org_unit_scheme": "UID", "data_set": "Dset1234567", "entries": [
    {"figure": "score", "data_element": "DeScore0001", "id_scheme": "UID"},
    {"figure": "visits", "data_element": "C2P_VISITS", "id_scheme": "CODE",
     "category_option_combo": "default"},
    {"figure": "actions_open", "data_element": "DeOpen00001", "id_scheme": "UID"},
]}


def test_mapping_is_checked_field_by_field():
    normalised, errors = domain.validate_mapping(MAPPING)
    assert errors == {}
    assert normalised["entries"][1]["id_scheme"] == "CODE"
    _, errors = domain.validate_mapping({
        "org_unit_scheme": "NAME", "entries": [
            {"figure": "score", "data_element": "not-a-uid"},
            {"figure": "score", "data_element": "DeScore0001"},
            {"figure": "section:Cold Chain", "data_element": "X", "id_scheme": "CODE"},
            {"figure": "visits", "id_scheme": "CODE", "colour": "red"}]})
    assert set(errors) == {"org_unit_scheme", "entries.0.data_element", "entries.1.figure",
                           "entries.2.figure", "entries.3.data_element", "entries.3.colour"}
    assert "use id_scheme CODE" in errors["entries.0.data_element"][0]


def entries():
    return {e["figure"]: {**e, "category_option_combo": e.get("category_option_combo")}
            for e in domain.validate_mapping(MAPPING)[0]["entries"]}


REFS = {"F1": {"dhis2_id": "OuF10000001", "code": "F1"}, "F2": {"dhis2_id": None,
                                                                  "code": "F2"}}


def test_only_changed_values_are_sent_and_unmapped_ones_are_reported():
    figures = {("F1", "202507"): {"score": "80", "visits": "1", "actions_open": "0",
                                  "section:stock": "50"},
               ("F2", "202507"): {"score": "60", "visits": "1"}}
    values, skipped = domain.plan_values(figures, entries(), REFS, "UID", {}, NOW)
    assert [(v.facility_id, v.figure, v.value) for v in values] == [
        ("F1", "score", "80"), ("F1", "visits", "1")]   # zero count never sent: left out
    reasons = {(s["facility_id"], s["figure"]): s["reason"] for s in skipped}
    assert reasons[("F2", "score")] == "facility has no DHIS2 id"
    assert reasons[(None, "section:stock")] == "no DHIS2 data element mapped to this figure"

    sent = {("F1", "202507", v.figure): Sent(v.target, v.value, "sent", None) for v in values}
    again, _ = domain.plan_values(figures, entries(), REFS, "UID", sent, NOW)
    assert again == []
    figures[("F1", "202507")]["score"] = "85"
    figures[("F1", "202507")].pop("visits")        # a count that is no longer there -> 0
    changed, _ = domain.plan_values(figures, entries(), REFS, "UID", sent, NOW)
    assert [(v.figure, v.value) for v in changed] == [("score", "85"), ("visits", "0")]
    # A new mapping target sends the same value again.
    moved = {**entries(), "score": {"figure": "score", "data_element": "DeScore0002",
                                    "category_option_combo": None, "id_scheme": "UID"}}
    figures[("F1", "202507")]["score"] = "80"
    resent, _ = domain.plan_values(figures, moved, REFS, "UID", sent, NOW)
    assert [(v.figure, v.data_element) for v in resent] == [("score", "DeScore0002"),
                                                             ("visits", "C2P_VISITS")]


def test_refused_values_wait_before_being_sent_again():
    figures = {("F1", "202507"): {"score": "80"}}
    [value], _ = domain.plan_values(figures, entries(), REFS, "UID", {}, NOW)
    later = domain.retry_after(1, NOW)
    sent = {("F1", "202507", "score"): Sent(value.target, "80", "rejected", later)}
    assert domain.plan_values(figures, entries(), REFS, "UID", sent, NOW)[0] == []
    assert len(domain.plan_values(figures, entries(), REFS, "UID", sent, later)[0]) == 1


def test_batches_split_by_id_scheme_and_size():
    figures = {(f"F{i}", "202507"): {"score": "80", "visits": "2"} for i in range(3)}
    refs = {f"F{i}": {"dhis2_id": f"Ou{i:09d}"} for i in range(3)}
    values, _ = domain.plan_values(figures, entries(), refs, "UID", {}, NOW)
    found = domain.batches(values, "Dset1234567", size=2)
    assert [(scheme, len(chunk)) for scheme, chunk, _ in found] == [
        ("UID", 2), ("UID", 1), ("CODE", 2), ("CODE", 1)]
    assert found[2][2] == {"dataSet": "Dset1234567", "dataValues": [
        {"dataElement": "C2P_VISITS", "period": "202507", "orgUnit": "Ou000000000",
         "value": "2", "categoryOptionCombo": "default"},
        {"dataElement": "C2P_VISITS", "period": "202507", "orgUnit": "Ou000000001",
         "value": "2", "categoryOptionCombo": "default"}]}


def test_import_summaries_old_and_new_and_which_values_were_refused():
    wrapped = {"httpStatus": "Conflict", "httpStatusCode": 409, "status": "WARNING",
               "response": {"responseType": "ImportSummary", "status": "WARNING",
                            "importCount": {"imported": 1, "updated": 0, "ignored": 1,
                                            "deleted": 0},
                            "conflicts": [{"object": "OuX", "objects": {"orgUnit": "OuX"},
                                           "value": "Organisation unit not found",
                                           "errorCode": "E7612", "property": "orgUnit",
                                           "indexes": [1]}]}}
    summary = parse_import_summary(wrapped, 409)
    assert (summary.status, summary.imported, summary.ignored) == ("WARNING", 1, 1)
    assert summary.conflicts[0].as_dict() == {
        "object": "OuX", "reason": "Organisation unit not found", "error_code": "E7612",
        "property": "orgUnit", "indexes": [1]}
    bare = {"status": "SUCCESS", "importCount": {"imported": 2, "updated": 1}}
    assert parse_import_summary(bare, 200).updated == 1
    with pytest.raises(ValueError):
        parse_import_summary({"message": "nope"}, 409)

    figures = {("F1", "202507"): {"score": "80"}, ("F3", "202507"): {"score": "70"}}
    refs = {"F1": {"dhis2_id": "OuF10000001"}, "F3": {"dhis2_id": "OuX"}}
    values, _ = domain.plan_values(figures, entries(), refs, "UID", {}, NOW)
    assert domain.rejected_values(values, summary.conflicts) == {
        1: "Organisation unit not found (OuX)"}
    # Without indexes (DHIS2 before 2.38): matched by the object named.
    old = [Conflict(object="OuX", value="Organisation unit not found")]
    assert set(domain.rejected_values(values, old)) == {1}


def test_metadata_is_stable_and_the_mapping_points_at_it():
    sections = [{"code": "cold_chain", "title_fr": "Chaîne du froid",
                 "title_en": "Cold chain"}]
    payload, mapping = domain.metadata(sections)
    again, _ = domain.metadata(sections)
    assert payload == again                                 # same UIDs every time
    names = [e["code"] for e in payload["dataElements"]]
    assert names == ["C2P_SCORE", "C2P_SECTION_COLD_CHAIN", "C2P_VISITS", "C2P_ACTIONS_DONE",
                     "C2P_ACTIONS_OPEN", "C2P_ACTIONS_OVERDUE"]
    assert all(domain.UID.match(e["id"]) and len(e["shortName"]) <= 50
               for e in payload["dataElements"])
    assert payload["dataSets"][0]["periodType"] == "Monthly"
    assert len(payload["dataSets"][0]["dataSetElements"]) == 6
    assert payload["dataElements"][1]["formName"] == "Score Chaîne du froid (%)"
    assert domain.validate_mapping(mapping)[1] == {}
    assert {e["figure"] for e in mapping["entries"]} == {
        "score", "section:cold_chain", "visits", "actions_done", "actions_open",
        "actions_overdue"}


def test_backoff():
    assert [domain.backoff_s(n, (60, 300)) for n in (1, 2, 3, 9)] == [60, 300, 300, 300]


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(body=st.fixed_dictionaries({"entries": st.lists(
    st.dictionaries(st.sampled_from(["figure", "data_element", "category_option_combo",
                                     "id_scheme", "other"]), JSON, max_size=5),
    max_size=3)}, optional={"org_unit_scheme": JSON, "data_set": JSON}))
def test_any_json_in_a_mapping_gives_errors_by_field_never_an_exception(body):
    # A figure sent as a list once raised TypeError (unhashable) in the duplicate check:
    # a 500 found by the API fuzzer (tests/e2e/test_openapi.py).
    normalised, errors = domain.validate_mapping(body)
    assert isinstance(errors, dict)
    if not errors:
        assert all(isinstance(e["figure"], str) for e in normalised["entries"])
