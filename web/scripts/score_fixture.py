"""Answers and the scores the server's scorer gives them, for the app's scorer to match.

    .venv/bin/python web/scripts/score_fixture.py      # rewrites tests/unit/fixtures/scores.json

tests/unit/scoring.test.ts (Vitest) feeds the same answers to web/src/domain/scoring.ts
and expects the same scores; tests/unit/test_web_score_fixture.py (pytest) checks that
the file still matches what checklist.domain computes, so a change to the rules on
either side fails a test.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "services" / "checklist"))

from checklist import domain  # noqa: E402

TEMPLATES = ROOT / "services" / "checklist" / "checklist" / "templates"
FIXTURE = HERE.parent / "tests" / "unit" / "fixtures" / "scores.json"


def load_template(code):
    return json.loads((TEMPLATES / f"{code}.json").read_text(encoding="utf-8"))


def random_value(item, rng, mood):
    """An answer leaning towards good (mood near 1) or bad (near 0) practice."""
    if item.get("allow_na", True) and rng.random() < 0.08:
        return "na"
    if item["type"] == "yes_no":
        roll = rng.random()
        return "yes" if roll < mood else ("partial" if roll < mood + (1 - mood) / 2 else "no")
    if item["type"] == "numeric":
        low, high = item.get("valid_range", [0, 100])
        low = -1000 if low is None else low
        high = 1000 if high is None else high
        if rng.random() < 0.3:
            return rng.choice([low, high])
        value = rng.uniform(low, high)
        return round(value) if rng.random() < 0.7 else round(value, 1)
    return rng.choice(item["choices"])["value"]


def expected(template, answers):
    result, gaps = domain.score(template, answers)
    return {"percent": result["percent"], "points": result["points"],
            "max_points": result["max_points"], "colour": result["colour"],
            "flagged": result["flagged"],
            "sections": [{key: s[key] for key in ("code", "points", "max_points", "percent",
                                                  "colour", "effective")}
                         for s in result["sections"]],
            "gaps": [g["item_code"] for g in gaps]}


def cases():
    rng = random.Random(20251130)
    found = []
    for code in ("pev-integrated", "pev-mini"):
        template = load_template(code)
        all_items = [item for _, item in domain.items(template)]
        for n in range(40):
            mood = [1.0, 0.0, 0.5, 0.8, 0.95][n % 5] if n < 10 else rng.random()
            answers = {item["code"]: {"value": random_value(item, rng, mood)}
                       for item in all_items}
            if n == 0:  # all good
                answers = {item["code"]: {"value": _best(item)} for item in all_items}
            if n == 1:  # everything not applicable that may be
                answers = {item["code"]: {"value": "na" if item.get("allow_na", True)
                                          else _best(item)} for item in all_items}
            if n == 2:  # half answered (a draft): the rest leave the denominator
                answers = dict(list(answers.items())[::2])
            found.append({"name": f"{code} #{n}", "template": code, "answers": answers,
                          "expected": expected(template, answers)})
    return found


def _best(item):
    if item["type"] == "yes_no":
        return "yes"
    if item["type"] == "numeric":
        return item["pass_range"][0] if item["pass_range"][0] is not None else item["pass_range"][1]
    return max(item["choices"], key=lambda c: c["ratio"])["value"]


def main():
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps({"cases": cases()}, ensure_ascii=False, indent=1) + "\n",
                       encoding="utf-8")
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
