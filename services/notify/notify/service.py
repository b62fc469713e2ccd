"""Notify entrypoints: the replica of recipients, alerts from events, the delivery
timer, the inbox and the delivery log.

Entrypoints only: who is alerted of what is in `notify.domain`, the texts in
`notify.templates`, the queries in `notify.store`, requests and views in
`notify.schemas`, the senders in `notify.channels`.

Event handlers only write rows (see `notify.store`): the inbox message and
one delivery per recipient and channel, committed with the processed event id.
The `deliver` timer sends them afterwards, outside any handler's transaction,
so a redelivered event never sends twice and a crash never loses a message.
"""
from __future__ import annotations

import dataclasses
import logging

import eventlet
import eventlet.queue
from nameko import config

from c2p.clock import Clock
from c2p.entrypoints import rpc, subscribe, timer
from c2p.errors import Forbidden, NotFound
from c2p.service import PlatformService
from c2p.validation import load
from notify import domain, schemas, store
from notify.dependencies import Channels

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
        store.save_recipient(self.db.session, event.data["account_id"],
                             schemas.recipient_values(event))

    # --- what: alerts from events ------------------------------------------

    def _notify(self, event, known=None):
        store.notify(self.db.session, event, self.clock.now(), known)

    @subscribe("plan.created")
    def on_plan_created(self, event):
        plan = event.data
        store.remember_actions(self.db.session, [
            {"action_id": action["action_id"], "plan_id": plan["plan_id"],
             "facility_name": plan["facility_name"], "text_fr": action["text_fr"],
             "text_en": action["text_en"], "due_date": action["due_date"]}
            for action in plan["actions"]])
        self._notify(event)

    @subscribe("plan.completed")
    def on_plan_completed(self, event):
        self._notify(event)

    @subscribe("checklist.submitted", when=domain.may_alert_on_visit)
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

    @subscribe("actions.status_changed", when=domain.verifies_on_visit)
    def on_action_verified(self, event):
        """One alert per person for all the actions a follow-up visit verified (an
        `action.verified` still waiting from before the upgrade: for its one action)."""
        if event.type == "action.verified":
            self._notify(event)
            return
        verified = domain.verified_on_visit(event.data)
        if verified is not None:
            self._notify(dataclasses.replace(event, data=verified))

    @subscribe("action.commented")
    def on_action_commented(self, event):
        author = store.recipient(self.db.session, event.data["author_id"])
        self._notify(event, schemas.author_view(author))

    def _known_action(self, action_id):
        return schemas.known_action_view(store.known_action(self.db.session, action_id))

    # --- sending: after the rows are committed -----------------------------

    @timer("notify_interval_s")
    def deliver(self):
        """Compose due digests, then claim, send and record due deliveries, a batch
        at a time (a backlog drains in one tick, up to MAX_BATCHES)."""
        settings = config["C2P_SETTINGS"]
        session = self.db.session
        store.compose_digests(session, self.clock.now(), settings.notify_digest_hour)
        self.db.commit()
        for _ in range(MAX_BATCHES):
            claimed = store.claim(session, self.clock.now(), batch=BATCH)
            # The claim (status sending, lease) is durable before anything is sent.
            self.db.commit()
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
            status = store.record(self.db.session, self.db.emit, out, error,
                                  self.clock.now(), delays_s)
            self.db.commit()  # each outcome durable on its own
            if error is not None:
                log.warning("delivery %s on %s attempt %d: %s -> %s", out.id, out.channel,
                            out.attempts, error, status)

    # --- the inbox ---------------------------------------------------------

    @rpc
    def list_inbox(self, recipient_id, page=1, per_page=20, unread_only=False):
        total, rows = store.inbox(self.db.session, recipient_id, page, per_page, unread_only)
        return schemas.page(total, page, per_page, [schemas.inbox_view(m) for m in rows])

    @rpc
    def count_unread(self, recipient_id):
        return {"unread": store.count_unread(self.db.session, recipient_id)}

    @rpc
    def mark_read(self, recipient_id, message_id):
        message = store.inbox_message(self.db.session, message_id, lock=True)
        if message is None or message.recipient_id != recipient_id:
            raise NotFound(f"inbox message {message_id} not found")
        if message.read_at is None:
            message.read_at = self.clock.now()
        return schemas.inbox_view(message)

    @rpc
    def mark_all_read(self, recipient_id):
        return {"marked": store.mark_all_read(self.db.session, recipient_id, self.clock.now())}

    # --- the delivery log (admins) -----------------------------------------

    @rpc
    def list_deliveries(self, caller, filters=None, page=1, per_page=50):
        if (caller or {}).get("role") != "admin":
            raise Forbidden("role", "the delivery log is for administrators",
                            "le journal des envois est réservé aux administrateurs")
        wanted = load(schemas.DeliveryFilters(), dict(filters or {}))
        # Scoped like every object: an admin of a region sees its deliveries only.
        total, rows = store.deliveries(self.db.session, caller.get("scope"), wanted, page,
                                       per_page)
        return schemas.page(total, page, per_page, [schemas.delivery_view(d) for d in rows])
