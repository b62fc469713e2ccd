"""Notify's providers besides the database and the clock (`c2p.clock`): the senders."""
from __future__ import annotations

from nameko import config
from nameko.extensions import DependencyProvider

from notify.channels import Senders


class Channels(DependencyProvider):
    """E-mail and SMS/WhatsApp senders configured from settings."""

    def setup(self):
        self.senders = Senders(config["C2P_SETTINGS"])

    def get_dependency(self, worker_ctx):
        return self.senders
