"""What every C2P service has: its database unit of work and the outbox relay."""
import logging

from kombu import Connection
from nameko import config
from nameko.extensions import DependencyProvider

from c2p import topology
from c2p.entrypoints import timer
from c2p.database import Database

log = logging.getLogger(__name__)


class BusTopology(DependencyProvider):
    """Declares the whole bus topology when the service starts (before it consumes
    or publishes), so no event is ever sent to an exchange with no queue bound."""

    def start(self):
        with Connection(config["AMQP_URI"]) as connection:
            topology.declare(connection, config["C2P_SETTINGS"].retry_delays_ms)


class PlatformService:
    """Base class of every service; subclasses set `name` and their entrypoints."""

    topology = BusTopology()
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
