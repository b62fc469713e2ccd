"""The demo visits of `./c2pctl up` (c2p.demo): same ids and answers every run,
accepted by the template's checks, scores in all three colours."""
from datetime import datetime, timedelta, timezone

from c2p import demo
from checklist import domain


def test_ids_and_answers_are_the_same_every_run():
    template = demo.load_template()
    first = demo.visits(template)
    again = demo.visits(template, today=datetime.now(timezone.utc) + timedelta(days=3))
    assert [v["id"] for _, v in first] == [v["id"] for _, v in again]
    assert [v["answers"] for _, v in first] == [v["answers"] for _, v in again]
    assert len({v["id"] for _, v in first}) == len(first)
    assert 15 <= len(first) <= 25


def test_answers_are_valid_and_scores_spread_over_the_colours():
    template = demo.load_template()
    colours, flagged = [], 0
    now = datetime.now(timezone.utc)
    for username, visit in demo.visits(template):
        answers = {a["item"]: {"value": a["value"], "comment": ""} for a in visit["answers"]}
        assert len(answers) == 49
        assert domain.check_answers(template, answers) == {}
        score, _ = domain.score(template, answers)
        colours.append(score["colour"])
        flagged += score["flagged"]
        visited = datetime.fromisoformat(visit["visited_at"])
        assert now - timedelta(days=125) < visited < now
        assert username in demo.FACILITIES
    assert min(colours.count(c) for c in ("green", "amber", "red")) >= 3
    assert 2 <= flagged < len(colours) / 2
