"""Reading and writing the notify tables: the replica of recipients, the inbox, and
the deliveries, created by event handlers and sent by a timer. Functions take a
SQLAlchemy session and never commit: the caller's unit of work does.

An event handler only writes rows (inbox message, one delivery per recipient
and channel) in its own transaction; nothing leaves the machine there. The
delivery timer then:

1. `compose_digests`: folds the alerts held for a daily digest into one
   delivery per person, channel and day, once the day's digest hour has come;
2. `claim`: takes due rows with `FOR UPDATE SKIP LOCKED` (replicas never take
   the same row), re-checks quiet hours and the account, marks the rest
   `sending` with a lease (the timer commits that before sending);
3. sends them outside any transaction (see `notify.channels`);
4. `record`: marks each one delivered, or schedules a retry with back-off, or
   marks it failed, and emits `notification.delivered` / `notification.failed`.

A process that dies while sending leaves rows `sending`; once their lease has
expired another worker takes them again (at-least-once, like the bus).

Statuses: pending (due at next_attempt_at), held (quiet hours, due at their
end), digest (waiting for the digest), digested (folded into `digest_id`),
sending, delivered, failed, cancelled (account disabled before it went).
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from c2p.database import multi_row
from c2p.ids import parse_uuid
from c2p.scope import in_scope_clause
from notify import domain, templates
from notify.channels import Outgoing
from notify.models import Delivery, InboxMessage, KnownAction, Recipient

LEASE = timedelta(minutes=5)
DIGEST_EVENT_TYPE = "notify.digest"


def account_of(row: Recipient | None, account_id: str) -> domain.Account:
    if row is None:
        return domain.unknown(account_id)
    prefs = row.preferences or {}
    return domain.Account(
        id=row.account_id, role=row.role, scope=tuple(row.scope or ()),
        language=row.language, email=row.email, phone=row.phone,
        coaching=tuple(a["facility_path"] for a in row.coaching or ()),
        channels=tuple(prefs.get("channels") or ("inbox",)),
        quiet_hours=prefs.get("quiet_hours"), digest=bool(prefs.get("digest")),
        timezone=prefs.get("timezone") or domain.DEFAULT_TIMEZONE, active=row.active)


# The reads of every alerting event, built once on the table's columns (Core, no
# ORM compile step): building them per event cost more CPU than running them.
_R = Recipient.__table__.c
RECIPIENT_COLUMNS = [_R[name] for name in ("account_id", "role", "scope", "language", "email",
                                           "phone", "coaching", "preferences", "active")]
_STAFF = and_(_R.role.in_(("coach", "champion")), _R.active)
_ROOTS = func.jsonb_array_elements_text(_R.scope).table_valued("value")
NAMED_ACCOUNTS = select(*RECIPIENT_COLUMNS).where(
    _R.account_id.in_(bindparam("ids", expanding=True)))
ALL_STAFF = select(*RECIPIENT_COLUMNS).where(_STAFF)
# A scope root at or above the path, or a coaching assignment naming it.
_COVERS = and_(_STAFF, or_(
    exists(select(1).select_from(_ROOTS).where(or_(
        _ROOTS.c.value == bindparam("path"),
        func.rtrim(_ROOTS.c.value, "/").in_(bindparam("ancestors", expanding=True))))),
    _R.coaching.op("@>")(bindparam("assignment", type_=JSONB))))
STAFF_COVERING = select(*RECIPIENT_COLUMNS).where(_COVERS)
# The people named and the staff covering the path in one round trip, when the
# event's rule is known to ask for both (`domain.needs_staff`).
NAMED_AND_STAFF = select(*RECIPIENT_COLUMNS, _COVERS.label("covers")).where(or_(
    _R.account_id.in_(bindparam("ids", expanding=True)), _COVERS))


def _covering(facility_path) -> dict:
    return {"path": facility_path, "ancestors": domain.ancestors(facility_path),
            "assignment": [{"facility_path": facility_path}]}


def load_accounts(session, ids, facility_path=None, staff_too=False) -> domain.Accounts:
    """The people an event names; the active coaches and champions that may cover
    `facility_path` (every one of them when no path is given) only if a rule asks,
    or read with the named ones in one statement when `staff_too` says it will.

    Plain rows, not ORM objects: this runs for every alerting event. The SQL only
    narrows the staff down (a scope root at or above the path, or a coaching
    assignment naming it); `domain.Accounts` applies the exact rule."""
    named = [i for i in ids if i]
    if staff_too and facility_path:
        rows = session.execute(NAMED_AND_STAFF, {"ids": named, **_covering(facility_path)})
        by_id, staff = {}, []
        for row in rows:
            account = by_id[row.account_id] = account_of(row, row.account_id)
            if row.covers:
                staff.append(account)
        return domain.Accounts(by_id=by_id, staff=staff)
    rows = session.execute(NAMED_ACCOUNTS, {"ids": named}).all() if named else []

    def staff():
        if not facility_path:
            found = session.execute(ALL_STAFF)
        else:
            found = session.execute(STAFF_COVERING, _covering(facility_path))
        return [account_of(row, row.account_id) for row in found]

    return domain.Accounts(by_id={row.account_id: account_of(row, row.account_id)
                                  for row in rows}, staff_loader=staff)


def delivery_event(row: Delivery, at, error=None) -> dict:
    data = {"notification_id": row.notification_id, "event_id": row.event_id,
            "event_type": row.event_type, "recipient_id": row.recipient_id,
            "channel": row.channel, "attempts": row.attempts, "at": at, "kind": row.kind}
    if error is not None:
        data["error"] = error[:1000]
    return data


# Built once, executed with one parameter set per row: SQLAlchemy sends one
# multi-row INSERT (`multi_row`) and neither compiles nor hashes the rows'
# values again, as `insert(...).values(rows)` would for every event.
WRITE_INBOX = multi_row(insert(InboxMessage.__table__).on_conflict_do_nothing(),
                        InboxMessage.__table__.c.recipient_id)
WRITE_DELIVERY = multi_row(insert(Delivery.__table__).on_conflict_do_nothing(),
                           Delivery.__table__.c.id)
REMEMBER_ACTION = multi_row(insert(KnownAction.__table__).on_conflict_do_nothing(),
                            KnownAction.__table__.c.action_id)


def notify(session, event, now, known=None) -> int:
    """Write the inbox messages and deliveries of one event; return how many people.

    Two multi-row inserts whatever the number of people: the inbox messages
    (those already there for this event are skipped, and so are their
    deliveries), then one delivery per person and channel. The inbox delivery is
    written `delivered` and announces nothing: the inbox row is the delivery
    (`notification.delivered` is for channels that leave the platform)."""
    if not domain.may_alert(event.type, event.data):
        return 0
    accounts = load_accounts(session, domain.referenced_ids(event.type, event.data),
                             event.data.get("facility_path"),
                             staff_too=domain.needs_staff(event.type, event.data))
    recipients = domain.recipients_for(event.type, event.data, accounts)
    if not recipients:
        return 0
    messages = {}
    for recipient in recipients:
        texts = templates.compose(recipient.kind, event.type, event.data, known)
        messages[recipient.account_id] = dict(
            id=uuid.uuid4(), recipient_id=recipient.account_id, event_id=event.id,
            kind=recipient.kind, created_at=now, **texts)
    stored = set(session.scalars(WRITE_INBOX, list(messages.values())))
    deliveries = []
    for recipient_id in (r.account_id for r in recipients if r.account_id in stored):
        account, message = accounts.get(recipient_id), messages[recipient_id]
        language = account.language if account.language in templates.LANGUAGES else "fr"
        common = dict(notification_id=message["id"], event_id=event.id,
                      event_type=event.type, kind=message["kind"], recipient_id=recipient_id,
                      language=language, subject=message[f"title_{language}"],
                      body=message[f"body_{language}"], link=message["link"], created_at=now,
                      facility_path=event.data.get("facility_path"))
        # The inbox is always immediate: delivered as it is written.
        deliveries.append(_delivery(common, channel="inbox", address=None, status="delivered",
                                    attempts=1, next_attempt_at=None, finished_at=now))
        quiet = domain.quiet_until(now, account.quiet_hours, account.timezone)
        for channel, address in domain.external_channels(account):
            if account.digest:
                status, due = "digest", None
            elif quiet:
                status, due = "held", quiet
            else:
                status, due = "pending", now
            deliveries.append(_delivery(common, channel=channel, address=address,
                                        status=status, attempts=0, next_attempt_at=due,
                                        finished_at=None))
    if deliveries:
        # Unique (event, recipient, channel): a row already there stays as it is.
        session.execute(WRITE_DELIVERY, deliveries)
    return len(recipients)


def _delivery(common: dict, **values) -> dict:
    return {"id": uuid.uuid4(), **common, **values}


def compose_digests(session, now, hour) -> int:
    """Fold held alerts into one digest per person, channel and day once it is due."""
    rows = session.scalars(select(Delivery).where(Delivery.status == "digest")
                           .order_by(Delivery.created_at)
                           .with_for_update(skip_locked=True)).all()
    groups = defaultdict(list)
    for row in rows:
        groups[(row.recipient_id, row.channel)].append(row)
    people = {r.account_id: r for r in session.scalars(select(Recipient).where(
        Recipient.account_id.in_({k[0] for k in groups})))}
    made = 0
    for (recipient_id, channel), held in groups.items():
        account = account_of(people.get(recipient_id), recipient_id)
        day = domain.digest_day(now, account.timezone, hour)
        if day is None:
            continue
        digest_id = domain.digest_id(recipient_id, channel, day)
        if session.get(Delivery, digest_id) is not None:
            continue  # today's digest went already: these wait for tomorrow's
        language = held[-1].language
        items = [{"title": d.subject, "body": d.body if channel == "email" else ""}
                 for d in held]
        subject, body = templates.digest(day, items, language)
        session.add(Delivery(
            id=digest_id, notification_id=digest_id, event_id=digest_id,
            event_type=DIGEST_EVENT_TYPE, kind="digest", recipient_id=recipient_id,
            channel=channel, address=held[-1].address, language=language, subject=subject,
            body=body, link="", status="pending", attempts=0, next_attempt_at=now,
            created_at=now, facility_path=domain.common_path(d.facility_path for d in held)))
        for row in held:
            row.status, row.digest_id, row.finished_at = "digested", digest_id, now
        made += 1
    session.flush()
    return made


def claim(session, now, batch=50) -> list[Outgoing]:
    """Take due deliveries for this worker (SKIP LOCKED); the caller commits."""
    rows = session.scalars(
        select(Delivery).where(or_(
            and_(Delivery.status.in_(("pending", "held")), Delivery.next_attempt_at <= now),
            and_(Delivery.status == "sending", Delivery.lease_until < now)))
        .order_by(Delivery.next_attempt_at).limit(batch)
        .with_for_update(skip_locked=True)).all()
    people = {r.account_id: r for r in session.scalars(select(Recipient).where(
        Recipient.account_id.in_({d.recipient_id for d in rows})))}
    claimed = []
    for row in rows:
        person = people.get(row.recipient_id)
        account = account_of(person, row.recipient_id)
        if person is not None and not person.active:
            row.status, row.last_error, row.finished_at = "cancelled", "account disabled", now
            continue
        until = domain.quiet_until(now, account.quiet_hours, account.timezone)
        if until is not None:
            row.status, row.next_attempt_at = "held", until
            continue
        # A corrected address applies to what has not gone yet.
        current = account.email if row.channel == "email" else account.phone
        if current:
            row.address = current
        row.status, row.attempts, row.lease_until = "sending", row.attempts + 1, now + LEASE
        claimed.append(Outgoing(id=str(row.id), channel=row.channel, address=row.address,
                                language=row.language, subject=row.subject, body=row.body,
                                link=row.link, attempts=row.attempts))
    return claimed


def record(session, emit, out: Outgoing, error, now, delays_s) -> str | None:
    """Settle one send: delivered, retry later, or failed. Returns the new status."""
    row = session.get(Delivery, uuid.UUID(out.id), with_for_update=True)
    if row is None or row.status != "sending" or row.attempts != out.attempts:
        return None  # the lease expired and another worker took it over
    row.lease_until = None
    if error is None:
        row.status, row.finished_at, row.last_error = "delivered", now, None
        emit("notification.delivered", delivery_event(row, now))
        return row.status
    row.last_error = str(error)[:2000]
    retry_at = None if getattr(error, "permanent", False) else domain.next_attempt(
        row.attempts, delays_s, now)
    if retry_at is not None:
        row.status, row.next_attempt_at = "pending", retry_at
    else:
        row.status, row.finished_at = "failed", now
        emit("notification.failed", delivery_event(row, now, error=row.last_error))
    return row.status


# --- the replica of recipients and actions ----------------------------------------

def save_recipient(session, account_id: str, values: dict) -> None:
    """Insert or update what notify knows of an account. An older state arriving
    late (a retried event) never overwrites a newer one (`as_of`)."""
    statement = insert(Recipient).values(account_id=account_id, **values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[Recipient.account_id], set_=values,
        where=Recipient.as_of <= statement.excluded.as_of))


def recipient(session, account_id) -> Recipient | None:
    return session.get(Recipient, account_id)


def remember_actions(session, rows: list[dict]) -> None:
    """Keep the actions of a plan (one insert); those already known stay as they are."""
    if rows:
        session.execute(REMEMBER_ACTION, rows)


def known_action(session, action_id) -> KnownAction | None:
    return session.get(KnownAction, action_id)


# --- the inbox ---------------------------------------------------------------------

def inbox(session, recipient_id, page, per_page, unread_only=False):
    """(total, messages of the page), newest first."""
    query = select(InboxMessage).where(InboxMessage.recipient_id == recipient_id)
    if unread_only:
        query = query.where(InboxMessage.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(InboxMessage.created_at.desc(), InboxMessage.id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return total, rows


def count_unread(session, recipient_id) -> int:
    return session.scalar(select(func.count()).select_from(InboxMessage).where(
        InboxMessage.recipient_id == recipient_id, InboxMessage.read_at.is_(None)))


def inbox_message(session, message_id, lock=False) -> InboxMessage | None:
    key = parse_uuid(message_id)
    return None if key is None else session.get(InboxMessage, key, with_for_update=lock)


def mark_all_read(session, recipient_id, now) -> int:
    return session.execute(
        update(InboxMessage).where(InboxMessage.recipient_id == recipient_id,
                                   InboxMessage.read_at.is_(None))
        .values(read_at=now)).rowcount


# --- the delivery log ----------------------------------------------------------------

def deliveries(session, scope, filters: dict, page, per_page):
    """(total, deliveries of the page) in the scope, newest first; `filters` maps
    a Delivery column to the value it must have."""
    query = select(Delivery).where(in_scope_clause(Delivery.facility_path, scope))
    for name, value in filters.items():
        query = query.where(getattr(Delivery, name) == value)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Delivery.created_at.desc(), Delivery.id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return total, rows
