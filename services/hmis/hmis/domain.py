"""The rules of the HMIS export, plain Python (no nameko, no database).

Figures, per facility and month (DHIS2 period `YYYYMM`):

- `score`: the mean overall score (%) of the month's visits; `section:<code>`:
  the mean score of each section. Absent when the month has no scored visit:
  a missing score is not a zero.
- `visits`: visits done in the month.
- `actions_done`: actions closed as done during the month.
- `actions_open`: actions open at the end of the month (or now, for the month
  under way): created before then, not yet done or dropped.
- `actions_overdue`: those open actions whose due date had passed by then.

Counts are sent when they are not zero, and as 0 when DHIS2 holds a non-zero
value that is no longer true (DHIS2 does not store zeros by default, so
sending every zero would only be noise).

The mapping gives, per figure, a DHIS2 data element and category option combo,
both by UID or both by code (`id_scheme`); org units go by DHIS2 UID or code
for the whole export. The export sends only the values that differ from what
DHIS2 already accepted (or whose mapping changed), with CREATE_AND_UPDATE, so
sending the same value twice is harmless.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

COUNTS = ("visits", "actions_done", "actions_open", "actions_overdue")
FIXED_FIGURES = ("score",) + COUNTS
SECTION_PREFIX = "section:"
CLOSED = ("done", "dropped")
SCHEMES = ("UID", "CODE")
PERIOD = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")
UID = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")
MAX_VALUES_PER_REQUEST = 1000

FIGURE_LABELS = {
    "score": ("Score global de supervision (%)", "Overall supervision score (%)"),
    "visits": ("Visites de supervision réalisées", "Supervision visits done"),
    "actions_done": ("Actions d'amélioration réalisées", "Improvement actions done"),
    "actions_open": ("Actions d'amélioration en cours", "Improvement actions open"),
    "actions_overdue": ("Actions d'amélioration en retard", "Improvement actions overdue"),
}


# --- periods ------------------------------------------------------------------

def period_of(moment: datetime) -> str:
    """The DHIS2 monthly period of a moment (UTC: Mali's time zone)."""
    return moment.astimezone(timezone.utc).strftime("%Y%m")


def parse_period(text) -> str:
    if not isinstance(text, str) or not PERIOD.match(text):
        raise ValueError(f"must be a monthly DHIS2 period YYYYMM (e.g. 202507), got {text!r}")
    return text


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in UTC."""
    year, month = int(period[:4]), int(period[4:])
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc)
    return start, end


def periods_from(start: datetime, end: datetime) -> list[str]:
    """Every monthly period from `start`'s to `end`'s, both included (one when
    `end` is not later)."""
    periods, moment = [period_of(start)], start
    last = period_of(max(start, end))
    while periods[-1] != last:
        _, moment = period_bounds(periods[-1])
        periods.append(period_of(moment))
    return periods


def previous_period(period: str) -> str:
    start, _ = period_bounds(period)
    return period_of(start - timedelta(days=1))


# --- figures ------------------------------------------------------------------

@dataclass(frozen=True)
class VisitFacts:
    percent: float | None
    sections: dict           # section code -> percent or None


@dataclass(frozen=True)
class ActionFacts:
    created_at: datetime
    due_date: date
    status: str
    closed_at: datetime | None


def _mean(values):
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 1) if values else None


def month_figures(period: str, visits: list[VisitFacts], actions: list[ActionFacts],
                  now: datetime) -> dict:
    """The figures of one facility for one month, as DHIS2 values (strings)."""
    start, end = period_bounds(period)
    as_of = min(end, now)
    figures: dict[str, str] = {}
    score = _mean([v.percent for v in visits])
    if score is not None:
        figures["score"] = _number(score)
    codes = sorted({code for v in visits for code in v.sections})
    for code in codes:
        mean = _mean([v.sections.get(code) for v in visits])
        if mean is not None:
            figures[SECTION_PREFIX + code] = _number(mean)
    figures["visits"] = str(len(visits))
    done = open_ = overdue = 0
    for action in actions:
        closed = action.closed_at if action.status in CLOSED else None
        if action.status == "done" and closed is not None and start <= closed < end:
            done += 1
        if action.created_at < as_of and (closed is None or closed >= as_of):
            open_ += 1
            # A past month ends at midnight after its last day: due within it and
            # still open then is overdue, as on the planner's "due_date < today".
            if action.due_date < as_of.date():
                overdue += 1
    figures.update(actions_done=str(done), actions_open=str(open_),
                   actions_overdue=str(overdue))
    return figures


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def section_figure(code: str) -> str:
    return SECTION_PREFIX + code


# --- mapping ------------------------------------------------------------------

def figure_errors(figure) -> list[str]:
    if not isinstance(figure, str):
        return ["must be a string"]
    if figure in FIXED_FIGURES:
        return []
    if figure.startswith(SECTION_PREFIX) and re.match(r"^[a-z0-9_]{1,64}$",
                                                      figure[len(SECTION_PREFIX):]):
        return []
    return [f"unknown figure {figure!r}: one of {', '.join(FIXED_FIGURES)} or "
            f"{SECTION_PREFIX}<section code>"]


def validate_mapping(body) -> tuple[dict, dict]:
    """(normalised mapping, errors by field). Body::

        {"org_unit_scheme": "UID" | "CODE", "data_set": "<uid>" | null,
         "entries": [{"figure": "score", "data_element": "...",
                      "category_option_combo": "..." | null, "id_scheme": "UID" | "CODE"}]}
    """
    errors: dict = {}
    if not isinstance(body, dict):
        return {}, {"body": ["must be a JSON object"]}
    unknown = sorted(set(body) - {"org_unit_scheme", "data_set", "entries"})
    for key in unknown:
        errors[key] = ["unknown field"]
    scheme = str(body.get("org_unit_scheme", "UID")).upper()
    if scheme not in SCHEMES:
        errors["org_unit_scheme"] = ["must be UID or CODE"]
    data_set = body.get("data_set")
    if data_set is not None and (not isinstance(data_set, str) or not UID.match(data_set)):
        errors["data_set"] = ["must be a DHIS2 UID (11 letters and digits, a letter first)"]
    entries = body.get("entries")
    normalised = []
    if not isinstance(entries, list):
        errors["entries"] = ["must be a list"]
        entries = []
    seen = set()
    for index, entry in enumerate(entries):
        where = f"entries.{index}"
        if not isinstance(entry, dict):
            errors[where] = ["must be an object"]
            continue
        extra = sorted(set(entry) - {"figure", "data_element", "category_option_combo",
                                     "id_scheme"})
        for key in extra:
            errors[f"{where}.{key}"] = ["unknown field"]
        figure = entry.get("figure")
        reasons = figure_errors(figure)
        if not reasons and figure in seen:
            reasons = [f"{figure} is mapped twice"]
        if reasons:
            errors[f"{where}.figure"] = reasons
        else:  # only a valid figure (a string) is remembered: a list or object is unhashable
            seen.add(figure)
        id_scheme = str(entry.get("id_scheme", "UID")).upper()
        if id_scheme not in SCHEMES:
            errors[f"{where}.id_scheme"] = ["must be UID or CODE"]
        for name, required in (("data_element", True), ("category_option_combo", False)):
            value = entry.get(name)
            if value is None and not required:
                continue
            if not isinstance(value, str) or not value.strip() or len(value) > 64:
                errors[f"{where}.{name}"] = ["is required" if value is None else
                                             "must be a text of 1 to 64 characters"]
            elif id_scheme == "UID" and not UID.match(value):
                errors[f"{where}.{name}"] = [
                    f"{value!r} is not a DHIS2 UID (11 letters and digits, a letter first); "
                    "use id_scheme CODE for a code"]
        normalised.append({"figure": figure, "data_element": entry.get("data_element"),
                           "category_option_combo": entry.get("category_option_combo"),
                           "id_scheme": id_scheme})
    return {"org_unit_scheme": scheme, "data_set": data_set, "entries": normalised}, errors


# --- planning an export -------------------------------------------------------

@dataclass(frozen=True)
class Value:
    """One data value to send, and where it comes from."""
    facility_id: str
    period: str
    figure: str
    target: str
    id_scheme: str
    data_element: str
    category_option_combo: str | None
    org_unit: str
    value: str

    def as_dhis2(self) -> dict:
        value = {"dataElement": self.data_element, "period": self.period,
                 "orgUnit": self.org_unit, "value": self.value}
        if self.category_option_combo:
            value["categoryOptionCombo"] = self.category_option_combo
        return value


@dataclass(frozen=True)
class Sent:
    target: str
    value: str
    status: str                  # sent | rejected
    retry_after: datetime | None
    attempts: int = 0            # refusals in a row of this very value


def plan_values(figures: dict, mapping: dict, org_units: dict, org_unit_scheme: str,
                sent: dict, now: datetime, send_all: bool = False):
    """What to send: ([Value], [skipped {facility_id, period, figure, reason}]).

    `figures`: {(facility_id, period): {figure: value}}; `mapping`: {figure: entry};
    `org_units`: {facility_id: {"dhis2_id", "code"}}; `sent`: {(facility, period,
    figure): Sent}. Unchanged values are left out (all of them with `send_all`);
    a value DHIS2 refused is tried again only after its `retry_after`.
    """
    values, skipped = [], []
    unmapped_figures = set()
    sent_figures: dict = {}
    for facility_id, period, figure in sent:
        sent_figures.setdefault((facility_id, period), set()).add(figure)
    for (facility_id, period), month in sorted(figures.items()):
        ref = org_units.get(facility_id) or {}
        org_unit = ref.get("dhis2_id" if org_unit_scheme == "UID" else "code")
        keys = set(month) | sent_figures.get((facility_id, period), set())
        for figure in sorted(keys):
            value = month.get(figure)
            previous = sent.get((facility_id, period, figure))
            if value is None:
                if figure in COUNTS and previous is not None and previous.value != "0":
                    value = "0"  # a count that fell to zero: DHIS2 must not keep the old one
                else:
                    continue
            entry = mapping.get(figure)
            if entry is None:
                unmapped_figures.add(figure)
                continue
            if figure in COUNTS and value == "0" and previous is None and not send_all:
                continue
            if not org_unit:
                skipped.append({"facility_id": facility_id, "period": period,
                                "figure": figure, "reason": (
                                    f"facility has no DHIS2 "
                                    f"{'id' if org_unit_scheme == 'UID' else 'code'}")})
                continue
            coc = entry.get("category_option_combo")
            target = "|".join((entry["id_scheme"], entry["data_element"], coc or "",
                               org_unit_scheme, org_unit))
            if previous is not None and previous.target == target and previous.value == value \
                    and not send_all:
                if previous.status == "sent" or (previous.retry_after or now) > now:
                    continue
            values.append(Value(facility_id, period, figure, target, entry["id_scheme"],
                                entry["data_element"], coc, org_unit, value))
    for figure in sorted(unmapped_figures):
        skipped.append({"facility_id": None, "period": None, "figure": figure,
                        "reason": "no DHIS2 data element mapped to this figure"})
    return values, skipped


def batches(values: list[Value], data_set: str | None, size: int = MAX_VALUES_PER_REQUEST):
    """[(id scheme, [Value], payload)]: one request per id scheme and per `size` values."""
    found = []
    for scheme in SCHEMES:
        group = [v for v in values if v.id_scheme == scheme]
        for start in range(0, len(group), size):
            chunk = group[start:start + size]
            payload = {"dataValues": [v.as_dhis2() for v in chunk]}
            if data_set:
                payload = {"dataSet": data_set, **payload}
            found.append((scheme, chunk, payload))
    return found


def rejected_values(chunk: list[Value], conflicts) -> dict:
    """{index in chunk: reason} of the values DHIS2 refused.

    DHIS2 2.38+ names the refused values by `indexes`; without them, a conflict
    is matched to values by the object it names (data element, org unit, combo,
    period or value). A conflict that names none of them refuses the whole chunk.
    """
    refused: dict[int, str] = {}
    for conflict in conflicts:
        reason = f"{conflict.value} ({conflict.object})" if conflict.object else conflict.value
        if conflict.indexes:
            for index in conflict.indexes:
                if 0 <= index < len(chunk):
                    refused.setdefault(index, reason)
            continue
        matched = [i for i, v in enumerate(chunk) if conflict.object in (
            v.data_element, v.org_unit, v.category_option_combo, v.period, v.value)]
        for index in matched or range(len(chunk)):
            refused.setdefault(index, reason)
    return refused


def backoff_s(failures: int, delays) -> int:
    """Seconds to wait after `failures` failed tries in a row (the last delay repeats)."""
    return delays[min(max(failures, 1), len(delays)) - 1]


def retry_after(attempts: int, now: datetime) -> datetime:
    """A value DHIS2 refused is tried again after 1 h, doubling to at most a week:
    someone must fix the metadata or the mapping, and the admins see why."""
    return now + timedelta(hours=min(2 ** max(0, attempts - 1), 168))


# --- metadata for DHIS2 -------------------------------------------------------

def make_uid(seed: str) -> str:
    """A DHIS2-shaped UID derived from `seed`: the same metadata posted twice
    updates the same objects instead of creating copies."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    digest = hashlib.sha256(("c2p:" + seed).encode("utf-8")).digest()
    letters = alphabet[:52]
    return letters[digest[0] % 52] + "".join(alphabet[b % 62] for b in digest[1:11])


def metadata(sections: list[dict]) -> tuple[dict, dict]:
    """(the `/api/metadata` payload: data elements and a monthly data set, the
    mapping that points at them by UID). `sections`: [{code, title_fr, title_en}]."""
    elements = []
    entries = []

    def element(figure, code, name_fr, name_en, value_type, aggregation):
        uid = make_uid(code)
        elements.append({
            "id": uid, "code": code, "name": f"C2P - {name_fr}",
            "shortName": f"C2P {name_fr}"[:50], "formName": name_fr,
            "description": f"C2P: {name_en}", "domainType": "AGGREGATE",
            "valueType": value_type, "aggregationType": aggregation,
            "zeroIsSignificant": False,
            "translations": [{"property": "NAME", "locale": "en", "value": f"C2P - {name_en}"}],
        })
        entries.append({"figure": figure, "data_element": uid, "category_option_combo": None,
                        "id_scheme": "UID"})

    element("score", "C2P_SCORE", *FIGURE_LABELS["score"], "NUMBER", "AVERAGE")
    for section in sorted(sections, key=lambda s: s["code"]):
        code = "C2P_SECTION_" + re.sub(r"[^A-Z0-9]+", "_", section["code"].upper())
        element(SECTION_PREFIX + section["code"], code[:50],
                f"Score {section.get('title_fr') or section['code']} (%)",
                f"{section.get('title_en') or section['code']} score (%)", "NUMBER",
                "AVERAGE")
    for figure in COUNTS:
        element(figure, f"C2P_{figure.upper()}", *FIGURE_LABELS[figure],
                "INTEGER_ZERO_OR_POSITIVE", "SUM")
    data_set = {
        "id": make_uid("C2P_SUPERVISION"), "code": "C2P_SUPERVISION",
        "name": "C2P - Supervision formative PEV", "shortName": "C2P Supervision PEV",
        "periodType": "Monthly", "openFuturePeriods": 0, "expiryDays": 0,
        "dataSetElements": [{"dataElement": {"id": e["id"]}} for e in elements],
    }
    payload = {"dataElements": elements, "dataSets": [data_set]}
    return payload, {"org_unit_scheme": "UID", "data_set": data_set["id"], "entries": entries}
