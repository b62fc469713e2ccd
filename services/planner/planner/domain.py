"""Building an improvement plan from a scored visit. Plain Python, no framework.

One SMART action per gap: the item's corrective action as the *specific* text,
its verification as the *measure*, an owner among the coachees present whose
role matches (else the centre's technical director), and a due date from the
item's usual delay (*time-bound*). Critical gaps come first, then by points lost.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

DTC = "dtc"  # the centre's technical director answers for what nobody else does


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


def choose_owner(role: str, coachees: list[dict]) -> str | None:
    for wanted in (role, DTC):
        for coachee in coachees:
            if coachee.get("role") == wanted:
                return coachee["id"]
    return None


def plan_actions(gaps: list[dict], coachees: list[dict], visit_day: date) -> list[PlannedAction]:
    ordered = sorted(gaps, key=lambda gap: (not gap["critical"], -gap["points_lost"]))
    return [
        PlannedAction(
            position=position, item_code=gap["item_code"],
            text_fr=gap["action"]["text_fr"], text_en=gap["action"]["text_en"],
            verification_fr=gap["action"].get("verification_fr", ""),
            verification_en=gap["action"].get("verification_en", ""),
            responsible_role=gap["action"]["responsible_role"],
            owner_id=choose_owner(gap["action"]["responsible_role"], coachees),
            due_date=visit_day + timedelta(days=gap["action"]["delay_days"]),
            critical=gap["critical"], points_lost=gap["points_lost"])
        for position, gap in enumerate(ordered, start=1)
    ]
