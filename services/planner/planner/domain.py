"""Improvement plans as plain Python: building them from a visit, their life cycle,
due-date alerts and progress figures. No framework import: unit-tested in milliseconds.

Building: one SMART action per gap: the item's corrective action as the *specific*
text, its verification as the *measure*, an owner among the coachees present whose
role matches (else the centre's technical director), and a due date from the item's
usual delay (*time-bound*). Critical gaps come first, then by points lost. A gap whose
item still has an open action from an earlier visit of the same facility reuses that
action (carried over, marked recurring) instead of writing a second one.

Life cycle: a plan goes draft -> agreed (the coach and a coachee both confirm) ->
in_progress (an action started) -> completed (every action done or dropped). An
action goes todo -> in_progress -> awaiting_review -> done, or is dropped with a
reason; review can send it back to in_progress. A later visit that finds the item
passing closes its open action as done, verified by that visit (`verify`).

Staff named on a visit without a C2P account (`account: false`) own nothing: what
their role would own goes to the facility's DTC, who can be reached.

Comments: the coach's side and the coachees concerned talk on an action
(`check_comment`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from c2p.errors import Refused  # the one refusal type; c2p.entrypoints maps it to HTTP

# The statuses are the API's (one definition, also documented there).
from c2p.api.plans import ACTION_STATUSES, CLOSED, OPEN, PLAN_STATUSES  # noqa: F401

DTC = "dtc"  # the centre's technical director answers for what nobody else does

EDITORS = ("coach", "admin")  # may reword, re-date, re-assign, add, drop, review
COACHEE = "coachee"


# --- building ------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedAction:
    position: int
    item_code: str
    text_fr: str
    text_en: str
    verification_fr: str
    verification_en: str
    responsible_role: str
    owner_id: str | None
    due_date: date
    critical: bool
    points_lost: float
    carried_over: str | None = None  # id of the still-open action this gap reuses


def choose_owner(role: str, coachees: list[dict], dtc_id: str | None = None) -> str | None:
    """The coachee present whose role matches, else the DTC present, else the
    facility's DTC account (`dtc_id`); staff without an account are skipped."""
    reachable = [c for c in coachees if c.get("account", True)]
    for wanted in (role, DTC):
        for coachee in reachable:
            if coachee.get("role") == wanted:
                return coachee["id"]
    return dtc_id


def plan_actions(gaps: list[dict], coachees: list[dict], visit_day: date,
                 open_by_item: dict | None = None,
                 dtc_id: str | None = None) -> list[PlannedAction]:
    """The plan's actions in order; `open_by_item` maps item code -> open action id;
    `dtc_id`: who answers when nobody present with an account does."""
    open_by_item = open_by_item or {}
    # sorted() is stable: equal gaps keep the checklist's order.
    ordered = sorted(gaps, key=lambda gap: (not gap["critical"], -gap["points_lost"]))
    return [
        PlannedAction(
            position=position, item_code=gap["item_code"],
            text_fr=gap["action"]["text_fr"], text_en=gap["action"]["text_en"],
            verification_fr=gap["action"].get("verification_fr", ""),
            verification_en=gap["action"].get("verification_en", ""),
            responsible_role=gap["action"]["responsible_role"],
            owner_id=choose_owner(gap["action"]["responsible_role"], coachees, dtc_id),
            due_date=visit_day + timedelta(days=gap["action"]["delay_days"]),
            critical=gap["critical"], points_lost=gap["points_lost"],
            carried_over=open_by_item.get(gap["item_code"]))
        for position, gap in enumerate(ordered, start=1)
    ]


# --- plan life cycle ---------------------------------------------------------------

def party(role: str) -> str | None:
    """Which side of the agreement a role confirms for."""
    if role in EDITORS:
        return "coach"
    if role == COACHEE:
        return "coachee"
    return None


def check_agreement(status: str, role: str, is_coachee_of_plan: bool,
                    already_confirmed: set[str]) -> str | None:
    """The party the caller confirms for, or None when it already did (a retried sync).

    Raises Refused when the caller may not confirm or the plan is past agreement."""
    side = party(role)
    if side is None:
        raise Refused("forbidden", f"the role {role} cannot agree a plan",
                      message_fr=f"le rôle {role} ne permet pas de valider un plan")
    if side == "coachee" and not is_coachee_of_plan:
        raise Refused("forbidden", "only a coachee of this plan can agree it", "coachees",
                      "seul un agent concerné par ce plan peut le valider")
    if side in already_confirmed:
        return None
    if status != "draft":
        raise Refused("conflict", f"the plan is already {status}; it cannot be agreed again")
    return side


def derive_plan_status(agreed: bool, statuses: list[str]) -> str:
    """A plan's status follows from its agreement and its actions' statuses."""
    if not agreed:
        return "draft"
    if all(s in CLOSED for s in statuses):
        return "completed"  # (a plan with no action completes when agreed)
    if any(s != "todo" for s in statuses):
        return "in_progress"
    return "agreed"


# --- action life cycle ------------------------------------------------------------

# (from, to) -> who may: "editor" (coach/admin) or "doer" (also the coachees concerned)
TRANSITIONS = {
    ("todo", "in_progress"): "doer",
    ("in_progress", "awaiting_review"): "doer",
    ("awaiting_review", "in_progress"): "editor",  # sent back after review
    ("awaiting_review", "done"): "editor",
    ("todo", "dropped"): "editor",
    ("in_progress", "dropped"): "editor",
    ("awaiting_review", "dropped"): "editor",
}


def check_transition(current: str, target: str, role: str, is_coachee_concerned: bool,
                     plan_status: str, reason: str = "") -> None:
    """Raise Refused unless `role` may move an action from `current` to `target`."""
    if target not in ACTION_STATUSES:
        raise Refused("invalid", f"unknown status {target!r}; expected one of "
                      + ", ".join(ACTION_STATUSES), "status")
    if current == target:
        raise Refused("conflict", f"the action is already {current}")
    if current in CLOSED:
        raise Refused("conflict", f"the action is {current}; it cannot change any more")
    who = TRANSITIONS.get((current, target))
    if who is None:
        allowed = sorted(t for (f, t) in TRANSITIONS if f == current)
        raise Refused("conflict", f"an action cannot go from {current} to {target}; "
                      f"from {current} it can go to {', '.join(allowed)}")
    if role not in EDITORS and not (who == "doer" and role == COACHEE and is_coachee_concerned):
        raise Refused("forbidden", f"the role {role} cannot move an action from {current} "
                      f"to {target}", message_fr=f"le rôle {role} ne permet pas de faire "
                      f"passer une action de {current} à {target}")
    if plan_status == "draft" and target != "dropped":
        raise Refused("conflict", "the plan is not agreed yet: agree it before starting actions")
    if target == "dropped" and not (reason or "").strip():
        raise Refused("invalid", "a reason is required to drop an action", "reason")


def check_editable(status: str, role: str) -> None:
    if role not in EDITORS:
        raise Refused("forbidden", f"the role {role} cannot change actions",
                      message_fr=f"le rôle {role} ne permet pas de modifier les actions")
    if status in CLOSED:
        raise Refused("conflict", f"the action is {status}; it cannot be changed any more")


def check_due_date(visit_day: date, due: date) -> None:
    """An action cannot be due before the visit that found it."""
    if due < visit_day:
        raise Refused("invalid", f"must not be before the visit ({visit_day.isoformat()})",
                      "due_date")


def change_action(action, changes: dict) -> dict:
    """Apply a coach's edits to an action; return the previous value of each field
    that really changed. A new due date deserves its own alerts."""
    before = {}
    for name, value in changes.items():
        if getattr(action, name) != value:
            before[name] = getattr(action, name)
            setattr(action, name, value)
    if "due_date" in before:
        action.alert_state = "none"
    return before


def move_action(action, target: str, at: datetime, comment: str = "",
                reason: str = "") -> str:
    """Put an action in its new status (the move was checked by `check_transition`
    or `review_outcome`); return the status it had."""
    previous = action.status
    action.status = target
    if comment:
        action.comment = comment
    if target == "in_progress" and action.started_at is None:
        action.started_at = at
    if target in CLOSED:
        action.closed_at = at
        if target == "dropped":
            action.drop_reason = reason
        else:
            action.late = is_late(action.due_date, at.date())
    return previous


def verify(action, at: datetime, submission_id) -> str:
    """Close an open action as done, verified by a later visit that found its item
    passing (whatever its status: the visit saw the result); return its status before.
    Lateness counts from the visit's day."""
    previous = move_action(action, "done", at)
    action.verified_by_submission_id = submission_id
    return previous


def verifiable(actions_by_item: dict, passed_items) -> list:
    """The open actions a visit verifies: those whose item it found passing."""
    passed = set(passed_items or ())
    return [action for item, action in sorted(actions_by_item.items()) if item in passed]


# --- comments -------------------------------------------------------------------------

COMMENTERS = ("coach", "champion", "admin")  # the coach's side; coachees when concerned


def check_comment(role: str, is_coachee_concerned: bool) -> None:
    """Raise Refused unless a caller of `role` may comment on the action."""
    if role in COMMENTERS:
        return
    if role == COACHEE and is_coachee_concerned:
        return
    if role == COACHEE:
        raise Refused("forbidden", "only the coachees of this plan can comment on its actions",
                      "coachees", "seuls les agents concernés par ce plan peuvent commenter "
                      "ses actions")
    raise Refused("forbidden", f"the role {role} cannot comment on actions",
                  message_fr=f"le rôle {role} ne permet pas de commenter les actions")


def comment_side(role: str) -> str:
    """Which side of the conversation a role speaks for (the other side is alerted)."""
    return "coachee" if role == COACHEE else "coach"


@dataclass(frozen=True)
class ReviewOutcome:
    """What a reviewed piece of evidence does to its action."""
    target: str | None  # new status, or None: nothing changes
    comment: str = ""


def review_outcome(current: str, decision: str, comment: str = "") -> ReviewOutcome:
    """Approved evidence completes an open action; rejected or 'needs more' sends it
    back to in_progress with the coach's comment. Closed actions stay as they are."""
    if current in CLOSED:
        return ReviewOutcome(None)
    if decision == "approved":
        return ReviewOutcome("done", comment)
    if current == "in_progress":
        return ReviewOutcome(None, comment)  # already being worked on: keep the comment
    return ReviewOutcome("in_progress", comment)


def is_late(due_date: date, done_on: date) -> bool:
    return done_on > due_date


# --- time ---------------------------------------------------------------------------

def alert_for(status: str, due_date: date, alert_state: str, today: date,
              window_days: int) -> str | None:
    """The alert an action needs now ('due_soon' or 'overdue'), or None.

    `alert_state` is the last alert sent: each alert goes once per action and state."""
    if status not in OPEN:
        return None
    if due_date < today:
        return "overdue" if alert_state != "overdue" else None
    if due_date <= today + timedelta(days=window_days) and alert_state == "none":
        return "due_soon"
    return None


# --- progress -----------------------------------------------------------------------

def progress_row(key, label, facility_path, done, open, overdue, dropped,
                 median_days) -> dict:
    """One group's progress figures. A dropped action is neither done nor owed, so it
    stays out of the percentage; nothing to do reads as 0 %."""
    total = done + open + dropped
    counted = total - dropped
    return {
        "key": key, "label": label, "facility_path": facility_path,
        "done": done, "open": open, "overdue": overdue, "dropped": dropped, "total": total,
        "percent_done": round(100.0 * done / counted, 1) if counted else 0.0,
        "median_days_to_close": round(float(median_days), 1) if median_days is not None
        else None,
    }


def district_path(facility_path: str) -> str:
    """The district a facility lies in: its path without the last segment."""
    return facility_path.rstrip("/").rsplit("/", 1)[0] or "/"
