"""Plan building: order, owners, due dates."""
from datetime import date

from planner.domain import choose_owner, plan_actions


def gap(code, critical, lost, role="vaccinator", delay=7):
    return {"item_code": code, "critical": critical, "points_lost": lost,
            "action": {"text_fr": code, "text_en": code, "responsible_role": role,
                       "delay_days": delay}}


def test_critical_first_then_points_lost():
    planned = plan_actions([gap("a", False, 1), gap("b", True, 1), gap("c", False, 3)], [],
                           date(2026, 1, 1))
    assert [p.item_code for p in planned] == ["b", "c", "a"]
    assert [p.position for p in planned] == [1, 2, 3]


def test_owner_by_role_else_the_dtc():
    coachees = [{"id": "v", "role": "vaccinator"}, {"id": "d", "role": "dtc"}]
    assert choose_owner("vaccinator", coachees) == "v"
    assert choose_owner("district", coachees) == "d"
    assert choose_owner("vaccinator", []) is None


def test_due_date_from_the_usual_delay():
    planned = plan_actions([gap("a", False, 1, delay=14)], [], date(2026, 1, 20))
    assert planned[0].due_date == date(2026, 2, 3)
