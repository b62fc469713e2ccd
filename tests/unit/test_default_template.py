"""The shipped integrated supervision template (pev-integrated): shape and scoring.

Plain unit tests: no broker, no database. The template is read straight from the
checklist package and scored with `checklist.domain`.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from checklist import domain

TEMPLATE_PATH = Path(domain.__file__).parent / "templates" / "pev-integrated.json"
TEMPLATE = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
ITEMS = [item for _, item in domain.items(TEMPLATE)]
CRITICAL = [item for item in ITEMS if item.get("critical")]

SECTION_CODES = [
    "cold_chain", "vaccine_stock", "microplanning", "session_practice",
    "waste_management", "aefi", "data_quality", "communication", "vpd_surveillance",
]
ROLES = {"vaccinator", "dtc", "district", "community_health_worker"}
ACTION_KEYS = {"text_fr", "text_en", "responsible_role", "verification_fr",
               "verification_en", "delay_days"}
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def by_type(kind):
    return [item for item in ITEMS if item["type"] == kind]


def passing_value(item):
    """Yes, the low end of the pass range, or the first full-credit choice."""
    if item["type"] == "yes_no":
        return domain.YES
    if item["type"] == "numeric":
        return item["pass_range"][0]
    return next(c["value"] for c in item["choices"] if c["ratio"] == 1)


def failing_value(item):
    """No, a valid number outside the pass range, or the worst choice."""
    if item["type"] == "yes_no":
        return domain.NO
    if item["type"] == "numeric":
        (valid_low, valid_high), (pass_low, _) = item["valid_range"], item["pass_range"]
        return valid_low if valid_low < pass_low else valid_high
    return min(item["choices"], key=lambda c: c["ratio"])["value"]


def all_passing():
    return {item["code"]: {"value": passing_value(item)} for item in ITEMS}


def ids(items):
    return [item["code"] for item in items]


# --- shape -----------------------------------------------------------------

def test_header():
    assert TEMPLATE["code"] == "pev-integrated"
    assert TEMPLATE["version"] == 1
    assert TEMPLATE["title_fr"].strip() and TEMPLATE["title_en"].strip()
    assert TEMPLATE["thresholds"] == {"green": 80, "amber": 50}


def test_file_is_plain_utf8_with_accents():
    raw = TEMPLATE_PATH.read_text(encoding="utf-8")
    assert "\\u00" not in raw  # accents written as characters, not escapes
    assert "Chaîne du froid" in raw


def test_nine_sections_of_the_integrated_checklist():
    codes = [section["code"] for section in TEMPLATE["sections"]]
    assert codes == SECTION_CODES
    for section in TEMPLATE["sections"]:
        assert SNAKE.match(section["code"])
        assert section["title_fr"].strip() and section["title_en"].strip()
        assert 4 <= len(section["items"]) <= 6, section["code"]


def test_at_least_forty_items():
    assert len(ITEMS) >= 40


def test_item_codes_unique_snake_case_and_prefixed_per_section():
    codes = ids(ITEMS)
    assert len(codes) == len(set(codes))
    for section in TEMPLATE["sections"]:
        prefixes = {item["code"].split("_")[0] for item in section["items"]}
        assert len(prefixes) == 1, (section["code"], prefixes)
        for item in section["items"]:
            assert SNAKE.match(item["code"]), item["code"]


@pytest.mark.parametrize("item", ITEMS, ids=ids(ITEMS))
def test_item_is_complete(item):
    assert item["type"] in domain.ANSWER_TYPES
    assert item["points"] in (1, 2, 3)
    assert item["required"] is True
    assert isinstance(item["critical"], bool)
    for key in ("label_fr", "label_en", "help_fr", "help_en"):
        assert isinstance(item[key], str) and item[key].strip(), key


@pytest.mark.parametrize("item", ITEMS, ids=ids(ITEMS))
def test_item_has_a_complete_corrective_action(item):
    action = item["action"]
    # Exactly the fields of the corrective action carried in checklist.submitted.
    assert set(action) == ACTION_KEYS
    for key in ("text_fr", "text_en", "verification_fr", "verification_en"):
        assert isinstance(action[key], str) and action[key].strip(), key
    assert action["responsible_role"] in ROLES
    assert isinstance(action["delay_days"], int) and action["delay_days"] >= 1
    if item["critical"]:
        assert action["delay_days"] <= 3
    else:
        assert 7 <= action["delay_days"] <= 30


def test_answer_types_are_all_used():
    assert len(by_type("numeric")) >= 3
    assert len(by_type("choice")) >= 2


@pytest.mark.parametrize("item", by_type("numeric"), ids=ids(by_type("numeric")))
def test_numeric_item_pass_range_lies_inside_valid_range(item):
    valid_low, valid_high = item["valid_range"]
    pass_low, pass_high = item["pass_range"]
    assert valid_low < valid_high
    assert valid_low <= pass_low <= pass_high <= valid_high


@pytest.mark.parametrize("item", by_type("choice"), ids=ids(by_type("choice")))
def test_choice_item_choices(item):
    choices = item["choices"]
    assert len(choices) >= 2
    values = [choice["value"] for choice in choices]
    assert len(values) == len(set(values))
    for choice in choices:
        assert 0 <= choice["ratio"] <= 1
        assert choice["label_fr"].strip() and choice["label_en"].strip()
    assert any(choice["ratio"] == 1 for choice in choices)


def test_critical_items():
    assert 5 <= len(CRITICAL) <= 7
    for item in CRITICAL:
        assert item.get("allow_na") is False, item["code"]
    codes = set(ids(CRITICAL))
    # the failures that flag a visit whatever its score
    for expected in ("stk_no_expired", "cc_readings_in_range", "cc_no_frozen_vaccine",
                     "sp_ad_syringes_available", "sp_no_syringe_reuse",
                     "sp_safety_box_at_hand"):
        assert expected in codes


# --- scoring ----------------------------------------------------------------

def test_all_passing_answers_score_100_green_unflagged():
    answers = all_passing()
    assert domain.check_answers(TEMPLATE, answers) == {}
    score, gaps = domain.score(TEMPLATE, answers)
    assert score["percent"] == 100.0
    assert score["colour"] == "green"
    assert score["flagged"] is False
    assert gaps == []
    assert [section["percent"] for section in score["sections"]] == [100.0] * 9


def test_upper_end_of_each_pass_range_also_passes():
    answers = all_passing()
    for item in by_type("numeric"):
        answers[item["code"]] = {"value": item["pass_range"][1]}
    assert domain.check_answers(TEMPLATE, answers) == {}
    score, gaps = domain.score(TEMPLATE, answers)
    assert score["percent"] == 100.0 and gaps == []


@pytest.mark.parametrize("item", CRITICAL, ids=ids(CRITICAL))
def test_one_failing_critical_item_flags_the_visit(item):
    answers = all_passing()
    # "no" for yes/no items; a valid number outside the pass range for numeric ones
    answers[item["code"]] = {"value": failing_value(item)}
    assert domain.check_answers(TEMPLATE, answers) == {}
    score, gaps = domain.score(TEMPLATE, answers)
    assert score["flagged"] is True
    assert score["percent"] >= 80  # flagged whatever the percentage
    assert gaps[0]["item_code"] == item["code"] and gaps[0]["critical"] is True
    assert gaps[0]["action"] == item["action"]


@pytest.mark.parametrize("item", CRITICAL, ids=ids(CRITICAL))
def test_not_applicable_is_refused_for_critical_items(item):
    answers = all_passing()
    answers[item["code"]] = {"value": domain.NA}
    assert f"answers.{item['code']}" in domain.check_answers(TEMPLATE, answers)


@pytest.mark.parametrize("item", by_type("numeric"), ids=ids(by_type("numeric")))
def test_numeric_outside_valid_range_is_rejected(item):
    answers = all_passing()
    answers[item["code"]] = {"value": item["valid_range"][1] + 1}
    assert f"answers.{item['code']}" in domain.check_answers(TEMPLATE, answers)


def test_failing_non_critical_items_give_gaps_without_flag():
    answers = all_passing()
    for item in ITEMS:
        if not item["critical"]:
            answers[item["code"]] = {"value": failing_value(item)}
    assert domain.check_answers(TEMPLATE, answers) == {}
    score, gaps = domain.score(TEMPLATE, answers)
    assert score["flagged"] is False
    assert score["colour"] == "red"
    assert len(gaps) == len(ITEMS) - len(CRITICAL)
    assert all(not gap["critical"] for gap in gaps)
