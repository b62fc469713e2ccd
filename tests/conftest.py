"""Test infrastructure shared by every tier.

Real services, never fakes, for anything that crosses a connection:

- with a Docker engine, testcontainers start RabbitMQ (with management),
  PostgreSQL and MinIO for the run;
- without one (as on the build machines), the local RabbitMQ and PostgreSQL are
  used (override with C2P_TEST_AMQP_URI, C2P_TEST_DATABASE_URL) and a local S3
  server (moto) is started on a free port (or C2P_TEST_S3_ENDPOINT is used).

Each test run gets fresh databases (`c2p_t<random>_<service>`, migrated, seeded,
dropped at the end) and each test that touches the bus its own RabbitMQ vhost,
so a stray `nameko run` on the same broker cannot steal a test's messages.
"""
from c2p.greening import green

green()  # first: without it, container tests hang (STYLE.md, "Known traps")

import os  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from urllib.parse import quote, urlsplit, urlunsplit  # noqa: E402

import pytest  # noqa: E402
import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from c2p.config import SERVICES, load_settings  # noqa: E402
from c2p.database import driver_url  # noqa: E402

from support import ROOT, free_port  # noqa: E402
REFERENCE_TABLES = {"alembic_version", "org_units", "template_versions", "accounts"}


def docker_available() -> bool:
    if os.environ.get("C2P_TEST_NO_DOCKER"):
        return False
    try:
        import docker
        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


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
    """Creates and deletes RabbitMQ vhosts: management API if known, else rabbitmqctl."""

    def __init__(self, base_uri, api=None):
        self.base_uri, self.api = base_uri, api

    def create(self, name):
        if self.api:
            requests.put(f"{self.api}/api/vhosts/{quote(name, safe='')}", timeout=10).raise_for_status()
            user = urlsplit(self.base_uri).username or "guest"
            requests.put(f"{self.api}/api/permissions/{quote(name, safe='')}/{user}",
                         json={"configure": ".*", "write": ".*", "read": ".*"},
                         timeout=10).raise_for_status()
        else:
            subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True,
                           capture_output=True)
            subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name,
                            urlsplit(self.base_uri).username or "guest", ".*", ".*", ".*"],
                           check=True, capture_output=True)
        parts = urlsplit(self.base_uri)
        return urlunsplit((parts.scheme, parts.netloc, "/" + quote(name, safe=""), "", ""))

    def delete(self, name):
        if self.api:
            requests.delete(f"{self.api}/api/vhosts/{quote(name, safe='')}", timeout=10)
        else:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)


@pytest.fixture(scope="session")
def infra():
    """Where the broker, the database server and the S3 server are for this run."""
    stack = []
    found = {}
    if docker_available():
        from testcontainers.minio import MinioContainer
        from testcontainers.postgres import PostgresContainer
        from testcontainers.rabbitmq import RabbitMqContainer
        rabbit = RabbitMqContainer("rabbitmq:3.13-management").with_exposed_ports(5672, 15672)
        postgres = PostgresContainer("postgres:16", driver=None)
        minio = MinioContainer("minio/minio:latest")
        for container in (rabbit, postgres, minio):
            container.start()
            stack.append(container)
        host = rabbit.get_container_host_ip()
        found["amqp"] = f"amqp://guest:guest@{host}:{rabbit.get_exposed_port(5672)}/"
        found["rabbit_api"] = f"http://guest:guest@{host}:{rabbit.get_exposed_port(15672)}"
        found["postgres"] = postgres.get_connection_url()
        config = minio.get_config()
        found["s3"] = (config["endpoint"], config["access_key"], config["secret_key"])
    else:
        found["amqp"] = os.environ.get("C2P_TEST_AMQP_URI", "amqp://guest:guest@localhost:5672/")
        found["rabbit_api"] = os.environ.get("C2P_TEST_RABBIT_API")
        if not found["rabbit_api"] and not shutil.which("rabbitmqctl"):
            pytest.exit("no Docker, no C2P_TEST_RABBIT_API and no rabbitmqctl: "
                        "cannot make per-test vhosts", 2)
        found["postgres"] = os.environ.get("C2P_TEST_DATABASE_URL",
                                           "postgresql://postgres@localhost:5432/postgres")
        endpoint = os.environ.get("C2P_TEST_S3_ENDPOINT")
        if endpoint:
            found["s3"] = (endpoint, os.environ.get("C2P_TEST_S3_ACCESS_KEY", "c2p"),
                           os.environ.get("C2P_TEST_S3_SECRET_KEY", "c2p-secret"))
        else:
            port = free_port()
            moto = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"),
                                     "-H", "127.0.0.1", "-p", str(port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stack.append(moto)
            wait_port("127.0.0.1", port)
            found["s3"] = (f"127.0.0.1:{port}", "c2p-test", "c2p-test-secret")
    try:
        yield found
    finally:
        for item in reversed(stack):
            if isinstance(item, subprocess.Popen):
                item.terminate()
                item.wait(10)
            else:
                item.stop()


@pytest.fixture(scope="session")
def vhosts(infra):
    return Vhosts(infra["amqp"], infra["rabbit_api"])


@pytest.fixture(scope="session")
def database_urls(infra):
    """Fresh, migrated and seeded databases for this run, dropped at the end."""
    from c2p import migrate
    run_id = uuid.uuid4().hex[:8]
    server = urlsplit(infra["postgres"])
    urls = {service: urlunsplit((server.scheme, server.netloc, f"/c2p_t{run_id}_{service}",
                                 "", "")) for service in SERVICES}
    for service, url in urls.items():
        migrate.upgrade(service, url)
    env = base_env(infra, urls, amqp_uri=infra["amqp"])
    subprocess.run([sys.executable, "-m", "c2p.seed"], env=env, check=True, cwd=ROOT,
                   capture_output=True)
    yield urls
    admin = create_engine(driver_url(urlunsplit((server.scheme, server.netloc, "/postgres",
                                                 "", ""))), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for url in urls.values():
            name = urlsplit(url).path.lstrip("/")
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def base_env(infra, database_urls, amqp_uri, **extra):
    """Environment variables for a C2P process of this test run."""
    endpoint, access, secret = infra["s3"]
    env = dict(os.environ)
    env.update({f"{s.upper()}_DATABASE_URL": url for s, url in database_urls.items()})
    env.update({"AMQP_URI": amqp_uri, "S3_ENDPOINT": endpoint, "S3_ACCESS_KEY": access,
                "S3_SECRET_KEY": secret, "EVIDENCE_BUCKET": "c2p-test-evidence",
                "C2P_RETRY_DELAYS_MS": "150,300", "C2P_OUTBOX_INTERVAL_S": "1",
                "PYTHONWARNINGS": "ignore"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture
def amqp_uri(vhosts):
    """A RabbitMQ vhost of this test's own."""
    name = f"c2p-test-{uuid.uuid4().hex[:10]}"
    uri = vhosts.create(name)
    yield uri
    vhosts.delete(name)


@pytest.fixture
def clean_databases(database_urls):
    """Empty every table but the reference data (org units, templates, accounts)."""
    for url in database_urls.values():
        engine = create_engine(driver_url(url))
        with engine.begin() as conn:
            tables = [row[0] for row in conn.execute(text(
                "select tablename from pg_tables where schemaname = 'public'"))
                if row[0] not in REFERENCE_TABLES]
            if tables:
                conn.execute(text("truncate " + ", ".join(f'"{t}"' for t in tables)
                                  + " cascade"))
        engine.dispose()
    return database_urls


@pytest.fixture
def process_env(infra, clean_databases, amqp_uri):
    """Environment for a C2P process (subprocess) of this test."""
    return base_env(infra, clean_databases, amqp_uri)


@pytest.fixture
def settings(process_env):
    return load_settings(process_env)


@pytest.fixture
def engines(clean_databases):
    made = {service: create_engine(driver_url(url)) for service, url in clean_databases.items()}
    yield made
    for engine in made.values():
        engine.dispose()


@pytest.fixture
def service_config(settings):
    """nameko config for in-process containers of this test."""
    from nameko import config
    from c2p.run import nameko_settings
    values = nameko_settings(settings)
    values["WEB_SERVER_ADDRESS"] = f"127.0.0.1:{free_port()}"
    with config.patch(values, clear=True):
        yield values


@pytest.fixture
def start_service(service_config):
    """Start nameko service containers in this process; all stopped at teardown."""
    from nameko.containers import ServiceContainer
    started = []

    def start(service_cls):
        container = ServiceContainer(service_cls)
        container.start()
        started.append(container)
        return container

    yield start
    for container in reversed(started):
        container.kill() if getattr(container, "_being_killed", False) else container.stop()
