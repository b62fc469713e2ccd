"""Reference data for the checklist service (idempotent): Mali's org units and the
shipped templates. Loaded by `python -m c2p.seed`.

The org units are in `org_units.csv` (regions, the districts of the first
deployment and the Bamako pilot, with their CSComs), imported the same way as
any CSV (`checklist.importer`). Their coordinates are plausible, not surveyed:
the town or neighbourhood of each CSCom to about a kilometre, enough for the
photo-to-facility distance and the map; a DHIS2 import with `geometry`
replaces them with the real points. Templates are every `templates/*.json`; a
version already published is left as it is.
"""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from c2p.errors import C2PError
from checklist import store
from checklist.models import TemplateVersion

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
ORG_UNITS_CSV = PACKAGE_DIR / "org_units.csv"


def load_template_file(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def seed_templates(session) -> list[str]:
    published = []
    for path in sorted(TEMPLATES_DIR.glob("*.json")):
        definition = load_template_file(path)
        exists = session.scalars(select(TemplateVersion.id).where(
            TemplateVersion.code == definition["code"],
            TemplateVersion.version == definition["version"])).first()
        if exists is None:
            try:
                store.publish_template(session, definition, published_by="seed")
            except C2PError as exc:
                raise RuntimeError(f"{path.name} cannot be published: {exc}") from None
            published.append(f"{definition['code']} v{definition['version']}")
    return published


def run(engine, demo: bool = True) -> None:
    with Session(engine) as session, session.begin():
        report = store.import_org_units(
            session, "csv", ORG_UNITS_CSV.read_text(encoding="utf-8"))
        if report["rejected"]:
            bad = [line for line in report["lines"] if line["status"] == "rejected"]
            raise RuntimeError(f"{ORG_UNITS_CSV.name} has rejected lines: {bad}")
        seed_templates(session)
