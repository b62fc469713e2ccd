"""Notify entrypoints: the replica of recipients, alerts from events, the delivery
timer, the inbox and the delivery log.

Event handlers only write rows (see `notify.delivery`): the inbox message and
one delivery per recipient and channel, committed with the processed event id.
The `deliver` timer sends them afterwards, outside any handler's transaction,
so a redelivered event never sends twice and a crash never loses a message.
"""
from __future__ import annotations

import logging
import uuid

import eventlet
import eventlet.queue
from nameko import config
from sqlalchemy import false, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from c2p.contracts.notify import CHANNELS
from c2p.entrypoints import rpc, subscribe, timer
from c2p.errors import Forbidden, InvalidInput, NotFound
from c2p.service import PlatformService
from notify import delivery
from notify.dependencies import Channels, Clock
from notify.models import DELIVERY_STATUSES, Delivery, InboxMessage, KnownAction, Recipient

log = logging.getLogger(__name__)

SEND_CONCURRENCY = 10
BATCH = 50
MAX_BATCHES = 20


class NotifyService(PlatformService):
    name = "notify"
    clock = Clock()
    channels = Channels()

    # --- who: the replica of recipients ------------------------------------

    @subscribe("account.*")
    def on_account_changed(self, event):
        data = event.data
        values = dict(
            username=data["username"], display_name=data["display_name"], role=data["role"],
            scope=list(data["scope"]), language=data["language"], email=data.get("email"),
            phone=data.get("phone"), facility_id=data.get("facility_id"),
            coaching=[dict(a) for a in data.get("coaching") or ()],
            preferences=dict(data.get("preferences") or {}),
            active=bool(data["active"]) and event.type != "account.disabled",
            as_of=event.occurred_at)
        statement = insert(Recipient).values(account_id=data["account_id"], **values)
        # An older state arriving late (a retried event) never overwrites a newer one.
        self.db.session.execute(statement.on_conflict_do_update(
            index_elements=[Recipient.account_id], set_=values,
            where=Recipient.as_of <= statement.excluded.as_of))

    # --- what: alerts from events ------------------------------------------

    def _notify(self, event, known=None):
        delivery.notify(self.db.session, self.db.emit, event, self.clock.now(), known)

    @subscribe("plan.created")
    def on_plan_created(self, event):
        plan = event.data
        for action in plan["actions"]:
            self.db.session.execute(insert(KnownAction).values(
                action_id=action["action_id"], plan_id=plan["plan_id"],
                facility_name=plan["facility_name"], text_fr=action["text_fr"],
                text_en=action["text_en"], due_date=action["due_date"])
                .on_conflict_do_nothing())
        self._notify(event)

    @subscribe("plan.completed")
    def on_plan_completed(self, event):
        self._notify(event)

    @subscribe("checklist.submitted")
    def on_checklist_submitted(self, event):
        self._notify(event)  # alerts only when the visit is flagged (domain rule)

    @subscribe("evidence.uploaded")
    def on_evidence_uploaded(self, event):
        self._notify(event, self._known_action(event.data["action_id"]))

    @subscribe("evidence.reviewed")
    def on_evidence_reviewed(self, event):
        self._notify(event, self._known_action(event.data["action_id"]))

    @subscribe("action.due_soon")
    def on_action_due_soon(self, event):
        self._notify(event)

    @subscribe("action.overdue")
    def on_action_overdue(self, event):
        self._notify(event)

    @subscribe("action.verified")
    def on_action_verified(self, event):
        self._notify(event)

    @subscribe("action.commented")
    def on_action_commented(self, event):
        author = self.db.session.get(Recipient, event.data["author_id"])
        self._notify(event, {"author": author.display_name} if author else None)

    def _known_action(self, action_id):
        action = self.db.session.get(KnownAction, action_id)
        if action is None:
            return None
        return {"facility_name": action.facility_name, "text_fr": action.text_fr,
                "text_en": action.text_en}

    # --- sending: after the rows are committed -----------------------------

    @timer("notify_interval_s")
    def deliver(self):
        """Compose due digests, then claim, send and record due deliveries, a batch
        at a time (a backlog drains in one tick, up to MAX_BATCHES)."""
        settings = config["C2P_SETTINGS"]
        session = self.db.session
        delivery.compose_digests(session, self.clock.now(), settings.notify_digest_hour)
        session.commit()
        for _ in range(MAX_BATCHES):
            claimed = delivery.claim(session, self.clock.now(), batch=BATCH)
            # The claim (status sending, lease) is durable before anything is sent.
            session.commit()
            if not claimed:
                return
            self._send_all(claimed, settings.notify_retry_delays_s)
            if len(claimed) < BATCH:
                return

    def _send_all(self, claimed, delays_s):
        """Send concurrently; record each outcome as soon as it is known, so a slow
        or failing channel never holds up the others."""
        outcomes = eventlet.queue.LightQueue()

        def send(out):
            try:
                self.channels.send(out)
                outcomes.put((out, None))
            except Exception as exc:  # SendError, or a bug in one sender: not the batch
                if not hasattr(exc, "permanent"):
                    log.exception("sending %s on %s failed unexpectedly", out.id, out.channel)
                outcomes.put((out, exc))

        pool = eventlet.GreenPool(SEND_CONCURRENCY)
        for out in claimed:
            pool.spawn_n(send, out)
        for _ in claimed:
            out, error = outcomes.get()
            status = delivery.record(self.db.session, self.db.emit, out, error,
                                     self.clock.now(), delays_s)
            self.db.session.commit()  # each outcome durable on its own
            if error is not None:
                log.warning("delivery %s on %s attempt %d: %s -> %s", out.id, out.channel,
                            out.attempts, error, status)

    # --- the inbox ---------------------------------------------------------

    @rpc
    def list_inbox(self, recipient_id, page=1, per_page=20, unread_only=False):
        session = self.db.session
        query = select(InboxMessage).where(InboxMessage.recipient_id == recipient_id)
        if unread_only:
            query = query.where(InboxMessage.read_at.is_(None))
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(InboxMessage.created_at.desc(),
                                              InboxMessage.id)
                               .offset((page - 1) * per_page).limit(per_page)).all()
        return {"total": total, "page": page, "per_page": per_page,
                "items": [_inbox_view(m) for m in rows]}

    @rpc
    def count_unread(self, recipient_id):
        return {"unread": self.db.session.scalar(
            select(func.count()).select_from(InboxMessage).where(
                InboxMessage.recipient_id == recipient_id,
                InboxMessage.read_at.is_(None)))}

    @rpc
    def mark_read(self, recipient_id, message_id):
        message = self.db.session.get(InboxMessage, _uuid(message_id, "message_id"),
                                      with_for_update=True)
        if message is None or message.recipient_id != recipient_id:
            raise NotFound(f"inbox message {message_id} not found")
        if message.read_at is None:
            message.read_at = self.clock.now()
        return _inbox_view(message)

    @rpc
    def mark_all_read(self, recipient_id):
        result = self.db.session.execute(
            update(InboxMessage).where(InboxMessage.recipient_id == recipient_id,
                                       InboxMessage.read_at.is_(None))
            .values(read_at=self.clock.now()))
        return {"marked": result.rowcount}

    # --- the delivery log (admins) -----------------------------------------

    @rpc
    def list_deliveries(self, caller, filters=None, page=1, per_page=50):
        if (caller or {}).get("role") != "admin":
            raise Forbidden("the delivery log is for administrators")
        filters = dict(filters or {})
        unknown = set(filters) - {"status", "channel", "recipient_id", "event_id",
                                  "event_type", "kind"}
        errors = {name: ["unknown filter"] for name in unknown}
        for name, value in filters.items():
            if name not in unknown and (not isinstance(value, str) or "\x00" in value
                                        or len(value) > 200):
                errors[name] = ["must be text of at most 200 characters, without NUL"]
        if filters.get("status") and filters["status"] not in DELIVERY_STATUSES:
            errors["status"] = [f"must be one of {', '.join(DELIVERY_STATUSES)}"]
        if filters.get("channel") and filters["channel"] not in CHANNELS:
            errors["channel"] = [f"must be one of {', '.join(CHANNELS)}"]
        if filters.get("event_id"):
            try:
                filters["event_id"] = uuid.UUID(str(filters["event_id"]))
            except ValueError:
                errors["event_id"] = ["must be a UUID"]
        if errors:
            raise InvalidInput(errors)
        # Scoped like every object: an admin of a region sees its deliveries only.
        scope = [root.rstrip("/") for root in caller.get("scope") or ()]
        query = select(Delivery).where(or_(false(), *[or_(
            Delivery.facility_path == root,
            Delivery.facility_path.startswith(root + "/", autoescape=True)) for root in scope]))
        for name, value in filters.items():
            if value not in (None, ""):
                query = query.where(getattr(Delivery, name) == value)
        session = self.db.session
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(Delivery.created_at.desc(), Delivery.id)
                               .offset((page - 1) * per_page).limit(per_page)).all()
        return {"total": total, "page": page, "per_page": per_page,
                "items": [_delivery_view(d) for d in rows]}


def _uuid(value, field):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput({field: ["must be a UUID"]}) from None


def _iso(value):
    return value.isoformat() if value else None


def _inbox_view(m):
    return {"id": str(m.id), "kind": m.kind, "title_fr": m.title_fr, "title_en": m.title_en,
            "body_fr": m.body_fr, "body_en": m.body_en, "link": m.link,
            "created_at": _iso(m.created_at), "read": m.read_at is not None,
            "read_at": _iso(m.read_at)}


def _delivery_view(d):
    return {"id": str(d.id), "notification_id": str(d.notification_id),
            "event_id": str(d.event_id), "event_type": d.event_type, "kind": d.kind,
            "recipient_id": d.recipient_id, "channel": d.channel, "address": d.address,
            "language": d.language, "subject": d.subject, "status": d.status,
            "attempts": d.attempts, "next_attempt_at": _iso(d.next_attempt_at),
            "facility_path": d.facility_path, "last_error": d.last_error,
            "digest_id": str(d.digest_id) if d.digest_id else None,
            "created_at": _iso(d.created_at), "finished_at": _iso(d.finished_at)}
