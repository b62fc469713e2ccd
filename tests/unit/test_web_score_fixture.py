"""The answers and scores the web app's scorer is tested against
(web/tests/unit/fixtures/scores.json) are still what the server's scorer computes.

Vitest checks web/src/domain/scoring.ts against the same file, so the phone's live
score and the server's cannot drift apart unnoticed."""
import json
from pathlib import Path

import pytest

from checklist import domain

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "web" / "tests" / "unit" / "fixtures" / "scores.json"
TEMPLATES = ROOT / "services" / "checklist" / "checklist" / "templates"
CASES = json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]


def test_the_fixture_covers_every_item_type_and_both_templates():
    templates = {case["template"] for case in CASES}
    assert templates == {"pev-integrated", "pev-mini"}
    values = {str(a["value"]) for case in CASES for a in case["answers"].values()}
    assert {"yes", "no", "partial", "na"} <= values
    assert any(case["expected"]["flagged"] for case in CASES)
    assert any(not case["expected"]["flagged"] for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_the_server_scorer_still_gives_the_fixture_scores(case):
    template = json.loads((TEMPLATES / f"{case['template']}.json").read_text(encoding="utf-8"))
    result, gaps = domain.score(template, case["answers"])
    assert result["percent"] == case["expected"]["percent"]
    assert result["flagged"] == case["expected"]["flagged"]
    assert result["colour"] == case["expected"]["colour"]
    assert [s["percent"] for s in result["sections"]] == \
        [s["percent"] for s in case["expected"]["sections"]]
    assert [g["item_code"] for g in gaps] == case["expected"]["gaps"], \
        "run: .venv/bin/python web/scripts/score_fixture.py"
