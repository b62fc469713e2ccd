"""Import org units or a checklist template into the checklist database.

    python -m checklist.importer csv FILE [--dry-run]
    python -m checklist.importer dhis2 FILE [--dry-run]     # organisationUnits export
    python -m checklist.importer template FILE              # publish a template version

Org-unit imports are idempotent and print one line per input line (created,
updated, unchanged or rejected, with the field and the reason), then a summary.
The exit status is 0 when nothing was rejected, 1 otherwise, 2 when the file
cannot be read at all. The database is CHECKLIST_DATABASE_URL (see c2p.config).
The same import is offered to admins over the API (`POST /api/v1/org-units/import`).
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
    parser.add_argument("kind", choices=("csv", "dhis2", "template"))
    parser.add_argument("file", type=Path)
    parser.add_argument("--dry-run", action="store_true",
                        help="report what would change, change nothing")
    args = parser.parse_args(argv)
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
            for entry in report["lines"]:
                print(format_line(entry), file=out)
            print(f"{'dry run: ' if args.dry_run else ''}{report['created']} created, "
                  f"{report['updated']} updated, {report['unchanged']} unchanged, "
                  f"{report['rejected']} rejected", file=out)
            return 1 if report["rejected"] else 0
    except (C2PError, ValueError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    finally:
        if own_engine:
            engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
