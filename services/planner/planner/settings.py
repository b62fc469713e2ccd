"""The planner's own settings, from the environment (the platform's are in c2p.config).

PLANNER_DUE_SOON_DAYS      how many days before its due date an action is "due soon" (3)
PLANNER_ALERT_INTERVAL_S   how often the due-date sweep runs, in seconds (60)
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from c2p.config import ConfigError


@dataclass(frozen=True)
class PlannerSettings:
    due_soon_days: int = 3
    alert_interval_s: float = 60


def _number(env, name, default, minimum, cast):
    raw = str(env.get(name, default)).strip()
    try:
        value = cast(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw} must be at least {minimum}")
    return value


def load(env=None) -> PlannerSettings:
    env = os.environ if env is None else env
    return PlannerSettings(
        due_soon_days=_number(env, "PLANNER_DUE_SOON_DAYS", 3, 0, int),
        alert_interval_s=_number(env, "PLANNER_ALERT_INTERVAL_S", 60, 0.1, float))
