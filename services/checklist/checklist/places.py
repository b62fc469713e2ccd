"""Org units (country › region › district › facility): reading CSV and DHIS2 exports,
and working out what an import changes. Plain Python, no database.

An import is planned against the units already known (`plan_import`), then the
caller writes the plan. Planning line by line:

- a line matches an existing unit by id (CSV), or by DHIS2 id then id (DHIS2);
- its parent must exist already or come in the same file (in any order: lines
  wait for their parent); its level must be the parent's level plus one;
- the path is always rebuilt from the parent's path (`/ML/ML-SEG/ML-SEG-NIO`),
  so a DHIS2 export can hang new facilities under seeded districts once those
  carry their DHIS2 id;
- a unit whose name, parent, code or coordinates differ is updated; if its parent
  changed, its path and those of everything under it move (the caller also moves
  the paths stored on submissions);
- anything wrong rejects that line only, naming the field and the reason; lines
  under a rejected parent are rejected too.

Importing the same file twice therefore changes nothing the second time.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

from c2p import safejson
from c2p.scope import in_scope

LEVELS = ("country", "region", "district", "facility")
DHIS2_LEVELS = {1: "country", 2: "region", 3: "district", 4: "facility"}
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
FIELDS = ("name", "level", "parent_id", "path", "dhis2_id", "code", "latitude", "longitude")
CSV_COLUMNS = ("id", "parent_id", "level", "name", "code", "dhis2_id", "latitude", "longitude")
MAX_PATH = 400


@dataclass
class Line:
    """One line of an import file, as read: `values` holds only the fields it gives."""
    number: int
    key: str | None              # what identifies the unit in this file
    parent_key: str | None
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)   # field -> [reasons]
    by_dhis2: bool = False


@dataclass
class Plan:
    report: list          # one entry per line, in line order
    writes: dict          # unit id -> full new state (created or changed units)
    created: set          # ids of units to insert
    moves: list           # (old path, new path) of units whose path changed

    def summary(self) -> dict:
        counts = {status: 0 for status in ("created", "updated", "unchanged", "rejected")}
        for entry in self.report:
            counts[entry["status"]] += 1
        return {**counts, "lines": self.report}


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (not CSV with the right header, not JSON)."""


# --- reading -------------------------------------------------------------

def _float(raw, low, high, name, errors):
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors.setdefault(name, []).append(f"must be a number, got {raw!r}")
        return None
    if value != value or not low <= value <= high:
        errors.setdefault(name, []).append(f"must be between {low} and {high}, got {raw!r}")
        return None
    return value


def _check_common(values, errors):
    for field_name in ("name", "code"):
        reason = safejson.text_reason(values[field_name]) if isinstance(
            values.get(field_name), str) else None
        if reason:
            errors.setdefault(field_name, []).append(reason)
    name = values.get("name")
    if name is not None:
        if not name.strip():
            errors.setdefault("name", []).append("is required")
        elif len(name) > 200:
            errors.setdefault("name", []).append("longer than 200 characters")
    code = values.get("code")
    if code is not None and len(code) > 64:
        errors.setdefault("code", []).append("longer than 64 characters")


def _check_id(value, name, errors, required=True):
    if value in (None, ""):
        if required:
            errors.setdefault(name, []).append("is required")
        return None
    if not ID_PATTERN.match(value):
        errors.setdefault(name, []).append(
            f"{value!r} is not a valid id (letters, digits, '-', '_', '.'; at most 64)")
        return None
    return value


def read_csv(text: str) -> list[Line]:
    """Lines of a CSV file with a header row: id, parent_id, level, name, and
    optionally code, dhis2_id, latitude, longitude. Numbered as in the file."""
    if text.startswith("\ufeff"):
        text = text[1:]  # spreadsheet exports often start with a BOM
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("id", "parent_id", "level", "name") if c not in header]
    if missing:
        raise UnreadableFile(f"the header must name the columns id, parent_id, level, name; "
                             f"missing: {', '.join(missing)}")
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise UnreadableFile(f"unknown column(s): {', '.join(unknown)}; "
                             f"expected among {', '.join(CSV_COLUMNS)}")
    reader.fieldnames = header
    lines = []
    for row in reader:
        number = reader.line_num
        if None in row:  # more cells than columns
            lines.append(Line(number, (row.get("id") or "").strip() or None, None,
                              errors={"_": [f"{len(header) + len(row[None])} cells for "
                                            f"{len(header)} columns"]}))
            continue
        cells = {k: (v or "").strip() if k != "name" else (v or "") for k, v in row.items()}
        if not any(cells.values()):
            continue  # blank line
        errors: dict = {}
        key = _check_id(cells["id"], "id", errors)
        parent = _check_id(cells["parent_id"], "parent_id", errors, required=False)
        level = cells["level"].lower()
        if level not in LEVELS:
            errors.setdefault("level", []).append(
                f"must be one of {', '.join(LEVELS)}, got {cells['level']!r}")
        values = {"name": cells["name"].strip(), "level": level}
        if "code" in cells:
            values["code"] = cells["code"] or None
        if "dhis2_id" in cells:
            values["dhis2_id"] = _check_id(cells["dhis2_id"], "dhis2_id", errors,
                                           required=False)
        if "latitude" in cells:
            values["latitude"] = _float(cells["latitude"], -90, 90, "latitude", errors)
        if "longitude" in cells:
            values["longitude"] = _float(cells["longitude"], -180, 180, "longitude", errors)
        _check_common(values, errors)
        lines.append(Line(number, key or cells["id"] or None, parent, values, errors))
    return lines


def read_dhis2(content) -> list[Line]:
    """Lines of a DHIS2 metadata export: {"organisationUnits": [...]} (or the list
    itself), numbered by position from 1. Uses id, name, level (or the depth of
    path), parent.id, code and a Point geometry."""
    if isinstance(content, (str, bytes)):
        try:
            content = safejson.loads(content)
        except safejson.TooDeep as exc:
            raise UnreadableFile(str(exc)) from None
        except safejson.NotJson as exc:
            raise UnreadableFile(str(exc)) from None
    elif safejson.depth(content) > safejson.MAX_DEPTH:
        raise UnreadableFile(f"nested more than {safejson.MAX_DEPTH} levels deep")
    units = content.get("organisationUnits") if isinstance(content, dict) else content
    if not isinstance(units, list):
        raise UnreadableFile("expected a DHIS2 export with an \"organisationUnits\" list")
    lines = []
    for number, unit in enumerate(units, start=1):
        if not isinstance(unit, dict):
            lines.append(Line(number, None, None, errors={"_": ["not an object"]}))
            continue
        errors: dict = dict(safejson.text_problems(unit, root="_"))
        if errors:  # text that cannot be stored: nothing else of the line is read
            lines.append(Line(number, None, None, errors=errors))
            continue
        key = _check_id(unit.get("id") if isinstance(unit.get("id"), str) else None,
                        "id", errors)
        parent_ref = unit.get("parent")
        parent = None
        if isinstance(parent_ref, dict):
            parent = _check_id(parent_ref.get("id"), "parent.id", errors)
        elif parent_ref is not None:
            errors.setdefault("parent", []).append("must be an object with an id")
        level = unit.get("level")
        if level is None and isinstance(unit.get("path"), str):
            level = len([p for p in unit["path"].split("/") if p])
        if level not in DHIS2_LEVELS:
            errors.setdefault("level", []).append(
                f"DHIS2 level {level!r} is not one of 1 (country), 2 (region), "
                "3 (district), 4 (facility)")
        name = unit.get("name")
        if not isinstance(name, str):
            errors.setdefault("name", []).append("is required")
            name = ""
        latitude = longitude = None
        point = _dhis2_point(unit)
        if point is not None:
            longitude = _float(point[0], -180, 180, "geometry", errors)
            latitude = _float(point[1], -90, 90, "geometry", errors)
        values = {"name": name.strip(), "level": DHIS2_LEVELS.get(level),
                  "code": unit.get("code") if isinstance(unit.get("code"), str) else None,
                  "dhis2_id": key}
        if point is not None:
            # A unit DHIS2 has no point for keeps the coordinates C2P already has.
            values.update(latitude=latitude, longitude=longitude)
        _check_common(values, errors)
        lines.append(Line(number, key or unit.get("id"), parent, values, errors,
                          by_dhis2=True))
    return lines


def _dhis2_point(unit):
    geometry = unit.get("geometry")
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        coordinates = geometry.get("coordinates")
    elif unit.get("featureType") == "POINT" and isinstance(unit.get("coordinates"), str):
        try:  # DHIS2 before 2.32: "[lon,lat]" as a string
            coordinates = safejson.loads(unit["coordinates"])
        except ValueError:
            return None
    else:
        return None
    if isinstance(coordinates, list) and len(coordinates) >= 2:
        return coordinates[0], coordinates[1]
    return None


# --- planning ------------------------------------------------------------

def plan_import(existing: list[dict], lines: list[Line], scope=None) -> Plan:
    """Work out what importing `lines` does to the `existing` units (dicts with
    id and FIELDS). Pure: nothing is written.

    With a `scope` (the importer's org-unit paths), a line may only touch a unit
    that lies in it now and will lie in it after: a regional admin can neither
    change a unit of another region nor move one of theirs out of (or another
    into) their region. Moving a unit across regions needs a scope holding both,
    i.e. national scope. Lines outside are rejected, like any other bad line."""
    units = {u["id"]: dict(u) for u in existing}
    by_dhis2 = {u["dhis2_id"]: u["id"] for u in units.values() if u.get("dhis2_id")}
    report: dict[int, dict] = {}
    writes: dict[str, dict] = {}
    created: set = set()
    moves: list = []
    rejected_keys: dict[str, int] = {}

    def reject(line, errors, unit_id=None):
        report[line.number] = {"line": line.number, "id": unit_id or line.key,
                               "status": "rejected",
                               "errors": [{"field": f, "reason": "; ".join(r)}
                                          for f, r in errors.items()]}
        if line.key:
            rejected_keys.setdefault(line.key, line.number)

    def resolve(key, dhis2):
        if key is None:
            return None
        if dhis2 and key in by_dhis2:
            return by_dhis2[key]
        return key if key in units else None

    pending = []
    seen: dict[str, int] = {}
    for line in lines:
        if line.errors:
            reject(line, line.errors)
        elif line.key in seen:
            reject(line, {"id": [f"{line.key} already appears on line {seen[line.key]}"]})
        else:
            seen[line.key] = line.number
            pending.append(line)

    # Lines wait until their parent has been placed (it may come later in the file).
    while pending:
        waiting = {line.key for line in pending}
        progress, still = False, []
        for line in pending:
            if line.parent_key is not None and line.parent_key in waiting:
                still.append(line)
                continue
            progress = True
            _place(line, units, by_dhis2, writes, created, moves, report, reject, resolve,
                   rejected_keys, scope)
        if not progress:  # a cycle in the file: parents waiting for each other
            for line in still:
                reject(line, {"parent_id": [f"{line.parent_key} is part of a parent cycle"]})
            break
        pending = still
    return Plan([report[n] for n in sorted(report)], writes, created, moves)


OUTSIDE_SCOPE = "lies outside your scope"
MOVE_OUTSIDE_SCOPE = ("would place the unit outside your scope (moving a unit across "
                      "scopes needs national scope)")


def _place(line, units, by_dhis2, writes, created, moves, report, reject, resolve,
           rejected_keys, scope=None):
    values = line.values
    level = values["level"]
    parent_field = "parent.id" if line.by_dhis2 else "parent_id"
    unit_id = resolve(line.key, line.by_dhis2) if line.by_dhis2 else (
        line.key if line.key in units else None)
    current = units.get(unit_id) if unit_id else None
    if current is None:
        unit_id = line.key
    if scope is not None and current is not None and not in_scope(current["path"], scope):
        reject(line, {"id": [f"{unit_id} {OUTSIDE_SCOPE}"]}, unit_id)
        return

    parent = None
    if line.parent_key is None:
        if level != "country":
            reject(line, {parent_field: [f"a {level} needs a parent"]}, unit_id)
            return
    else:
        parent_id = resolve(line.parent_key, line.by_dhis2)
        if parent_id is None:
            if line.parent_key in rejected_keys:
                reason = f"parent {line.parent_key} was rejected (line " \
                         f"{rejected_keys[line.parent_key]})"
            else:
                reason = f"parent {line.parent_key} is not a known org unit"
            reject(line, {parent_field: [reason]}, unit_id)
            return
        parent = units[parent_id]
        expected = LEVELS.index(level) - 1 if level in LEVELS else -1
        if expected < 0 or parent["level"] != LEVELS[expected]:
            reject(line, {"level": [f"a {level} cannot sit under a {parent['level']} "
                                    f"({parent['id']})"]}, unit_id)
            return
        if parent_id == unit_id:
            reject(line, {parent_field: ["a unit cannot be its own parent"]}, unit_id)
            return

    if scope is not None and not in_scope((parent["path"] if parent else "") + "/" + unit_id,
                                          scope):
        reject(line, {parent_field if parent else "id": [MOVE_OUTSIDE_SCOPE]}, unit_id)
        return
    dhis2_id = values.get("dhis2_id")
    if dhis2_id and by_dhis2.get(dhis2_id, unit_id) != unit_id:
        reject(line, {"dhis2_id": [f"{dhis2_id} already belongs to {by_dhis2[dhis2_id]}"]},
               unit_id)
        return
    if current is not None and current["level"] != level:
        reject(line, {"level": [f"{unit_id} is a {current['level']}; changing the level "
                                "of a unit is not supported"]}, unit_id)
        return
    path = (parent["path"] if parent else "") + "/" + unit_id
    if len(path) > MAX_PATH:
        reject(line, {"id": [f"the path would be longer than {MAX_PATH} characters"]},
               unit_id)
        return

    new = dict(current or {"id": unit_id, "code": None, "dhis2_id": None,
                           "latitude": None, "longitude": None})
    new.update({k: v for k, v in values.items() if k in FIELDS})
    new.update(parent_id=parent["id"] if parent else None, path=path)
    if current is None:
        status, changed = "created", []
        created.add(unit_id)
    else:
        changed = [f for f in FIELDS if current.get(f) != new.get(f)]
        status = "updated" if changed else "unchanged"
    entry = {"line": line.number, "id": unit_id, "status": status}
    if changed:
        entry["changed"] = changed
    report[line.number] = entry
    if status == "unchanged":
        return
    if current is not None and current["path"] != path:
        old = current["path"]
        moves.append((old, path))
        for other in units.values():  # everything under the unit moves with it
            if other["path"].startswith(old + "/"):
                other["path"] = path + other["path"][len(old):]
                writes[other["id"]] = other
    units[unit_id] = new
    writes[unit_id] = new
    if current is not None and current.get("dhis2_id") not in (None, new.get("dhis2_id")):
        by_dhis2.pop(current["dhis2_id"], None)
    if dhis2_id:
        by_dhis2[dhis2_id] = unit_id
