"""What the planner's workers are given besides the database: the clock.

"Today" decides what is due soon, overdue or late; tests give the service a clock
of their own (`Clock(FixedClock(...))` on a subclass) instead of waiting for days.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from planner import settings as planner_settings


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        # Mali keeps UTC all year: the UTC day is the day in Bamako.
        return self.now().date()


class FixedClock(SystemClock):
    """A clock that says what it is told (tests)."""

    def __init__(self, today: date):
        self.day = today

    def now(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 12, tzinfo=timezone.utc)

    def today(self) -> date:
        return self.day

    def advance(self, days: int):
        self.day += timedelta(days=days)


class Clock(DependencyProvider):
    def __init__(self, clock=None):
        self.clock = clock or SystemClock()

    def get_dependency(self, worker_ctx):
        return self.clock


class Settings(DependencyProvider):
    def setup(self):
        self.settings = planner_settings.load()

    def get_dependency(self, worker_ctx):
        return self.settings


class SweepTimer(Timer):
    """A timer whose interval is PLANNER_ALERT_INTERVAL_S, read when the service starts."""

    def setup(self):
        self.interval = planner_settings.load().alert_interval_s
        super().setup()


sweep_timer = SweepTimer.decorator
