"""What every C2P service has: its database unit of work, the outbox relay, and
what operators watch (log context, metrics of its queues and outbox)."""
import logging

from kombu import Connection
from nameko import config
from nameko.extensions import DependencyProvider

from c2p import logs, metrics, topology
from c2p.entrypoints import timer
from c2p.database import Database

log = logging.getLogger(__name__)


class BusTopology(DependencyProvider):
    """Declares the whole bus topology when the service starts (before it consumes
    or publishes), so no event is ever sent to an exchange with no queue bound."""

    def start(self):
        settings = config["C2P_SETTINGS"]
        with Connection(config["AMQP_URI"]) as connection:
            topology.declare(connection, settings.retry_delays_ms, topology.Shape.of(settings))

    def sample_queues(self):
        """Depth of this service's subscription and parked queues, for the gauges."""
        prefix = f"{self.container.service_name}."
        with Connection(config["AMQP_URI"]) as connection:
            channel = connection.channel()
            for name in (q for q in topology.SUBSCRIPTIONS if q.startswith(prefix)):
                metrics.QUEUE_WAITING.labels(name).set(
                    channel.queue_declare(name, passive=True).message_count)
                metrics.PARKED_WAITING.labels(name).set(
                    channel.queue_declare(f"{name}.parked", passive=True).message_count)
            channel.close()

    def get_dependency(self, worker_ctx):
        return self


class Observability(DependencyProvider):
    """Per worker: the log context (correlation id) and the start time for metrics."""

    def worker_setup(self, worker_ctx):
        logs.enter(worker_ctx)
        metrics.worker_started(worker_ctx)

    def worker_teardown(self, worker_ctx):
        metrics.forget(worker_ctx)
        logs.leave()


class PlatformService:
    """Base class of every service; subclasses set `name` and their entrypoints."""

    topology = BusTopology()
    observability = Observability()
    db = Database()

    @timer("outbox_interval_s")
    def relay_outbox(self):
        # Only rows older than a few seconds: younger ones are still being
        # published by the worker that wrote them.
        sent = self.db.relay_outbox(min_age_s=3)
        if sent:
            metrics.OUTBOX_RELAYED.labels(self.name).inc(sent)
            log.warning("outbox relay published %d left-behind events", sent)

    @timer(15)
    def sample_backlogs(self):
        pending, lag = self.db.outbox_backlog()
        metrics.OUTBOX_PENDING.labels(self.name).set(pending)
        metrics.OUTBOX_LAG.labels(self.name).set(lag)
        self.topology.sample_queues()

    @timer(3600)
    def purge_outbox(self):
        self.db.purge_published(older_than_days=7)
