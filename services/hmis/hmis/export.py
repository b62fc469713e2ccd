"""Export supervision figures to DHIS2 from the command line.

    python -m hmis.export period 202507 [--dry-run] [--all]
    python -m hmis.export metadata [--template pev-integrated] > c2p-metadata.json

`period` exports one month now (only the values DHIS2 does not hold yet, or every
value with --all; --dry-run asks DHIS2 with dryRun=true and stores nothing), prints
what was sent and DHIS2's import summary, and logs the run for the admins like
the timer does. Exit status: 0 when DHIS2 took everything, 1 when it refused some
values or could not be reached, 2 on a configuration error.

`metadata` prints the `/api/metadata` payload (data elements and a monthly data
set) to import into DHIS2, then the mapping that points at it (on stderr), for
`PUT /api/v1/hmis/mapping`. Sections: every one seen in visits so far.

Settings (see c2p.config): C2P_HMIS_DATABASE_URL, C2P_DHIS2_URL, C2P_DHIS2_API_VERSION,
C2P_DHIS2_TOKEN or C2P_DHIS2_USERNAME / C2P_DHIS2_PASSWORD; the facilities' DHIS2 ids come
from the checklist service over AMQP_URI (the cached ones if it does not answer).
"""
from __future__ import annotations

if __name__ == "__main__":  # the RPC client for facility ids runs on eventlet
    from c2p.greening import green
    green()

import argparse  # noqa: E402
import json
import sys

from sqlalchemy.orm import Session

from c2p.config import ConfigError, load_settings
from c2p.database import make_engine
from c2p.dhis2 import Dhis2Client
from hmis import domain, exporter, schemas, store


def checklist_refs(settings):
    """refs(ids) over RPC to the checklist service, or None if the broker is not there."""
    def refs(facility_ids):
        from nameko.standalone.rpc import ServiceRpcClient
        import eventlet
        with eventlet.Timeout(20):
            with ServiceRpcClient("checklist", {"AMQP_URI": settings.amqp_uri,
                                                "serializer": "json"}) as client:
                return client.facility_references(list(facility_ids))
    return refs


def main(argv=None, engine=None, refs=None, out=sys.stdout, settings=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hmis.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("period", help="export one month")
    one.add_argument("period", help="YYYYMM, e.g. 202507")
    one.add_argument("--dry-run", action="store_true")
    one.add_argument("--all", action="store_true", help="every value, not only changes")
    commands.add_parser("metadata", help="print the DHIS2 metadata payload")
    args = parser.parse_args(argv)
    try:
        settings = settings or load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url("hmis"), pool_size=1)
    try:
        with Session(engine) as session, session.begin():
            if args.command == "metadata":
                payload, mapping = domain.metadata(store.sections(session))
                print(json.dumps(payload, ensure_ascii=False, indent=2), file=out)
                print(json.dumps(mapping, ensure_ascii=False, indent=2), file=sys.stderr)
                return 0
            try:
                period = domain.parse_period(args.period)
            except ValueError as exc:
                print(f"period: {exc}", file=sys.stderr)
                return 2
            client = Dhis2Client.from_settings(settings) if settings.dhis2_url else None
            try:
                run = exporter.export(session, client, refs or checklist_refs(settings),
                                      trigger="command", period=period,
                                      dry_run=args.dry_run, send_all=args.all,
                                      backoff_s=settings.hmis_backoff_s)
            except exporter.Busy:
                print("another export is running; try again in a moment", file=sys.stderr)
                return 1
            view = schemas.run_view(run)
            print(json.dumps(view, ensure_ascii=False, indent=2), file=out)
            return 0 if view["status"] in ("success", "nothing_to_send") else 1
    finally:
        if own_engine:
            engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
