"""The plan and action life cycle, alerts and progress figures: forbidden transitions
are refused with the right kind (409 conflict, 422 invalid, 403 forbidden)."""
from datetime import date, timedelta

import pytest

from planner.domain import (Refused, alert_for, check_agreement, check_editable,
                            check_transition, derive_plan_status, district_path, is_late,
                            plan_actions, progress_row, review_outcome)


def refused(check) -> Refused:
    with pytest.raises(Refused) as caught:
        check()
    return caught.value


# --- building with carry-over ---------------------------------------------------

def gap(code, critical=False, lost=1.0):
    return {"item_code": code, "critical": critical, "points_lost": lost,
            "action": {"text_fr": code, "text_en": code, "responsible_role": "dtc",
                       "delay_days": 7}}


def test_a_gap_with_an_open_action_reuses_it_and_keeps_its_place():
    planned = plan_actions([gap("a"), gap("b", critical=True)], [], date(2026, 1, 1),
                           {"a": "action-1", "z": "action-9"})
    assert [(p.item_code, p.carried_over) for p in planned] == [("b", None), ("a", "action-1")]


# --- plan agreement ---------------------------------------------------------------

def test_coach_then_coachee_confirm_and_a_repeat_is_harmless():
    assert check_agreement("draft", "coach", False, set()) == "coach"
    assert check_agreement("draft", "coachee", True, {"coach"}) == "coachee"
    assert check_agreement("agreed", "coach", False, {"coach", "coachee"}) is None


def test_agreement_refusals():
    assert refused(lambda: check_agreement("draft", "manager", False, set())).kind == "forbidden"
    assert refused(lambda: check_agreement("draft", "coachee", False, set())).kind == "forbidden"
    late = refused(lambda: check_agreement("completed", "coachee", True, set()))
    assert late.kind == "conflict" and "already completed" in late.message


def test_plan_status_follows_agreement_and_actions():
    assert derive_plan_status(False, ["done", "done"]) == "draft"
    assert derive_plan_status(True, ["todo", "todo"]) == "agreed"
    assert derive_plan_status(True, ["todo", "awaiting_review"]) == "in_progress"
    assert derive_plan_status(True, ["done", "dropped"]) == "completed"
    assert derive_plan_status(True, ["done", "in_progress"]) == "in_progress"


# --- action transitions ----------------------------------------------------------------

def test_the_happy_path_and_who_may_walk_it():
    check_transition("todo", "in_progress", "coachee", True, "agreed")
    check_transition("in_progress", "awaiting_review", "coachee", True, "in_progress")
    check_transition("awaiting_review", "done", "coach", False, "in_progress")
    check_transition("awaiting_review", "in_progress", "admin", False, "in_progress")
    check_transition("in_progress", "dropped", "coach", False, "in_progress", "no longer relevant")


@pytest.mark.parametrize("current,target,role,kind", [
    ("todo", "done", "coach", "conflict"),              # skips the review
    ("todo", "awaiting_review", "coachee", "conflict"),  # not started
    ("done", "in_progress", "coach", "conflict"),        # closed for good
    ("dropped", "todo", "admin", "conflict"),
    ("in_progress", "in_progress", "coachee", "conflict"),
    ("awaiting_review", "done", "coachee", "forbidden"),  # a coachee cannot approve
    ("todo", "dropped", "coachee", "forbidden"),
    ("todo", "in_progress", "manager", "forbidden"),     # managers only read
    ("todo", "in_progress", "champion", "forbidden"),
    ("todo", "finished", "coach", "invalid"),
])
def test_forbidden_transitions(current, target, role, kind):
    assert refused(lambda: check_transition(current, target, role, role == "coachee",
                                            "in_progress", "why")).kind == kind


def test_a_conflict_says_where_the_action_can_go():
    message = refused(lambda: check_transition("todo", "done", "coach", False, "agreed")).message
    assert "from todo to done" in message and "in_progress" in message


def test_dropping_needs_a_reason():
    error = refused(lambda: check_transition("todo", "dropped", "coach", False, "agreed", "  "))
    assert (error.kind, error.field) == ("invalid", "reason")


def test_actions_wait_for_the_plan_to_be_agreed_but_may_be_dropped():
    assert refused(lambda: check_transition("todo", "in_progress", "coachee", True,
                                            "draft")).kind == "conflict"
    check_transition("todo", "dropped", "coach", False, "draft", "duplicate of another")


def test_only_editors_change_open_actions():
    check_editable("todo", "coach")
    assert refused(lambda: check_editable("todo", "coachee")).kind == "forbidden"
    assert refused(lambda: check_editable("done", "admin")).kind == "conflict"


# --- evidence loop ---------------------------------------------------------------------

def test_review_outcomes():
    assert review_outcome("awaiting_review", "approved").target == "done"
    assert review_outcome("todo", "approved").target == "done"
    back = review_outcome("awaiting_review", "needs_more", "photo is blurred")
    assert (back.target, back.comment) == ("in_progress", "photo is blurred")
    assert review_outcome("awaiting_review", "rejected").target == "in_progress"
    assert review_outcome("in_progress", "rejected", "x") == review_outcome("in_progress",
                                                                             "rejected", "x")
    assert review_outcome("in_progress", "rejected").target is None
    assert review_outcome("done", "rejected").target is None
    assert review_outcome("dropped", "approved").target is None


def test_late_completion():
    assert is_late(date(2026, 1, 10), date(2026, 1, 11))
    assert not is_late(date(2026, 1, 10), date(2026, 1, 10))


# --- alerts ------------------------------------------------------------------------------

TODAY = date(2026, 3, 10)


@pytest.mark.parametrize("status,due,state,expected", [
    ("todo", TODAY + timedelta(days=3), "none", "due_soon"),
    ("todo", TODAY + timedelta(days=4), "none", None),
    ("in_progress", TODAY, "none", "due_soon"),
    ("todo", TODAY + timedelta(days=2), "due_soon", None),   # once per state
    ("todo", TODAY - timedelta(days=1), "due_soon", "overdue"),
    ("awaiting_review", TODAY - timedelta(days=1), "none", "overdue"),
    ("todo", TODAY - timedelta(days=5), "overdue", None),
    ("done", TODAY - timedelta(days=5), "none", None),
    ("dropped", TODAY, "none", None),
])
def test_alert_for(status, due, state, expected):
    assert alert_for(status, due, state, TODAY, 3) == expected


# --- progress ----------------------------------------------------------------------------

def test_progress_figures():
    row = progress_row("a", "A", "/ML/a", done=3, open=2, overdue=1, dropped=1,
                       median_days=4.04)
    assert row == {"key": "a", "label": "A", "facility_path": "/ML/a", "done": 3, "open": 2,
                   "overdue": 1, "dropped": 1, "total": 6, "percent_done": 60.0,
                   "median_days_to_close": 4.0}
    only_dropped = progress_row("b", "B", None, 0, 0, 0, 1, None)
    assert (only_dropped["total"], only_dropped["percent_done"],
            only_dropped["median_days_to_close"]) == (1, 0.0, None)
    assert progress_row("c", "C", None, 1, 2, 0, 0, 2)["percent_done"] == 33.3


def test_district_of_a_facility():
    assert district_path("/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN") == "/ML/ML-SEG/ML-SEG-NIO"
