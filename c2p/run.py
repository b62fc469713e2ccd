"""Run a C2P service as its own process: `python -m c2p.run <service>`.

Reads settings (stopping with a message naming a bad variable), waits for the
broker and the database to answer (a service may start before them, as in
docker compose), then runs the nameko service until SIGTERM or Ctrl-C.

`python -m c2p.run checklist planner evidence notify hmis` runs several services in
one process, for a deployment too small to give each its own (one district's
server): each keeps its own database, queues and workers, and they still talk
only through the broker, so any of them can move to a process of its own later.
"""
from c2p.greening import green

green()  # before anything imports socket or psycopg2

import argparse  # noqa: E402
import errno  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import eventlet  # noqa: E402
from kombu import Connection  # noqa: E402
from nameko import config as nameko_config  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from sqlalchemy import text  # noqa: E402

from c2p import logs, metrics  # noqa: E402
from c2p.config import ConfigError, load_settings  # noqa: E402
from c2p.database import make_engine  # noqa: E402

SERVICE_CLASSES = {
    "checklist": "checklist.service:ChecklistService",
    "planner": "planner.service:PlannerService",
    "evidence": "evidence.service:EvidenceService",
    "notify": "notify.service:NotifyService",
    "hmis": "hmis.service:HmisService",
    "gateway": "gateway.service:GatewayService",
}

log = logging.getLogger("c2p.run")


def service_class(name):
    module, _, cls = SERVICE_CLASSES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def nameko_settings(settings):
    """The nameko config for a C2P process."""
    return {
        "AMQP_URI": settings.amqp_uri,
        "C2P_SETTINGS": settings,
        "WEB_SERVER_ADDRESS": f"0.0.0.0:{settings.gateway_port}",
        "RPC_TIMEOUT": settings.rpc_timeout_s,
        "max_workers": 20,
        "PREFETCH_COUNT": 20,
        "serializer": "json",
    }


def wait_for_dependencies(settings, service, timeout_s=120):
    """Block until RabbitMQ and this service's database accept connections."""
    deadline = time.monotonic() + timeout_s
    with Connection(settings.amqp_uri) as conn:
        conn.ensure_connection(max_retries=None, interval_start=1, interval_step=1,
                               interval_max=5, timeout=timeout_s,
                               errback=lambda exc, interval: log.warning(
                                   "broker not ready (%s); retrying in %ss", exc, interval))
    engine = make_engine(settings.database_url(service), pool_size=1)
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            break
        except Exception as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("database not ready (%s); retrying", exc.__class__.__name__)
            time.sleep(2)
    engine.dispose()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("services", nargs="+", choices=sorted(SERVICE_CLASSES),
                        metavar="service", help=f"one or more of {', '.join(SERVICE_CLASSES)}")
    args = parser.parse_args(argv)
    services = list(dict.fromkeys(args.services))
    name = "+".join(services)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"c2p {name}: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(name, settings.log_format)
    if settings.metrics_port:
        # Up before the dependencies: liveness answers, readiness says what is missing.
        metrics.serve(settings.metrics_port, metrics.readiness_check(settings, services))
    for service in services:
        wait_for_dependencies(settings, service)
    nameko_config.setup(nameko_settings(settings))

    runner = ServiceRunner()
    for service in services:
        runner.add_service(service_class(service))

    def shutdown(signum, frame):
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    runner.start()
    # What start-up made (modules, schemas, statements built once) lives as long as
    # the process: frozen out of the collector's way (gc.freeze), so a full
    # collection walks only what the work allocated since, not the whole heap.
    gc.collect()
    gc.freeze()
    log.info("%s started", name)
    waiter = eventlet.spawn(runner.wait)
    while True:
        try:
            waiter.wait()
            break
        except OSError as exc:
            if exc.errno != errno.EINTR:
                raise
        except KeyboardInterrupt:
            runner.stop()
    log.info("%s stopped", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
