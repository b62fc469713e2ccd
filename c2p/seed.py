"""Load reference and demo data into every service's database (idempotent).

    python -m c2p.seed

Reference data (org units, shipped templates) always; demo data (accounts with
a known password) only while C2P_DEMO_DATA is true, the default for local runs.
"""
import importlib
import sys

from c2p.config import ConfigError, load_settings
from c2p.database import make_engine

SEEDED = ("checklist", "gateway")


def main():
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    for service in SEEDED:
        engine = make_engine(settings.database_url(service), pool_size=1)
        importlib.import_module(f"{service}.seed").run(engine, demo=settings.demo_data)
        engine.dispose()
        print(f"seeded {service}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
