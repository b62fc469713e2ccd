"""Throwaway environments for tests, benchmarks and fault runs.

A sandbox is a RabbitMQ vhost of its own plus fresh, migrated and seeded
databases (`c2p_<prefix>_<service>`), so a run never sees another run's
messages or rows, and a stray consumer on the same broker cannot steal them.

Their names carry the id of the process that made them (`owned_name`), so a run
that was killed before it could clean up leaves nothing for long: the next run
on the same machine removes what belongs to dead processes (`remove_orphans`).
Left alone, such vhosts pile up idle quorum queues and stored messages on the
shared broker, and their databases fill the disk both servers write to.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from sqlalchemy import create_engine, text

from c2p import config
from c2p.config import SERVICES
from c2p.database import driver_url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def owned_name(kind: str) -> str:
    """`<kind>_<pid>_<random>`: a throwaway name that says which process owns it.
    Vhosts are `c2p-` and databases `c2p_` followed by it (hyphens for underscores
    in vhosts); `remove_orphans` parses it back."""
    return f"{kind}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def owned_vhost(kind: str) -> str:
    """A vhost name of `owned_name`'s form: `c2p-<kind>-<pid>-<random>`."""
    return "c2p-" + owned_name(kind).replace("_", "-")


# What owned_name makes, as a vhost and as a database; and the names an earlier
# version made (no process id: always a dead run's once this code runs).
OWNED_VHOST = re.compile(r"^c2p-[a-z]+-(\d+)-[0-9a-f]{8}$")
OWNED_DATABASE = re.compile(r"^c2p_[a-z]+_(\d+)_[0-9a-f]{8}_[a-z]+$")
OLD_VHOST = re.compile(r"^c2p-[a-z]+-[0-9a-f]{6,10}$")
OLD_DATABASE = re.compile(r"^c2p_[a-z]+[0-9a-f]{8}_[a-z]+$")


def _orphan(name: str, owned: re.Pattern, old: re.Pattern) -> bool:
    found = owned.match(name)
    if found:
        try:
            os.kill(int(found.group(1)), 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, someone else's
            return False
        return False
    return bool(old.match(name))


def _local(url: str) -> bool:
    return (urlsplit(url).hostname or "localhost") in ("localhost", "127.0.0.1", "::1")


def remove_orphans(amqp_base: str, postgres: str, rabbit_api=None) -> tuple[int, int]:
    """Delete the sandbox vhosts and databases on this machine's servers whose owner
    process is dead; (vhosts, databases) removed. Servers elsewhere are left alone:
    a process id means nothing on another host."""
    vhosts = databases = 0
    if _local(amqp_base) and not rabbit_api and shutil.which("rabbitmqctl"):
        listed = subprocess.run(["rabbitmqctl", "-q", "list_vhosts", "--no-table-headers"],
                                capture_output=True, text=True, timeout=60)
        manager = Vhosts(amqp_base)
        for name in listed.stdout.split():
            if _orphan(name, OWNED_VHOST, OLD_VHOST):
                manager.delete(name)
                vhosts += 1
    if _local(postgres):
        server = urlsplit(postgres)
        admin = create_engine(driver_url(urlunsplit((server.scheme, server.netloc, "/postgres",
                                                     "", ""))), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                names = conn.execute(text("select datname from pg_database")).scalars().all()
                for name in names:
                    if _orphan(name, OWNED_DATABASE, OLD_DATABASE):
                        conn.execute(text(f'drop database if exists "{name}" with (force)'))
                        databases += 1
        finally:
            admin.dispose()
    return vhosts, databases


def wait_port(host, port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {host}:{port} after {seconds}s")


class Vhosts:
    """Creates and deletes RabbitMQ vhosts: management API if given, else rabbitmqctl."""

    def __init__(self, base_uri, api=None):
        self.base_uri, self.api = base_uri, api
        if not api and not shutil.which("rabbitmqctl"):
            raise RuntimeError("need the RabbitMQ management API or rabbitmqctl to make vhosts")

    def create(self, name) -> str:
        user = urlsplit(self.base_uri).username or "guest"
        if self.api:
            requests.put(f"{self.api}/api/vhosts/{quote(name, safe='')}",
                         timeout=10).raise_for_status()
            requests.put(f"{self.api}/api/permissions/{quote(name, safe='')}/{user}",
                         json={"configure": ".*", "write": ".*", "read": ".*"},
                         timeout=10).raise_for_status()
        else:
            subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True,
                           capture_output=True)
            subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, user,
                            ".*", ".*", ".*"], check=True, capture_output=True)
        parts = urlsplit(self.base_uri)
        return urlunsplit((parts.scheme, parts.netloc, "/" + quote(name, safe=""), "", ""))

    def delete(self, name):
        if self.api:
            requests.delete(f"{self.api}/api/vhosts/{quote(name, safe='')}", timeout=10)
        else:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)


def database_urls(server_url: str, prefix: str) -> dict:
    server = urlsplit(server_url)
    return {service: urlunsplit((server.scheme, server.netloc, f"/c2p_{prefix}_{service}",
                                 "", "")) for service in SERVICES}


def create_databases(urls: dict, env: dict) -> None:
    """Create, migrate and seed every service database (seeding in a subprocess,
    as the real command runs)."""
    from c2p import migrate
    for service, url in urls.items():
        migrate.upgrade(service, url)
    subprocess.run([sys.executable, "-m", "c2p.seed"], env=env, check=True, cwd=ROOT,
                   capture_output=True)


def drop_databases(urls: dict) -> None:
    any_url = urlsplit(next(iter(urls.values())))
    admin = create_engine(driver_url(urlunsplit((any_url.scheme, any_url.netloc, "/postgres",
                                                 "", ""))), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for url in urls.values():
            name = urlsplit(url).path.lstrip("/")
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def process_env(database_urls: dict, amqp_uri: str, s3, **extra) -> dict:
    """Environment variables for a C2P process of a sandbox."""
    endpoint, access, secret = s3
    # What the sandbox sets wins over what the caller's environment holds, under
    # either name of a renamed variable (c2p.config.RENAMED).
    env = config.renamed(dict(os.environ))
    env.update({f"C2P_{s.upper()}_DATABASE_URL": url for s, url in database_urls.items()})
    env.update({"C2P_AMQP_URI": amqp_uri, "C2P_S3_ENDPOINT": endpoint,
                "C2P_S3_ACCESS_KEY": access, "C2P_S3_SECRET_KEY": secret,
                "C2P_EVIDENCE_BUCKET": "c2p-test-evidence",
                "C2P_RETRY_DELAYS_S": "0.15,0.3", "C2P_OUTBOX_INTERVAL_S": "1",
                # No fixed ops port: many processes share this host
                # (LocalPlatform gives each a free one).
                "C2P_METRICS_PORT": "0",
                "PYTHONWARNINGS": "ignore", "C2P_STRICT_VIEWS": "true"})
    env.update(config.renamed({k: str(v) for k, v in extra.items()}))
    return env


def start_s3_server():
    """A local S3-compatible server (moto) on a free port: (process, (endpoint, key, secret))."""
    port = free_port()
    moto = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"),
                             "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port("127.0.0.1", port)
    return moto, (f"127.0.0.1:{port}", "c2p-test", "c2p-test-secret")


class Sandbox:
    """A vhost and fresh databases on the given servers; `close()` removes both."""

    def __init__(self, amqp_base: str, postgres: str, s3, rabbit_api=None, prefix="sb",
                 vhosts=None):
        # `vhosts`: anything with create(name) -> AMQP URI and delete(name), e.g.
        # a c2p.rabbit_cluster.RabbitCluster; by default, vhosts on amqp_base.
        self.vhosts = vhosts or Vhosts(amqp_base, rabbit_api)
        self.name = owned_vhost(prefix)
        self.amqp_uri = self.vhosts.create(self.name)
        self.database_urls = database_urls(postgres, owned_name(prefix))
        self.s3 = s3
        create_databases(self.database_urls, self.env())

    def env(self, **extra) -> dict:
        return process_env(self.database_urls, self.amqp_uri, self.s3, **extra)

    def close(self):
        drop_databases(self.database_urls)
        self.vhosts.delete(self.name)


def query(database_url: str, sql: str) -> list:
    """Every row of one SQL query on a sandbox database (for checks after a run)."""
    engine = create_engine(driver_url(database_url))
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).all()
    finally:
        engine.dispose()


class EventListener:
    """A private queue bound to c2p.events, consumed in a green thread.

    Subclasses handle each message in `on_message(body, message)` (and ack it).
    The queue is exclusive: the broker deletes it when `close()` drops the
    connection. It is declared before the constructor returns, so no event
    published afterwards is missed.
    """

    def __init__(self, amqp_uri: str, routing_keys=("#",), prefetch: int = 500):
        import eventlet
        from kombu import Connection, Queue, binding
        from c2p import topology
        self.stopped = False
        self.connection = Connection(amqp_uri)
        self.queue = Queue(f"sandbox-listener-{uuid.uuid4().hex[:8]}", exclusive=True,
                           bindings=[binding(topology.EVENTS_EXCHANGE, routing_key=key)
                                     for key in routing_keys])
        self.queue(self.connection.default_channel).declare()
        self.prefetch = prefetch
        self.thread = eventlet.spawn(self._run)

    def on_message(self, body, message):
        raise NotImplementedError

    def _run(self):
        with self.connection.Consumer(self.queue, callbacks=[self.on_message],
                                      accept=["json"]) as consumer:
            consumer.qos(prefetch_count=self.prefetch)
            while not self.stopped:
                try:
                    self.connection.drain_events(timeout=0.5)
                except TimeoutError:
                    continue

    def close(self):
        self.stopped = True
        self.thread.wait()
        self.connection.release()
