"""Reading and writing the checklist tables, shared by the service, the seed and the
importer command. Functions take a SQLAlchemy session and never commit: the
caller's unit of work does.
"""
from __future__ import annotations

import json
import weakref
from dataclasses import dataclass

from marshmallow import ValidationError
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import defer

from c2p.clock import utcnow
from c2p.database import add_once
from c2p.errors import Conflict, InvalidInput
from c2p.ids import parse_uuid
from c2p.scope import in_scope_clause, under_clause
from checklist import places
from checklist.models import OrgUnit, Submission, SubmissionGap, TemplateVersion
from checklist.schemas import TemplateDefinition


# --- org units -----------------------------------------------------------

def unit_state(unit: OrgUnit) -> dict:
    return {"id": unit.id, **{name: getattr(unit, name) for name in places.FIELDS}}


def facility_references(session, ids: list[str]) -> dict:
    """{id: {"dhis2_id", "code"}} of the given org units (unknown ids left out)."""
    found = {}
    for start in range(0, len(ids), 1000):
        for unit in session.scalars(select(OrgUnit).where(
                OrgUnit.id.in_(ids[start:start + 1000]))):
            found[unit.id] = {"dhis2_id": unit.dhis2_id, "code": unit.code}
    return found


def import_org_units(session, fmt: str, content, dry_run: bool = False, scope=None) -> dict:
    """Import a CSV or DHIS2 file; returns the line-by-line report. With a
    `scope`, lines touching units outside it are rejected (`places.plan_import`).

    Raises InvalidInput when the file as a whole cannot be read.
    """
    try:
        if fmt == "csv":
            if isinstance(content, bytes):
                content = content.decode("utf-8")
            lines = places.read_csv(content)
        elif fmt == "dhis2":
            lines = places.read_dhis2(content)
        else:
            raise InvalidInput({"format": [f"must be csv or dhis2, got {fmt!r}"]})
    except UnicodeDecodeError:
        raise InvalidInput({"file": ["must be UTF-8"]}) from None
    except places.UnreadableFile as exc:
        raise InvalidInput({"file": [str(exc)]}) from None
    units = {unit.id: unit for unit in session.scalars(select(OrgUnit))}
    plan = places.plan_import([unit_state(u) for u in units.values()], lines, scope)
    if not dry_run:
        write_plan(session, plan, units)
    return {"format": fmt, "dry_run": dry_run, **plan.summary()}


def write_plan(session, plan: places.Plan, units: dict) -> None:
    now = utcnow()
    # Parents before children, so that every parent_id refers to a stored row.
    for unit_id, state in sorted(plan.writes.items(), key=lambda kv: kv[1]["path"].count("/")):
        unit = units.get(unit_id)
        if unit is None:
            unit = OrgUnit(id=unit_id)
            session.add(unit)
        for name in places.FIELDS:
            setattr(unit, name, state.get(name))
        unit.updated_at = now
        session.flush()
    for old, new in plan.moves:
        # Visits follow their facility, so scopes and district queries stay right.
        for table in (Submission.__table__, SubmissionGap.__table__):
            column = table.c.facility_path
            session.execute(update(table).where(under_clause(column, old)).values(
                facility_path=func.concat(new, func.substr(column, len(old) + 1))))


# --- templates -----------------------------------------------------------

def validate_template(definition) -> dict:
    """The definition with defaults filled in, or InvalidInput naming each problem."""
    if not isinstance(definition, dict):
        raise InvalidInput({"body": ["a template must be a JSON object"]})
    try:
        return TemplateDefinition().load(definition)
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None


def publish_template(session, definition: dict, published_by: str | None = None):
    """Store a new version of a template; returns (row, created).

    Without a version the next one is taken. Sending a version that exists with
    the same content is a replay (created False); with other content it is a
    Conflict: a published version never changes, publish a new one instead.
    """
    normalized = validate_template(definition)
    code = normalized["code"]
    versions = {row.version: row for row in session.scalars(
        select(TemplateVersion).where(TemplateVersion.code == code))}
    version = normalized["version"] or (max(versions, default=0) + 1)
    normalized["version"] = version
    existing = versions.get(version)
    if existing is not None:
        if _canonical(existing.definition) == _canonical(normalized):
            return existing, False
        raise Conflict(f"template {code} version {version} is already published with other "
                       f"content; publish version {max(versions) + 1} instead")
    row = TemplateVersion(code=code, version=version, definition=normalized,
                          published_by=published_by)
    session.add(row)
    session.flush()
    return row, True


def _canonical(definition) -> str:
    return json.dumps(definition, sort_keys=True, ensure_ascii=False)


def template(session, code, version=None, definition=False) -> TemplateVersion | None:
    """A template version (the latest when no version is given). Its definition
    is loaded only when asked: scoring takes it from `template_definition`."""
    query = select(TemplateVersion).where(TemplateVersion.code == code)
    if not definition:
        query = query.options(defer(TemplateVersion.definition))
    if version is not None:
        query = query.where(TemplateVersion.version == version)
    return session.scalars(query.order_by(TemplateVersion.version.desc()).limit(1)).first()


# Published versions never change: a definition is read (and its JSON parsed)
# once per process and database, not for every visit. Never modify one.
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached(session, name) -> dict:
    bind = session.get_bind()  # an Engine, or a worker's Connection to one
    engine = getattr(bind, "engine", bind)
    return _cache.setdefault(engine, {"definitions": {}, "codes": {}, "versions": {}})[name]


@dataclass(frozen=True)
class PublishedVersion:
    """What a visit needs of the template version it names."""
    id: int
    code: str
    version: int


def published_version(session, code, version: int) -> PublishedVersion | None:
    """A template version by code and number (cached once found: published versions
    never change; one not found is looked up again, it may be published later)."""
    known = _cached(session, "versions")
    found = known.get((code, version))
    if found is None:
        row = template(session, code, version)
        if row is None:
            return None
        found = known[(code, version)] = PublishedVersion(row.id, row.code, row.version)
    return found


def template_definition(session, template_id: int) -> dict:
    """The definition of a published template version (cached)."""
    known = _cached(session, "definitions")
    if template_id not in known:
        known[template_id] = session.scalar(select(TemplateVersion.definition).where(
            TemplateVersion.id == template_id))
    return known[template_id]


def template_codes(session, template_ids) -> dict:
    """{template id: code} of the given template versions (cached)."""
    codes = _cached(session, "codes")
    missing = [i for i in template_ids if i not in codes]
    if missing:
        table = TemplateVersion.__table__
        codes.update(session.connection().execute(
            select(table.c.id, table.c.code).where(table.c.id.in_(missing))).all())
    return {i: codes[i] for i in template_ids if i in codes}


def template_version_numbers(session, code) -> list[int]:
    return session.scalars(select(TemplateVersion.version).where(
        TemplateVersion.code == code)).all()


def template_versions(session, code=None) -> list[TemplateVersion]:
    """Every published version, newest first per code."""
    query = select(TemplateVersion).order_by(TemplateVersion.code,
                                             TemplateVersion.version.desc())
    if code:
        query = query.where(TemplateVersion.code == code)
    return session.scalars(query).all()


# --- org units, read -------------------------------------------------------

def org_units(session, scope, level=None, parent_id=None) -> list[OrgUnit]:
    """Org units in the scope, by path."""
    query = select(OrgUnit).where(in_scope_clause(OrgUnit.path, scope))
    if level:
        query = query.where(OrgUnit.level == level)
    if parent_id:
        query = query.where(OrgUnit.parent_id == parent_id)
    return session.scalars(query.order_by(OrgUnit.path)).all()


# --- submissions ---------------------------------------------------------

def submission(session, submission_id) -> Submission | None:
    key = parse_uuid(submission_id)
    return None if key is None else session.get(Submission, key)


# Built once (see `c2p.database.add_once`): a visit whose client id is already
# stored inserts nothing and returns no row.
ADD_SUBMISSION = pg_insert(Submission.__table__).on_conflict_do_nothing(
    index_elements=[Submission.__table__.c.id]).returning(Submission.__table__.c.id)


def add_submission(session, values: dict) -> bool:
    """Store a new visit from its column values (`c2p.database.add_once`: False when
    its client id was stored meanwhile, or the facility or template went away)."""
    return add_once(session, ADD_SUBMISSION, values)


def add_gaps(session, submission, gaps: list[dict], points: dict) -> None:
    """One row per gap, for the dashboards (a partial answer lost only some
    points), in one multi-row insert."""
    if gaps:
        session.execute(insert(SubmissionGap.__table__), [{
            "submission_id": submission.id, "item_code": gap["item_code"],
            "section_code": gap["section_code"], "template_id": submission.template_id,
            "facility_path": submission.facility_path, "visited_at": submission.visited_at,
            "critical": gap["critical"], "partial": gap["points_lost"] < points[gap["item_code"]],
        } for gap in gaps])


def submission_filters(scope, start=None, end=None, table=Submission):
    clauses = [in_scope_clause(table.facility_path, scope)]
    if start is not None:
        clauses.append(table.visited_at >= start)
    if end is not None:
        clauses.append(table.visited_at < end)
    return and_(*clauses)
