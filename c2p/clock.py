"""Time, once for every service: the clock, and dates as ISO 8601 text.

"Today" decides what is due soon, overdue or late; tests give a service a clock
of their own (`Clock(FixedClock(...))` on a subclass) instead of waiting for days.
Mali keeps UTC all year, so the UTC day is the day in Bamako.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from nameko.extensions import DependencyProvider


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(timezone.utc)


def iso(moment: date | datetime | None) -> str | None:
    """A date or date-time as ISO 8601 text; None stays None."""
    return moment.isoformat() if moment else None


def parse_iso(text: str) -> date | datetime:
    """A day (`YYYY-MM-DD`) as a date, anything longer as a timezone-aware
    date-time (`Z` accepted; without an offset, UTC). ValueError if neither."""
    text = text.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def day_of(value: str | date | datetime) -> date:
    """The day of a date, a date-time or their ISO text (as written, not converted)."""
    if isinstance(value, str):
        value = parse_iso(value)
    return value.date() if isinstance(value, datetime) else value


# A day as the app shows it (Intl "medium" date in fr-ML and en-GB), in alerts and
# reports too: unambiguous in both languages (01/12 is 12 January to many English
# readers), and short enough for an SMS.
MONTHS = {
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
           "oct.", "nov.", "déc."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
           "Dec"),
}


def day_for_people(value: str | date | datetime | None, language: str) -> str:
    """"1 déc. 2026" / "1 Dec 2026" for a date, a date-time or their ISO text; a
    moment is shown as its day in Bamako (UTC, see above), whatever its offset;
    "—" for none. Never ISO text: that is for machines."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = parse_iso(value)
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)) \
            .astimezone(timezone.utc).date()
    return f"{value.day} {MONTHS[language][value.month - 1]} {value.year}"


class SystemClock:
    def now(self) -> datetime:
        return utcnow()

    def today(self) -> date:
        return self.now().date()


class FixedClock(SystemClock):
    """A clock that says what it is told (tests)."""

    def __init__(self, today: date):
        self.day = today

    def now(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 12, tzinfo=timezone.utc)

    def today(self) -> date:
        return self.day

    def advance(self, days: int):
        self.day += timedelta(days=days)


class SourceClock(SystemClock):
    """A clock reading the time from a function (tests: a controllable `now`)."""

    def __init__(self, source):
        self._source = source

    def now(self) -> datetime:
        return self._source()


class Clock(DependencyProvider):
    """Gives each worker the service's clock: the system clock unless given one
    (`Clock(FixedClock(day))`) or a function that tells the time (`Clock(source=f)`)."""

    def __init__(self, clock=None, source=None):
        self.clock = clock or (SourceClock(source) if source else SystemClock())

    def get_dependency(self, worker_ctx):
        return self.clock
