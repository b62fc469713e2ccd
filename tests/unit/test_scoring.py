"""Scoring of the demo template, worked by hand, and checks of answers."""
from checklist import domain
from checklist.seed import TEMPLATES_DIR, load_template_file

TEMPLATE = load_template_file(TEMPLATES_DIR / "pev-mini.json")
ITEMS = [item["code"] for _, item in domain.items(TEMPLATE)]


def answers(**values):
    return {code: {"value": values.get(code, "yes")} for code in ITEMS}


def test_all_yes_is_full_marks():
    score, gaps = domain.score(TEMPLATE, answers())
    assert score["percent"] == 100.0 and score["colour"] == "green"
    assert not score["flagged"] and gaps == []


def test_worked_example():
    # points: temp 2, range 3 (critical), expired 3 (critical), cards 2, chart 2 = 12
    # temp no (0/2), cards partial (1/2), chart n/a (out): 3+3+1 = 7 of 10 -> 70 %
    score, gaps = domain.score(TEMPLATE, answers(cc_temp_twice_daily="no",
                                                 stock_cards_up_to_date="partial",
                                                 dq_monitoring_chart="na"))
    assert score["percent"] == 70.0 and score["colour"] == "amber"
    assert not score["flagged"]
    assert [g["item_code"] for g in gaps] == ["cc_temp_twice_daily", "stock_cards_up_to_date"]
    cold_chain = next(s for s in score["sections"] if s["code"] == "cold_chain")
    assert (cold_chain["points"], cold_chain["max_points"]) == (3.0, 5.0)


def test_failing_critical_item_flags_a_good_score():
    score, gaps = domain.score(TEMPLATE, answers(stock_no_expired="no"))
    assert score["percent"] == 75.0 and score["flagged"]
    assert gaps[0]["critical"] and gaps[0]["action"]["delay_days"] == 1


def test_check_answers_names_each_problem():
    given = answers(cc_in_range="maybe")
    del given["stock_no_expired"]
    given["ghost"] = {"value": "yes"}
    errors = domain.check_answers(TEMPLATE, given)
    assert set(errors) == {"answers.cc_in_range", "answers.stock_no_expired", "answers.ghost"}
