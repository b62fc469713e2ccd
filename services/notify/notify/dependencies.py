"""Notify's providers: the clock and the senders.

The clock is injectable so quiet hours, back-off and the digest are tested
with a controllable time: `Clock(source=fake.now)` in a subclass of the
service replaces the wall clock.
"""
from __future__ import annotations

from datetime import datetime, timezone

from nameko import config
from nameko.extensions import DependencyProvider

from notify.channels import Senders


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class _Clock:
    def __init__(self, source):
        self._source = source

    def now(self) -> datetime:
        return self._source()


class Clock(DependencyProvider):
    def __init__(self, source=None):
        self.clock = _Clock(source or utc_now)

    def get_dependency(self, worker_ctx):
        return self.clock


class Channels(DependencyProvider):
    """E-mail and SMS/WhatsApp senders configured from settings."""

    def setup(self):
        self.senders = Senders(config["C2P_SETTINGS"])

    def get_dependency(self, worker_ctx):
        return self.senders
