"""Scoring properties over generated templates and visits (hypothesis), plus visits of
the default template worked out by hand.

Properties: all-passing is 100 %; N/A leaves the denominator (a "no" turned N/A
never lowers a score, an N/A item counts as if it were absent); one failing
critical item always flags the visit and nothing else does; percentages stay
within 0..100 and the colour follows the template's thresholds.
"""
from __future__ import annotations

import copy

from hypothesis import assume, given, settings, strategies as st

from checklist import domain
from checklist.seed import TEMPLATES_DIR, load_template_file

ACTION = {"text_fr": "Agir", "text_en": "Act", "responsible_role": "dtc",
          "verification_fr": "", "verification_en": "", "delay_days": 7}


@st.composite
def items(draw, code):
    kind = draw(st.sampled_from(domain.ANSWER_TYPES))
    item = {"code": code, "type": kind, "points": draw(st.sampled_from([1, 2, 3, 0.5, 5])),
            "critical": draw(st.booleans()), "label_fr": code, "label_en": code,
            "action": ACTION}
    if kind == "numeric":
        low = draw(st.integers(-50, 50))
        high = low + draw(st.integers(1, 100))
        p_low = draw(st.integers(low, high))
        item.update(valid_range=[low, high], pass_range=[p_low, draw(st.integers(p_low, high))])
    elif kind == "choice":
        ratios = draw(st.lists(st.sampled_from([0, 0.25, 0.5, 0.75]), min_size=1, max_size=3))
        item["choices"] = [{"value": f"c{n}", "label_fr": "x", "label_en": "x", "ratio": r}
                           for n, r in enumerate([1, *ratios])]
    return item


@st.composite
def templates(draw):
    count = draw(st.integers(1, 4))
    sections, n = [], 0
    for s in range(count):
        section_items = []
        for _ in range(draw(st.integers(1, 5))):
            section_items.append(draw(items(f"i{n}")))
            n += 1
        sections.append({"code": f"s{s}", "title_fr": "S", "title_en": "S",
                         "items": section_items})
    green = draw(st.integers(1, 100))
    return {"code": "t", "version": 1, "sections": sections,
            "thresholds": {"green": green, "amber": draw(st.integers(0, green))}}


def passing(item):
    if item["type"] == "yes_no":
        return domain.YES
    if item["type"] == "numeric":
        return item["pass_range"][0]
    return next(c["value"] for c in item["choices"] if c["ratio"] == 1)


def failing_values(item):
    if item["type"] == "yes_no":
        return [domain.NO, domain.PARTIAL]
    if item["type"] == "numeric":
        (v_low, v_high), (p_low, p_high) = item["valid_range"], item["pass_range"]
        return [v for v in (v_low, p_low - 1, p_high + 1, v_high) if
                v_low <= v <= v_high and not p_low <= v <= p_high]
    return [c["value"] for c in item["choices"] if c["ratio"] < 1]


@st.composite
def visits(draw):
    """A template and valid answers to every item: passing, failing or N/A."""
    template = draw(templates())
    answers = {}
    for _, item in domain.items(template):
        options = [passing(item), domain.NA, *failing_values(item)]
        answers[item["code"]] = {"value": draw(st.sampled_from(options))}
    return template, answers


def all_items(template):
    return [item for _, item in domain.items(template)]


@given(templates())
def test_all_passing_is_100_percent_green_unflagged(template):
    answers = {item["code"]: {"value": passing(item)} for item in all_items(template)}
    assert domain.check_answers(template, answers) == {}
    score, gaps = domain.score(template, answers)
    assert score["percent"] == 100.0 and score["colour"] == "green"
    assert not score["flagged"] and gaps == []
    assert all(section["percent"] == 100.0 for section in score["sections"])


@given(visits())
def test_generated_answers_are_valid_and_scores_are_consistent(visit):
    template, answers = visit
    assert domain.check_answers(template, answers) == {}
    score, gaps = domain.score(template, answers)
    assert score["percent"] is None or 0 <= score["percent"] <= 100
    assert score["points"] == sum(s["points"] for s in score["sections"])
    assert score["max_points"] == sum(s["max_points"] for s in score["sections"])
    assert score["colour"] == domain.colour(template, score["percent"])
    if score["percent"] is not None:
        thresholds = template["thresholds"]
        expected = ("green" if score["percent"] >= thresholds["green"] else
                    "amber" if score["percent"] >= thresholds["amber"] else "red")
        assert score["colour"] == expected
    # every gap is an item that did not earn all its points, and vice versa
    failed = {code for code, answer in answers.items()
              if domain.outcome(next(i for i in all_items(template) if i["code"] == code),
                                answer["value"]).failed}
    assert {gap["item_code"] for gap in gaps} == failed


@given(visits(), st.data())
def test_a_no_turned_not_applicable_never_lowers_a_score(visit, data):
    template, answers = visit
    failing = [code for code, answer in answers.items()
               if answer["value"] == domain.NO
               or (answer["value"] != domain.NA and domain.outcome(
                   next(i for i in all_items(template) if i["code"] == code),
                   answer["value"]).earned == 0)]
    if not failing:
        return
    code = data.draw(st.sampled_from(failing))
    before, _ = domain.score(template, answers)
    after, _ = domain.score(template, {**answers, code: {"value": domain.NA}})
    if after["percent"] is not None:
        assert after["percent"] >= before["percent"]
    for old, new in zip(before["sections"], after["sections"]):
        if new["percent"] is not None:
            assert new["percent"] >= old["percent"]


@given(visits())
def test_not_applicable_items_count_as_if_absent(visit):
    template, answers = visit
    trimmed = copy.deepcopy(template)
    for section in trimmed["sections"]:
        section["items"] = [i for i in section["items"]
                            if answers[i["code"]]["value"] != domain.NA]
    with_na, gaps = domain.score(template, answers)
    without, gaps_without = domain.score(trimmed, answers)
    assert with_na["percent"] == without["percent"]
    assert with_na["flagged"] == without["flagged"]
    assert gaps == gaps_without


@given(visits(), st.data())
def test_one_failing_critical_item_always_flags(visit, data):
    template, answers = visit
    # (a numeric item whose pass range is its whole valid range cannot fail)
    critical = [item for item in all_items(template)
                if item["critical"] and failing_values(item)]
    assume(critical)
    item = data.draw(st.sampled_from(critical))
    value = data.draw(st.sampled_from(failing_values(item)))
    score, gaps = domain.score(template, {**answers, item["code"]: {"value": value}})
    assert score["flagged"] is True
    assert gaps[0]["critical"] is True  # critical gaps come first


@given(visits())
def test_only_a_failing_critical_item_flags(visit):
    template, answers = visit
    score, gaps = domain.score(template, answers)
    assert score["flagged"] == any(gap["critical"] for gap in gaps)


@settings(max_examples=50)
@given(visits(), st.sampled_from(["maybe", True, "", [], {"x": 1}, 10 ** 9, float("nan")]))
def test_a_wrong_answer_is_named_and_only_it(visit, wrong):
    template, answers = visit
    item = all_items(template)[0]  # generated valid ranges stay far below 10 ** 9
    errors = domain.check_answers(template, {**answers, item["code"]: {"value": wrong}})
    assert list(errors) == [f"answers.{item['code']}"]


# --- the default template, worked by hand ------------------------------------

DEFAULT = load_template_file(TEMPLATES_DIR / "pev-integrated.json")


def default_answers(**values):
    answers = {}
    for item in all_items(DEFAULT):
        answers[item["code"]] = {"value": values.get(item["code"], passing(item))}
    return answers


def test_default_template_worked_example():
    items = {item["code"]: item for item in all_items(DEFAULT)}
    total = sum(item["points"] for item in items.values())
    cold_chain = next(s for s in DEFAULT["sections"] if s["code"] == "cold_chain")
    cc_total = sum(item["points"] for item in cold_chain["items"])
    # equipment "working, not maintained" earns half its 2 points; the 28-of-30
    # readings item answered 20 earns none of its 2; a non-critical yes/no item N/A.
    na_item = next(i for i in all_items(DEFAULT) if i["type"] == "yes_no"
                   and i.get("allow_na", True) and not i["critical"])
    score, gaps = domain.score(DEFAULT, default_answers(
        cc_equipment_condition="working_not_maintained", cc_days_both_readings=20,
        **{na_item["code"]: domain.NA}))
    possible = total - na_item["points"]
    assert score["max_points"] == possible
    assert score["points"] == possible - 1 - 2
    assert score["percent"] == round(100 * (possible - 3) / possible, 1)
    section = score["sections"][0]
    assert section["code"] == "cold_chain"
    assert section["points"] == cc_total - 3 - (na_item["points"]
                                                 if na_item in cold_chain["items"] else 0)
    assert not score["flagged"] and score["colour"] == "green"
    assert [g["item_code"] for g in gaps] == ["cc_days_both_readings",
                                              "cc_equipment_condition"]
    assert gaps[1]["points_lost"] == 1.0


def test_default_template_fridge_at_12_degrees_flags_a_green_visit():
    score, gaps = domain.score(DEFAULT, default_answers(cc_current_temperature=12))
    assert score["flagged"] and score["colour"] == "green" and score["percent"] > 95
    assert gaps[0]["item_code"] == "cc_current_temperature"
    assert gaps[0]["action"]["delay_days"] == 1
