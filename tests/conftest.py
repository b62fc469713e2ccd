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

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy import event as sqlalchemy_event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

from c2p import sandbox  # noqa: E402
from c2p.config import load_settings  # noqa: E402
from c2p.database import driver_url  # noqa: E402
from c2p.sandbox import Vhosts, free_port, start_s3_server  # noqa: E402

REFERENCE_TABLES = {"alembic_version", "org_units", "template_versions", "accounts"}


@sqlalchemy_event.listens_for(Engine, "before_cursor_execute")
def _no_upsert_row_by_row(conn, cursor, statement, parameters, context, executemany):
    """Fail a test whose code sends an `insert … on conflict` as an executemany: with
    psycopg2 that is one round trip per row. SQLAlchemy 2.1 does so for any such
    statement without RETURNING; `c2p.database.multi_row` makes it one statement."""
    if (executemany and isinstance(parameters, (list, tuple)) and len(parameters) > 1
            and statement.lstrip()[:6].upper() == "INSERT" and "ON CONFLICT" in statement):
        raise AssertionError("an INSERT … ON CONFLICT went row by row (executemany); "
                             f"build it with c2p.database.multi_row: {statement[:120]}")


def docker_available() -> bool:
    if os.environ.get("C2P_TEST_NO_DOCKER"):
        return False
    try:
        import docker
        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


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
        found["postgres"] = os.environ.get("C2P_TEST_DATABASE_URL",
                                           "postgresql://postgres@localhost:5432/postgres")
        endpoint = os.environ.get("C2P_TEST_S3_ENDPOINT")
        if endpoint:
            found["s3"] = (endpoint, os.environ.get("C2P_TEST_S3_ACCESS_KEY", "c2p"),
                           os.environ.get("C2P_TEST_S3_SECRET_KEY", "c2p-secret"))
        else:
            moto, found["s3"] = start_s3_server()
            stack.append(moto)
        # What runs killed on this machine left (they could not clean up) goes
        # first: idle vhosts and databases cost the shared servers memory and disk.
        sandbox.remove_orphans(found["amqp"], found["postgres"], found["rabbit_api"])
    try:
        yield found
    finally:
        for item in reversed(stack):
            if hasattr(item, "terminate"):
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
    urls = sandbox.database_urls(infra["postgres"], sandbox.owned_name("t"))
    sandbox.create_databases(urls, base_env(infra, urls, amqp_uri=infra["amqp"]))
    yield urls
    sandbox.drop_databases(urls)


def base_env(infra, database_urls, amqp_uri, **extra):
    """Environment variables for a C2P process of this test run."""
    return sandbox.process_env(database_urls, amqp_uri, infra["s3"], **extra)


@pytest.fixture
def amqp_uri(vhosts):
    """A RabbitMQ vhost of this test's own."""
    name = sandbox.owned_vhost("test")
    uri = vhosts.create(name)
    yield uri
    vhosts.delete(name)


@pytest.fixture
def clean_databases(database_urls):
    """Empty every table but the reference data (org units, templates, accounts)."""
    for url in database_urls.values():
        engine = create_engine(driver_url(url))
        for attempt in range(5):
            try:
                _truncate(engine)
                break
            except DBAPIError as exc:
                # A platform of the same module may still be reading (the gateway's
                # webhook reconcile, a relay): TRUNCATE locks table after table, so
                # PostgreSQL may pick it as a deadlock's victim. Its work is undone
                # whole: simply try again.
                if attempt == 4 or getattr(exc.orig, "pgcode", None) != "40P01":
                    raise
        engine.dispose()
    return database_urls


def _truncate(engine):
    with engine.begin() as conn:
        tables = [row[0] for row in conn.execute(text(
            "select tablename from pg_tables where schemaname = 'public'"))
            if row[0] not in REFERENCE_TABLES]
        if tables:
            conn.execute(text("truncate " + ", ".join(f'"{t}"' for t in tables) + " cascade"))


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
