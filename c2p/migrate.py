"""Create each service's database if missing and bring it to the newest migration.

    python -m c2p.migrate              # every service
    python -m c2p.migrate planner      # one

Each service keeps its alembic scripts in `<package>/migrations/`; their
`env.py` calls `run_env` here, so all of them migrate the same way.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from c2p.config import SERVICES, ConfigError, load_settings
from c2p.database import driver_url


def migrations_dir(service: str) -> Path:
    package = importlib.import_module(service)
    return Path(package.__file__).resolve().parent / "migrations"


def ensure_database(url: str) -> None:
    """CREATE DATABASE if it does not exist (needs rights on the server)."""
    target = make_url(driver_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("select 1 from pg_database where datname = :n"),
                                  {"n": target.database}).first()
            if not exists:
                conn.execute(text(f'create database "{target.database}" encoding \'UTF8\' '
                                  "template template0"))
    finally:
        admin.dispose()


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    cfg.set_main_option("sqlalchemy.url", driver_url(url).replace("%", "%%"))
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, url: str) -> None:
    ensure_database(url)
    # "heads": independent branches (e.g. two features adding tables) both apply.
    command.upgrade(alembic_config(service, url), "heads")


def run_env(context, metadata) -> None:
    """The body of every service's alembic env.py (online mode only)."""
    url = context.config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def create_platform_tables(op) -> None:
    """Outbox and processed-events tables, created by each service's first migration."""
    from c2p.database import outbox, processed_events
    bind = op.get_bind()
    outbox.create(bind)
    processed_events.create(bind)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("services", nargs="*", metavar="service",
                        help=f"among {', '.join(SERVICES)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.services) - set(SERVICES)
    if unknown:
        parser.error(f"unknown service(s): {', '.join(sorted(unknown))}")
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    for service in args.services or SERVICES:
        upgrade(service, settings.database_url(service))
        print(f"migrated {service}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
