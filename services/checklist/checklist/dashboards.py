"""Periods and roll-ups for the dashboards. Plain Python.

- `parse_period` turns the `since`/`until` of a query (ISO dates, both ends
  included, or ISO date-times) into a half-open UTC interval, naming the bad field.
- `rollup` groups the facilities' latest scores by district or region: the mean
  of their latest percents, and how many facilities are of each colour.
- `rank_gaps` orders the most frequent failing items.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from c2p.api.checklists import COLOURS, DASHBOARD_LEVELS as LEVELS
from c2p.clock import parse_iso


def _moment(raw, field, end, errors):
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime.combine(raw, time.min)
        return value.replace(tzinfo=timezone.utc) + (timedelta(days=1) if end else timedelta())
    else:
        try:
            value = parse_iso(str(raw))
        except ValueError:
            errors[field] = [f"must be an ISO date (YYYY-MM-DD) or date-time, got {raw!r}"]
            return None
        if not isinstance(value, datetime):  # a day: until includes the whole of it
            start = datetime.combine(value, time.min, tzinfo=timezone.utc)
            return start + timedelta(days=1) if end else start
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def parse_period(since=None, until=None):
    """(start, end) with start included and end excluded (None: open), and errors."""
    errors: dict = {}
    start = _moment(since, "since", False, errors)
    end = _moment(until, "until", True, errors)
    if start and end and start >= end:
        errors["until"] = ["must not be before since"]
    return start, end, errors


def mean(values):
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 1) if values else None


def rollup(facilities: list[dict], level: str) -> list[dict]:
    """One row per district or region over the facilities' latest visits."""
    groups: dict[str, dict] = {}
    for facility in facilities:
        key = facility[f"{level}_id"]
        group = groups.setdefault(key, {
            f"{level}_id": key, f"{level}_name": facility[f"{level}_name"],
            **({"region_id": facility["region_id"], "region_name": facility["region_name"]}
               if level == "district" else {}),
            "facilities": 0, "visits": 0, "flagged": 0, "percents": [],
            "colours": {colour: 0 for colour in COLOURS}})
        group["facilities"] += 1
        group["visits"] += facility["visits"]
        group["flagged"] += bool(facility["flagged"])
        group["percents"].append(facility["percent"])
        group["colours"][facility["colour"] if facility["colour"] in COLOURS else "grey"] += 1
    rows = []
    for group in groups.values():
        percents = group.pop("percents")
        rows.append({**group, "mean_percent": mean(percents)})
    rows.sort(key=lambda row: (row["mean_percent"] is None, row["mean_percent"] or 0,
                               row[f"{level}_name"]))
    return rows


def rank_gaps(counts: list[dict], visits_by_template: dict, templates: dict,
              limit: int = 10) -> list[dict]:
    """The items failed most often.

    `counts`: [{"item_code", "failures", "critical_failures", "partial"}];
    `visits_by_template`: template id -> visits in the period;
    `templates`: template id -> definition (newest first wins for labels).
    `visits` is the number of visits whose checklist had the item, so that
    `failures / visits` is a rate even when several templates were in use.
    """
    label: dict[str, dict] = {}
    visits: dict[str, int] = {}
    for template_id in sorted(templates, key=lambda t: -t):
        for section in templates[template_id]["sections"]:
            for item in section["items"]:
                label.setdefault(item["code"], {
                    "section_code": section["code"], "label_fr": item["label_fr"],
                    "label_en": item["label_en"], "critical": bool(item.get("critical"))})
                visits[item["code"]] = (visits.get(item["code"], 0)
                                        + visits_by_template.get(template_id, 0))
    rows = []
    for count in counts:
        code = count["item_code"]
        seen = visits.get(code, 0)
        rows.append({"item_code": code, **label.get(code, {
            "section_code": None, "label_fr": code, "label_en": code, "critical": False}),
            "failures": count["failures"], "partial": count["partial"], "visits": seen,
            "failure_rate": round(100.0 * count["failures"] / seen, 1) if seen else None})
    rows.sort(key=lambda row: (-row["failures"], not row["critical"], row["item_code"]))
    return rows[:limit]
