"""What every C2P service has: its database unit of work and the outbox relay."""
import logging

from c2p.entrypoints import timer
from c2p.database import Database

log = logging.getLogger(__name__)


class PlatformService:
    """Base class of every service; subclasses set `name` and their entrypoints."""

    db = Database()

    @timer("outbox_interval_s")
    def relay_outbox(self):
        # Only rows older than a few seconds: younger ones are still being
        # published by the worker that wrote them.
        sent = self.db.relay_outbox(min_age_s=3)
        if sent:
            log.warning("outbox relay published %d left-behind events", sent)

    @timer(3600)
    def purge_outbox(self):
        self.db.purge_published(older_than_days=7)
