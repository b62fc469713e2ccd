"""Who is told what, when: the notify service's rules, with no framework import.

- `may_alert(event_type, data)`: whether the event can alert anyone at all;
- `recipients_for(event_type, data, accounts)`: who an event concerns, and as
  which kind of alert, from the event's data and the replica of accounts;
- `external_channels(account)`: where an alert goes besides the inbox;
- `quiet_until(now, preferences)`: when quiet hours hold a delivery, till when;
- `next_attempt(attempts, delays, now)`: back-off after a failed send;
- `digest_due(now, preferences, hour)`: whether the day's digest is due.

Times are aware datetimes; "now" is always passed in, so every rule is tested
with any clock.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Callable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from c2p.scope import in_scope

DEFAULT_LANGUAGE = "fr"  # the working language, for someone not yet in the replica
DEFAULT_TIMEZONE = "Africa/Bamako"
EXTERNAL_CHANNELS = ("email", "sms", "whatsapp")


@dataclass(frozen=True)
class Account:
    """What notify knows of a person (from `account.*` events)."""
    id: str
    role: str = ""
    scope: tuple = ()
    language: str = DEFAULT_LANGUAGE
    email: str | None = None
    phone: str | None = None
    coaching: tuple = ()  # facility paths the coach is assigned to
    channels: tuple = ("inbox",)
    quiet_hours: dict | None = None
    digest: bool = False
    timezone: str = DEFAULT_TIMEZONE
    active: bool = True
    known: bool = True  # False: only an id from an event, no replica yet


def unknown(account_id: str) -> Account:
    return Account(id=account_id, known=False)


@dataclass
class Recipient:
    account_id: str
    kind: str


@dataclass
class Accounts:
    """The part of the replica an event needs: people by id, and the coaches and
    champions that could cover a facility. `staff_loader`, when given, reads the
    staff the first time a rule asks for them: most events name everyone they
    alert (an owner, the coachees) and never do."""
    by_id: dict = field(default_factory=dict)
    staff: list | None = None  # active coaches and champions
    staff_loader: Callable[[], list] | None = None

    def get(self, account_id):
        return self.by_id.get(account_id) or unknown(account_id)

    def _staff(self) -> list:
        if self.staff is None:
            self.staff = list(self.staff_loader()) if self.staff_loader else []
            for account in self.staff:
                self.by_id.setdefault(account.id, account)
        return self.staff

    def coaches_of(self, facility_path):
        """Coaches whose coaching assignments or scope cover the facility."""
        return [a.id for a in self._staff() if a.role == "coach" and a.active and (
            facility_path in a.coaching or in_scope(facility_path, a.scope))]

    def champions_of(self, facility_path):
        return [a.id for a in self._staff() if a.role == "champion" and a.active
                and in_scope(facility_path, a.scope)]


def referenced_ids(event_type: str, data: dict) -> set:
    """Account ids an event names, to load from the replica."""
    ids = {data.get("coach_id"), data.get("owner_id"), data.get("uploaded_by")}
    ids.update(data.get("owner_ids") or ())
    ids.update(data.get("coachee_ids") or ())
    ids.update(person["id"] for person in data.get("coachees") or ())
    return {i for i in ids if i}


# The alert of a follow-up visit's verified actions, all in one (the data is
# `verified_on_visit`'s); "action.verified" is one action's, from before the upgrade.
VISIT_VERIFIED = "actions.status_changed"


def verified_on_visit(data: dict) -> dict | None:
    """What the alert about a follow-up visit's verified actions needs, from an
    `actions.status_changed` (one per visit, whatever the number of actions): the
    facility, the plan, the people, the actions' texts. None when a person made
    the change (alerts for those come from other events)."""
    if not verifies_on_visit(data):
        return None
    verified = [c for c in data["changes"] if c["status"] == "done"]
    first = verified[0]
    people = {"owner_ids": [], "coachee_ids": []}
    for change in verified:
        if change.get("owner_id") and change["owner_id"] not in people["owner_ids"]:
            people["owner_ids"].append(change["owner_id"])
        for coachee in change.get("coachee_ids") or ():
            if coachee not in people["coachee_ids"]:
                people["coachee_ids"].append(coachee)
    return {key: first[key] for key in ("plan_id", "facility_id", "facility_name",
                                        "facility_path", "coach_id")} | people | {
        "submission_id": data["submission_id"], "visited_at": data["visited_at"],
        "actions": [{"text_fr": c["text_fr"], "text_en": c["text_en"]} for c in verified]}


def verifies_on_visit(data: dict) -> bool:
    """Did a follow-up visit close some of these actions? Also asked of the data as
    it arrives (`c2p.entrypoints.Subscription`'s `when`): in the field most status
    changes are people's own, and are then acked without a worker or a transaction."""
    return bool(data.get("submission_id")) and any(
        change["status"] == "done" for change in data["changes"])


def may_alert(event_type: str, data: dict) -> bool:
    """False when the event alerts nobody whoever is in the replica (a visit that is
    not flagged): the handler then reads nothing."""
    if event_type == "checklist.submitted":
        return may_alert_on_visit(data)
    return True


def may_alert_on_visit(data: dict) -> bool:
    """Only a flagged visit alerts anyone. Also asked of a visit's data as it
    arrives, before it is validated (`c2p.entrypoints.Subscription`'s `when`): most
    visits are not flagged, and are then acked without a worker or a transaction."""
    return bool(data["score"]["flagged"])


def ancestors(path: str) -> list[str]:
    """Every org-unit path `path` lies under, as `in_scope` compares a scope root
    (its trailing slashes stripped): "/ML/A/B" -> ["", "/ML", "/ML/A"]."""
    return [path[:i] for i, char in enumerate(path) if char == "/"]


def needs_staff(event_type: str, data: dict) -> bool:
    """Whether `recipients_for` will ask for the facility's coaches or champions, so
    they may be read with the people the event names, in the same statement. Only
    a saving: a rule that asks when this said no still gets them (read then)."""
    if event_type in ("plan.created", "plan.completed", "evidence.uploaded",
                      "action.overdue"):
        return True
    if event_type == "action.due_soon":
        return not data.get("owner_id")
    if event_type == "action.commented":
        return data.get("author_role") == "coachee"
    if event_type == "checklist.submitted":
        return bool((data.get("score") or {}).get("flagged"))
    return False


def recipients_for(event_type: str, data: dict, accounts: Accounts) -> list[Recipient]:
    """Who is told about this event, in order, each once (first kind wins)."""
    path = data.get("facility_path", "")

    def coaches():
        # The coach named by the event first; the facility's other coaches too.
        return [data["coach_id"], *accounts.coaches_of(path)]

    found: list[tuple[str, str]] = []
    if event_type == "plan.created":
        found = [(i, "plan.to_agree") for i in [*coaches(), *data.get("coachee_ids", [])]]
    elif event_type == "plan.completed":
        found = [(i, "plan.completed") for i in [*coaches(), *data.get("coachee_ids", [])]]
    elif event_type == "evidence.uploaded":
        found = [(i, "evidence.to_review") for i in coaches()]
    elif event_type == "evidence.reviewed":
        found = [(data["uploaded_by"], f"evidence.{data['decision']}")]
    elif event_type == "action.due_soon":
        # The owner; nobody owns it: the coach, who must find someone.
        owners = [data["owner_id"]] if data.get("owner_id") else coaches()
        found = [(i, "action.due_soon") for i in owners]
    elif event_type == "action.overdue":
        # Escalation: the owner, then the coach.
        owners = [data["owner_id"]] if data.get("owner_id") else []
        found = [(i, "action.overdue") for i in [*owners, *coaches()]]
    elif event_type in ("action.verified", VISIT_VERIFIED):
        # Good news for whoever did the work; the coach saw it on the visit.
        owners = data.get("owner_ids") or ([data["owner_id"]] if data.get("owner_id") else [])
        found = [(i, "action.verified") for i in [*owners, *data.get("coachee_ids", [])]]
    elif event_type == "action.commented":
        # A conversation: the other side is told, never the author.
        if data["author_role"] == "coachee":
            others = coaches()
        else:
            others = [data["owner_id"]] if data.get("owner_id") else []
            others += data.get("coachee_ids", [])
        found = [(i, "action.comment") for i in others if i != data["author_id"]]
    elif event_type == "checklist.submitted":
        # The coach who made the visit saw the flag when submitting it: the
        # alert is for the facility's other coaches and the district's champion.
        if data["score"]["flagged"]:
            found = [(i, "visit.flagged")
                     for i in [*accounts.coaches_of(path), *accounts.champions_of(path)]
                     if i != data["coach_id"]]
    seen, result = set(), []
    for account_id, kind in found:
        if account_id and account_id not in seen:
            seen.add(account_id)
            account = accounts.get(account_id)
            if account.active:
                result.append(Recipient(account_id, kind))
    return result


def external_channels(account: Account) -> list[tuple[str, str]]:
    """(channel, address) for each channel the person chose and can be reached on."""
    found = []
    for channel in EXTERNAL_CHANNELS:
        if channel not in account.channels:
            continue
        address = account.email if channel == "email" else account.phone
        if address:
            found.append((channel, address))
    return found


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def _clock_time(text) -> time | None:
    try:
        hours, minutes = str(text).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        return None


def quiet_until(now: datetime, quiet_hours: dict | None, tz: str | None) -> datetime | None:
    """The end of the quiet hours `now` falls in (UTC), or None when not quiet.

    `quiet_hours` is {"start": "21:00", "end": "07:00"} in the person's time
    zone; a window may cross midnight. A malformed or empty window is ignored:
    better a message at night than none.
    """
    if not quiet_hours:
        return None
    start, end = _clock_time(quiet_hours.get("start")), _clock_time(quiet_hours.get("end"))
    if start is None or end is None or start == end:
        return None
    local_zone = zone(tz)
    local = now.astimezone(local_zone)
    moment = local.time().replace(second=0, microsecond=0, tzinfo=None)
    today = local.date()
    if start < end:
        quiet = start <= moment < end
        end_day = today
    else:  # crosses midnight
        quiet = moment >= start or moment < end
        end_day = today + timedelta(days=1) if moment >= start else today
    if not quiet:
        return None
    return datetime.combine(end_day, end, tzinfo=local_zone).astimezone(timezone.utc)


def next_attempt(attempts: int, delays_s, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries; None: give up."""
    if attempts - 1 >= len(delays_s):
        return None
    return now + timedelta(seconds=delays_s[attempts - 1])


def digest_day(now: datetime, tz: str | None, hour: int) -> date | None:
    """The local day whose digest is due at `now` (at or after `hour` local), or None."""
    local = now.astimezone(zone(tz))
    return local.date() if local.hour >= min(max(hour, 0), 23) else None


def common_path(paths) -> str | None:
    """The deepest org-unit path that every one of `paths` lies under (or is)."""
    split = [p.rstrip("/").split("/") for p in paths if p]
    if not split:
        return None
    common = []
    for parts in zip(*split):
        if len(set(parts)) > 1:
            break
        common.append(parts[0])
    return "/".join(common) or "/"


DIGEST_NAMESPACE = uuid.UUID("6f1c7a52-8d0e-4c52-9d0b-3f1f2f0c2a11")


def digest_id(account_id: str, channel: str, day: date) -> uuid.UUID:
    """One digest per person, channel and day: the id makes a second one collide."""
    return uuid.uuid5(DIGEST_NAMESPACE, f"{account_id}|{channel}|{day.isoformat()}")
