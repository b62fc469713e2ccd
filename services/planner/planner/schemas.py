"""The planner's shapes: the requests it accepts, the views its RPCs answer and the
data its events carry.

The requests live in `c2p.api.plans` (unknown fields refused), where the gateway
documents them too and dumps the views below through their documented view
schemas.
"""
from __future__ import annotations

from datetime import date, datetime

from c2p.api import page_of
from c2p.api.core import Day  # noqa: F401
from c2p.api.plans import (ActionChange, GrowNotes, MyActionFilters,  # noqa: F401
                           NewAction, NewComment, PlanFilters, ProgressQuery, StatusChange)
from c2p.clock import iso
from planner.domain import OPEN


# --- callers -----------------------------------------------------------------------

def caller(value) -> dict:
    """The caller dict; a bare scope list (older callers) reads as an anonymous reader."""
    if isinstance(value, dict):
        return {"id": value.get("id"), "role": value.get("role"),
                "scope": list(value.get("scope") or [])}
    return {"id": None, "role": None, "scope": list(value or [])}


# --- views: what the RPCs answer ---------------------------------------------------


def plain(value):
    """A history detail as JSON: dates as ISO text."""
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _confirmation(by, at):
    return {"by": by, "at": at.isoformat()} if by else None


def plan_view(plan, today: date) -> dict:
    return {
        "id": str(plan.id), "submission_id": str(plan.submission_id),
        "facility_id": plan.facility_id, "facility_name": plan.facility_name,
        "facility_path": plan.facility_path,
        "coach_id": plan.coach_id, "coachees": plan.coachees, "status": plan.status,
        "created_at": plan.created_at.isoformat(),
        "visited_at": plan.visited_at.isoformat() if plan.visited_at else None,
        "agreement": {
            "coach": _confirmation(plan.coach_agreed_by, plan.coach_agreed_at),
            "coachee": _confirmation(plan.coachee_agreed_by, plan.coachee_agreed_at),
            "agreed_at": iso(plan.agreed_at)},
        "completed_at": iso(plan.completed_at),
        "grow": {"goal": plan.grow_goal, "reality": plan.grow_reality,
                 "options": plan.grow_options, "will": plan.grow_will},
        "actions": [action_view(entry, today) for entry in plan.entries],
    }


def action_view(entry, today: date) -> dict:
    a = entry.action
    return {
        "id": str(a.id), "position": entry.position, "item_code": a.item_code,
        "text_fr": a.text_fr, "text_en": a.text_en,
        "verification_fr": a.verification_fr, "verification_en": a.verification_en,
        "responsible_role": a.responsible_role, "owner_id": a.owner_id,
        "due_date": a.due_date.isoformat(), "critical": a.critical,
        "points_lost": a.points_lost, "status": a.status, "source": a.source,
        "recurring": a.recurring, "carried_over": entry.carried_over,
        "origin_plan_id": str(a.origin_plan_id) if a.origin_plan_id else None,
        "comment": a.comment, "drop_reason": a.drop_reason, "late": a.late,
        "overdue": a.status in OPEN and a.due_date < today,
        "created_at": iso(a.created_at), "started_at": iso(a.started_at),
        "closed_at": iso(a.closed_at),
        "verified_by_submission_id": _str(a.verified_by_submission_id),
    }


def _str(value):
    return str(value) if value is not None else None


def my_action_view(action, plan, comments: int, caller_id, today: date) -> dict:
    """One line of a person's action list, with what it belongs to."""
    overdue = action.status in OPEN and action.due_date < today
    return {
        "id": str(action.id), "plan_id": str(plan.id), "plan_status": plan.status,
        "submission_id": str(plan.submission_id), "facility_id": plan.facility_id,
        "facility_name": plan.facility_name, "item_code": action.item_code,
        "text_fr": action.text_fr, "text_en": action.text_en,
        "verification_fr": action.verification_fr, "verification_en": action.verification_en,
        "owner_id": action.owner_id,
        "relation": "owner" if action.owner_id == caller_id else "coach",
        "status": action.status, "due_date": action.due_date.isoformat(),
        "critical": action.critical, "overdue": overdue,
        "days_late": (today - action.due_date).days if overdue else None,
        "days_left": (action.due_date - today).days
        if action.status in OPEN and not overdue else None,
        "comments": comments,
        "verified_by_submission_id": _str(action.verified_by_submission_id),
        "closed_at": iso(action.closed_at),
    }


def my_actions_page(total, page, per_page, rows, caller_id, today: date) -> dict:
    return {"total": total, "page": page, "per_page": per_page,
            "items": [my_action_view(a, p, n, caller_id, today) for a, p, n in rows]}


def comment_view(comment) -> dict:
    return {"id": str(comment.id), "action_id": str(comment.action_id),
            "plan_id": str(comment.plan_id), "author_id": comment.author_id,
            "author_role": comment.author_role, "text": comment.text,
            "created_at": comment.created_at.isoformat()}


def plan_summary(plan, today: date) -> dict:
    statuses = [(e.action.status, e.action.due_date) for e in plan.entries]
    return {
        "id": str(plan.id), "submission_id": str(plan.submission_id),
        "facility_id": plan.facility_id, "facility_name": plan.facility_name,
        "facility_path": plan.facility_path, "coach_id": plan.coach_id,
        "status": plan.status, "created_at": plan.created_at.isoformat(),
        "visited_at": iso(plan.visited_at),
        "actions": {"total": len(statuses),
                    "done": sum(1 for s, _ in statuses if s == "done"),
                    "dropped": sum(1 for s, _ in statuses if s == "dropped"),
                    "open": sum(1 for s, _ in statuses if s in OPEN),
                    "overdue": sum(1 for s, d in statuses if s in OPEN and d < today)},
    }


def plan_page(total, page, per_page, plans, today: date) -> dict:
    return page_of([plan_summary(plan, today) for plan in plans], total, page, per_page)


def history_view(plan, rows) -> dict:
    return {"plan_id": str(plan.id), "items": [{
        "at": row.at.isoformat(), "actor_id": row.actor_id, "change": row.change,
        "action_id": str(row.action_id) if row.action_id else None,
        "plan_id": str(row.plan_id), "details": row.details} for row in rows]}


def added_action_view(action, plan, today: date, replayed: bool) -> dict:
    return {"replayed": replayed, "action_id": str(action.id),
            "plan": plan_view(plan, today)}


# --- event data: what the planner's events carry -------------------------------------

def plan_ref(plan) -> dict:
    return {"plan_id": plan.id, "facility_id": plan.facility_id,
            "facility_name": plan.facility_name, "facility_path": plan.facility_path,
            "coach_id": plan.coach_id, "coachee_ids": plan.coachee_ids}


def action_ref(action, plan) -> dict:
    return {**plan_ref(plan), "action_id": action.id, "item_code": action.item_code,
            "text_fr": action.text_fr, "text_en": action.text_en,
            "owner_id": action.owner_id, "due_date": action.due_date,
            "status": action.status}


def plan_created(plan) -> dict:
    return {
        **plan_ref(plan), "submission_id": plan.submission_id,
        "visited_at": plan.visited_at,
        "actions": [{"action_id": e.action.id, "item_code": e.action.item_code,
                     "text_fr": e.action.text_fr, "text_en": e.action.text_en,
                     "owner_id": e.action.owner_id,
                     "owner_role": e.action.responsible_role,
                     "due_date": e.action.due_date, "critical": e.action.critical,
                     "status": e.action.status, "recurring": e.carried_over}
                    for e in plan.entries],
    }


def status_change(action, plan, previous: str, actor: str, at, comment: str) -> dict:
    """One status change: the data of `action.status_changed`, and an item of
    `actions.status_changed`."""
    return {**action_ref(action, plan), "from_status": previous, "changed_by": actor,
            "changed_at": at, "comment": comment, "late": action.late, "batched": True}


def status_changes(changes: list[dict], visit: dict | None = None) -> dict:
    """`actions.status_changed`: every change of one operation (`visit`: the
    follow-up visit that verified them)."""
    return {"changes": changes,
            "submission_id": visit["submission_id"] if visit else None,
            "visited_at": visit["visited_at"] if visit else None}


def action_verified(action, plan, visit: dict, previous: str) -> dict:
    """`action.verified`: the action closed by the visit that found its item passing."""
    return {**action_ref(action, plan), "from_status": previous,
            "submission_id": visit["submission_id"], "visited_at": visit["visited_at"],
            "verified_by": visit["coach_id"], "late": action.late, "batched": True}


def action_commented(action, plan, comment) -> dict:
    return {**action_ref(action, plan), "comment_id": comment.id,
            "author_id": comment.author_id, "author_role": comment.author_role,
            "text": comment.text, "commented_at": comment.created_at}


def action_alert(action, plan, alert: str, today: date) -> dict:
    """`action.due_soon` or `action.overdue`."""
    data = action_ref(action, plan)
    if alert == "overdue":
        data["days_late"] = (today - action.due_date).days
    else:
        data["days_left"] = (action.due_date - today).days
    return data
