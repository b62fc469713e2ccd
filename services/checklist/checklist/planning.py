"""Visit planning: which facilities are due for a supervision visit. Plain Python.

A facility is due `interval_days` after its latest visit. The interval is the
template's own (`visit_interval_days` of the latest visit's template version),
else the platform setting (C2P_VISIT_INTERVAL_DAYS). A facility never visited is
due now, and comes first: the DHIS2 Supervision App was built because facilities
near good roads got all the visits, and those never visited are the ones a plan
forgets.

Order: never visited (by path), then by due date (most overdue first), then path.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

NEVER_VISITED, OVERDUE, DUE, DUE_SOON, NOT_DUE = (
    "never_visited", "overdue", "due", "due_soon", "not_due")
STATUSES = (NEVER_VISITED, OVERDUE, DUE, DUE_SOON, NOT_DUE)


def interval_of(definition: dict | None, default_days: int) -> tuple[int, str]:
    """(days, where it comes from: "template" or "setting")."""
    days = (definition or {}).get("visit_interval_days")
    if isinstance(days, int) and not isinstance(days, bool) and days > 0:
        return days, "template"
    return default_days, "setting"


def next_visit(last_visited_at: datetime | None, definition: dict | None, default_days: int,
               today: date, within_days: int = 0) -> dict:
    """When the next visit is due and how it stands today.

    `within_days`: a visit due within that many days from today is `due_soon`.
    """
    days, source = interval_of(definition, default_days)
    if last_visited_at is None:
        return {"interval_days": days, "interval_source": source, "due_on": None,
                "days_overdue": None, "status": NEVER_VISITED}
    due_on = last_visited_at.date() + timedelta(days=days)
    late = (today - due_on).days
    if late > 0:
        status = OVERDUE
    elif late == 0:
        status = DUE
    elif -late <= within_days:
        status = DUE_SOON
    else:
        status = NOT_DUE
    return {"interval_days": days, "interval_source": source, "due_on": due_on.isoformat(),
            "days_overdue": max(late, 0), "status": status}


def plan_order(row: dict):
    """Sort key of a planning row (with `status`, `due_on` and `facility_path`)."""
    never = row["status"] == NEVER_VISITED
    return (not never, row["due_on"] or "", row["facility_path"])


def is_due(row: dict) -> bool:
    return row["status"] in (NEVER_VISITED, OVERDUE, DUE, DUE_SOON)
