"""What the planner's workers are given besides the database and the clock
(`c2p.clock`): its settings, and the timer of the due-date sweep."""
from __future__ import annotations

from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from planner import settings as planner_settings


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
