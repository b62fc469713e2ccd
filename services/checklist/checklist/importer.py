"""Import org units or a checklist template into the checklist database.

    python -m checklist.importer csv FILE [--dry-run]
    python -m checklist.importer dhis2 FILE [--dry-run]     # organisationUnits export
    python -m checklist.importer template FILE              # publish a template version
    python -m checklist.importer dhis2-server ROOT [--dry-run]  # from C2P_DHIS2_URL, by id

Org-unit imports are idempotent and print one line per input line (created,
updated, unchanged or rejected, with the field and the reason), then a summary.
The exit status is 0 when nothing was rejected, 1 otherwise, 2 when the file
cannot be read at all. The database is CHECKLIST_DATABASE_URL (see c2p.config).
The same import is offered to admins over the API (`POST /api/v1/org-units/import`).
`dhis2-server` pages through the organisationUnits under ROOT on the DHIS2 server
of the settings (C2P_DHIS2_URL, C2P_DHIS2_TOKEN or C2P_DHIS2_USERNAME/PASSWORD) with a progress
bar (tqdm), then imports them the same way (`checklist.dhis2_pull`).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from c2p.config import ConfigError, load_settings
from c2p.database import make_engine
from c2p.errors import C2PError
from checklist import store


def format_line(entry: dict) -> str:
    text = f"line {entry['line']}: {entry['status']} {entry.get('id') or '?'}"
    if entry.get("changed"):
        text += f" ({', '.join(entry['changed'])})"
    for error in entry.get("errors", []):
        text += f"\n    {error['field']}: {error['reason']}"
    return text


def main(argv=None, engine=None, out=sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m checklist.importer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=("csv", "dhis2", "template", "dhis2-server"))
    parser.add_argument("file", type=Path, help="the file (the root's DHIS2 id for "
                        "dhis2-server)")
    parser.add_argument("--dry-run", action="store_true",
                        help="report what would change, change nothing")
    args = parser.parse_args(argv)
    if args.kind == "dhis2-server":
        return pull(str(args.file), args.dry_run, engine, out)
    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    own_engine = engine is None
    if own_engine:
        try:
            settings = load_settings()
        except ConfigError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            return 2
        engine = make_engine(settings.database_url("checklist"), pool_size=1)
    try:
        with Session(engine) as session, session.begin():
            if args.kind == "template":
                row, created = store.publish_template(session, json.loads(raw.decode("utf-8")),
                                                      published_by="importer")
                print(f"{'published' if created else 'already published'}: "
                      f"{row.code} version {row.version}", file=out)
                return 0
            report = store.import_org_units(session, args.kind, raw, dry_run=args.dry_run)
            return print_report(report, args.dry_run, out)
    except (C2PError, ValueError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    finally:
        if own_engine:
            engine.dispose()


def print_report(report, dry_run, out) -> int:
    for entry in report["lines"]:
        print(format_line(entry), file=out)
    print(f"{'dry run: ' if dry_run else ''}{report['created']} created, "
          f"{report['updated']} updated, {report['unchanged']} unchanged, "
          f"{report['rejected']} rejected", file=out)
    return 1 if report["rejected"] else 0


def pull(root, dry_run, engine=None, out=sys.stdout, settings=None) -> int:
    """Import the org units under `root` from the DHIS2 server, with a progress bar."""
    from tqdm import tqdm
    from c2p.dhis2 import Dhis2Client, Dhis2Error
    from checklist import dhis2_pull
    try:
        settings = settings or load_settings()
        client = Dhis2Client.from_settings(settings)
    except (ConfigError, Dhis2Error) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url("checklist"), pool_size=1)
    bar = tqdm(desc=f"DHIS2 {root}", unit="page", file=sys.stderr)

    def progress(pages, page_count, units, total):
        bar.total = page_count
        bar.set_postfix(units=f"{units}/{total}")
        bar.update(pages - bar.n)

    try:
        with Session(engine) as session, session.begin():
            report = dhis2_pull.run(session, client, root, dry_run, settings.dhis2_page_size,
                                    progress)
            bar.close()
            return print_report(report, dry_run, out)
    except (Dhis2Error, C2PError) as exc:
        bar.close()
        print(f"DHIS2 {root}: {exc}", file=sys.stderr)
        return 2
    finally:
        client.close()
        if own_engine:
            engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
