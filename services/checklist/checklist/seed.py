"""Demo and reference data for the checklist service (idempotent).

Org units of the first deployment and the shipped templates. Loaded by
`python -m c2p.seed`.
"""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from checklist.models import OrgUnit, TemplateVersion

TEMPLATES_DIR = Path(__file__).parent / "templates"

# (id, name, level, parent id) in DHIS2 style: ids are stable, names exact.
ORG_UNITS = [
    ("ML", "Mali", "country", None),
    ("ML-KAY", "Kayes", "region", "ML"),
    ("ML-KAY-KAY", "Kayes", "district", "ML-KAY"),
    ("ML-KAY-KAY-LAF", "CSCom de Lafiabougou (Kayes)", "facility", "ML-KAY-KAY"),
    ("ML-SEG", "Ségou", "region", "ML"),
    ("ML-SEG-NIO", "Niono", "district", "ML-SEG"),
    ("ML-SEG-NIO-CEN", "CSCom central de Niono", "facility", "ML-SEG-NIO"),
    ("ML-SEG-NIO-MOL", "CSCom de Molodo", "facility", "ML-SEG-NIO"),
    ("ML-BKO", "District de Bamako", "region", "ML"),
    ("ML-BKO-C1", "Commune I", "district", "ML-BKO"),
    ("ML-BKO-C1-BAN", "CSCom de Banconi", "facility", "ML-BKO-C1"),
]


def load_template_file(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def run(engine, demo: bool = True) -> None:
    with Session(engine) as session, session.begin():
        paths = {}
        for unit_id, name, level, parent in ORG_UNITS:
            paths[unit_id] = (paths[parent] if parent else "") + "/" + unit_id
            unit = session.get(OrgUnit, unit_id) or OrgUnit(id=unit_id)
            unit.name, unit.level, unit.parent_id, unit.path = name, level, parent, paths[unit_id]
            session.merge(unit)
        for path in sorted(TEMPLATES_DIR.glob("*.json")):
            definition = load_template_file(path)
            exists = session.scalars(select(TemplateVersion).where(
                TemplateVersion.code == definition["code"],
                TemplateVersion.version == definition["version"])).first()
            if exists is None:
                session.add(TemplateVersion(code=definition["code"],
                                            version=definition["version"],
                                            definition=definition))
