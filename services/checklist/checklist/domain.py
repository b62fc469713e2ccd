"""Checking a visit's answers against its template, and scoring it. Plain Python.

A template is a dict (see `templates/*.json`): sections of items, each item with
an answer type, points, a critical flag and the corrective action the planner
uses when it fails. Scoring as practised in Mali's integrated supervision:

- an item earns all its points (yes, or a number in its pass range), half
  (partial) or none (no); not-applicable items leave the denominator;
- section and overall scores are percentages of the points that applied;
- one failing critical item flags the visit whatever its percentage;
- the colour comes from the template's thresholds;
- every failed or partial item is a gap, carrying its corrective action.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# The vocabulary is the API's (one definition, also documented there).
from c2p.api.checklists import ANSWER_TYPES, NA, NO, PARTIAL, RESPONSIBLE_ROLES, YES  # noqa: F401

YES_NO_VALUES = (YES, NO, PARTIAL, NA)
EFFECTIVE_SECTION = 80.0  # a section at 80 % or more counts as effective


@dataclass(frozen=True)
class Outcome:
    """What one answer is worth."""
    earned: float
    possible: float  # 0 when not applicable

    @property
    def failed(self):
        return self.possible > 0 and self.earned < self.possible


def items(template):
    for section in template["sections"]:
        for item in section["items"]:
            yield section, item


def points(template) -> dict:
    """{item code: points} of a template's items."""
    return {item["code"]: float(item["points"]) for _, item in items(template)}


def check_answers(template, answers: dict) -> dict:
    """Return {field: [reasons]} for every problem; empty when the answers fit.

    `answers` maps item code -> {"value": ..., "comment": ...}.
    """
    errors: dict[str, list[str]] = {}
    known = {item["code"]: item for _, item in items(template)}
    for code in answers:
        if code not in known:
            errors[f"answers.{code}"] = [
                f"item {code!r} is not in template {template['code']} v{template['version']}"]
    for code, item in known.items():
        answer = answers.get(code)
        if answer is None or answer.get("value") is None:
            if item.get("required", True):
                errors[f"answers.{code}"] = ["an answer is required"]
            continue
        reason = _answer_problem(item, answer["value"])
        if reason:
            errors[f"answers.{code}"] = [reason]
    return errors


def _answer_problem(item, value):
    kind = item["type"]
    if value == NA:
        return None if item.get("allow_na", True) else "not applicable is not allowed here"
    if kind == "yes_no":
        if value not in YES_NO_VALUES:
            return f"must be one of {', '.join(YES_NO_VALUES)}, got {value!r}"
    elif kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {value!r}"
        if not math.isfinite(value):
            return f"must be a finite number, got {value!r}"
        low, high = item.get("valid_range", [None, None])
        if (low is not None and value < low) or (high is not None and value > high):
            return f"must be between {low} and {high}, got {value}"
    elif kind == "choice":
        allowed = [choice["value"] for choice in item["choices"]]
        if value not in allowed:
            return f"must be one of {', '.join(map(str, allowed))}, got {value!r}"
    return None


def outcome(item, value) -> Outcome:
    points = float(item["points"])
    if value is None or value == NA:
        return Outcome(0.0, 0.0)
    kind = item["type"]
    if kind == "yes_no":
        ratio = {YES: 1.0, PARTIAL: 0.5, NO: 0.0}[value]
    elif kind == "numeric":
        low, high = item.get("pass_range", [None, None])
        ratio = float((low is None or value >= low) and (high is None or value <= high))
    else:
        ratio = next(float(c.get("ratio", 0)) for c in item["choices"] if c["value"] == value)
    return Outcome(points * ratio, points)


def passed_items(template, answers: dict) -> list[str]:
    """Codes of the items that earned all their points (not-applicable ones did
    not pass: nothing was checked). A follow-up visit verifies open actions on them."""
    passed = []
    for _, item in items(template):
        result = outcome(item, (answers.get(item["code"]) or {}).get("value"))
        if result.possible > 0 and result.earned >= result.possible:
            passed.append(item["code"])
    return passed


def colour(template, percent):
    if percent is None:
        return "grey"
    thresholds = template.get("thresholds", {"green": 80, "amber": 50})
    if percent >= thresholds["green"]:
        return "green"
    if percent >= thresholds["amber"]:
        return "amber"
    return "red"


def _percent(earned, possible):
    return round(100.0 * earned / possible, 1) if possible else None


def score(template, answers: dict):
    """Score checked answers: returns (score dict, gaps list), critical gaps first."""
    sections, gaps = [], []
    total_earned = total_possible = 0.0
    flagged = False
    for section in template["sections"]:
        earned = possible = 0.0
        for item in section["items"]:
            value = (answers.get(item["code"]) or {}).get("value")
            result = outcome(item, value)
            earned += result.earned
            possible += result.possible
            if result.failed:
                critical = bool(item.get("critical"))
                flagged = flagged or critical
                gaps.append({
                    "item_code": item["code"], "section_code": section["code"],
                    "label_fr": item["label_fr"], "label_en": item["label_en"],
                    "answer": value, "critical": critical,
                    "points_lost": round(result.possible - result.earned, 2),
                    "action": item["action"],
                })
        section_percent = _percent(earned, possible)
        sections.append({"code": section["code"], "title_fr": section["title_fr"],
                         "title_en": section["title_en"], "points": earned,
                         "max_points": possible, "percent": section_percent,
                         "colour": colour(template, section_percent),
                         "effective": section_percent is not None
                         and section_percent >= EFFECTIVE_SECTION})
        total_earned += earned
        total_possible += possible
    percent = _percent(total_earned, total_possible)
    gaps.sort(key=lambda gap: (not gap["critical"], -gap["points_lost"]))
    return ({"percent": percent, "points": total_earned, "max_points": total_possible,
             "colour": colour(template, percent), "flagged": flagged,
             "sections": sections}, gaps)
