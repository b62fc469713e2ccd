"""Notify through the real bus and database, delivering to a real local SMTP server
and a real local HTTP provider (see test_notify_sinks): who is told, in which
language, on which channel; redeliveries; retries; quiet hours; the digest."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from c2p.config import load_settings
from c2p.contracts import Event
from c2p.clock import Clock
from notify.service import NotifyService
from support import eventually, publish_raw, queue_depth, rpc_client, tap
from test_notify_sinks import Sinks

UTC = timezone.utc
FACILITY_ID = "ML-SEG-NIO-CEN"
FACILITY = "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"
NAME = "CSCom central de Niono"
ADMIN = {"id": "u-admin", "role": "admin", "scope": ["/ML"]}


@pytest.fixture
def sinks():
    running = Sinks()
    yield running
    running.stop()


@pytest.fixture
def settings(process_env, sinks):
    """The run's settings, pointed at this test's sinks, with quick retries."""
    return load_settings({**process_env, **sinks.env(), "NOTIFY_INTERVAL_S": "1",
                          "NOTIFY_RETRY_DELAYS_S": "1,1"})


class ControlledClock:
    def __init__(self, at):
        self.at = at

    def now(self):
        return self.at


def notify_with(clock):
    """The notify service with its clock replaced (same name, same entrypoints)."""
    return type("NotifyUnderTest", (NotifyService,), {"clock": Clock(source=clock.now)})


# --- events ------------------------------------------------------------------

def publish(settings, event_type, data, event_id=None, occurred_at=None):
    event = Event(type=event_type, data=data, source="test", id=event_id or uuid.uuid4(),
                  occurred_at=occurred_at or datetime.now(UTC))
    publish_raw(settings.amqp_uri, event.to_wire(), event_type, str(event.id))
    return event


def account(account_id, role, language, scope, email=None, phone=None, channels=("inbox",),
            coaching=(), quiet=None, digest=False, active=True):
    return {"account_id": account_id, "username": account_id, "role": role,
            "display_name": account_id.title(), "scope": list(scope), "language": language,
            "email": email, "phone": phone,
            "coaching": [{"facility_id": FACILITY_ID, "facility_path": p} for p in coaching],
            "preferences": {"channels": list(channels), "quiet_hours": quiet, "digest": digest,
                            "timezone": "Africa/Bamako"},
            "active": active}


def plan_ref(plan_id, coach="u-coach", coachees=("u-dtc", "u-vacc")):
    return {"plan_id": plan_id, "facility_id": FACILITY_ID, "facility_name": NAME,
            "facility_path": FACILITY, "coach_id": coach, "coachee_ids": list(coachees)}


def action_ref(plan_id, action_id, owner, due=date(2026, 12, 5), **more):
    return {**plan_ref(plan_id), "action_id": action_id, "item_code": "cc_in_range",
            "text_fr": "Relever la température deux fois par jour",
            "text_en": "Record the temperature twice a day", "owner_id": owner,
            "due_date": due, "status": "todo", **more}


def plan_created(plan_id, actions, coach="u-coach", coachees=("u-dtc", "u-vacc")):
    return {**plan_ref(plan_id, coach, coachees), "submission_id": uuid.uuid4(),
            "actions": [{"action_id": action_id, "item_code": "cc_in_range",
                         "text_fr": "Relever la température deux fois par jour",
                         "text_en": "Record the temperature twice a day", "owner_id": owner,
                         "owner_role": "dtc", "due_date": date(2026, 12, 5), "critical": True,
                         "status": "todo"} for action_id, owner in actions]}


def evidence(plan_id, action_id, uploaded_by, **more):
    return {"evidence_id": uuid.uuid4(), "action_id": action_id, "plan_id": plan_id,
            "facility_id": FACILITY_ID, "facility_path": FACILITY, "coach_id": "u-coach",
            "uploaded_by": uploaded_by, **more}


def flagged_visit():
    now = datetime.now(UTC)
    return {"submission_id": uuid.uuid4(), "facility_id": FACILITY_ID, "facility_name": NAME,
            "facility_path": FACILITY, "coach_id": "u-visitor",  # another coach visited
            "coachees": [{"id": "u-dtc", "role": "dtc"}], "template_code": "pev-mini",
            "template_version": 1, "visited_at": now, "received_at": now,
            "score": {"percent": 40.0, "points": 4, "max_points": 10, "colour": "red",
                      "flagged": True, "sections": []},
            "gaps": [{"item_code": "stock_no_expired", "section_code": "stock",
                      "label_fr": "Aucun vaccin périmé", "label_en": "No expired vaccine",
                      "answer": "no", "critical": True, "points_lost": 2,
                      "action": {"text_fr": "Retirer", "text_en": "Remove",
                                 "responsible_role": "dtc", "delay_days": 1}}]}


def collected(read):
    """Everything a `tap` received so far (each read drains its queue)."""
    got = []

    def more():
        got.extend(read())
        return got
    return more


def count(engine, sql):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def replicate(settings, engines, *accounts_):
    for data in accounts_:
        publish(settings, "account.created", data)
    eventually(lambda: count(engines["notify"], "select count(*) from recipients")
               == len(accounts_))


def inbox(account_id):
    with rpc_client("notify") as notify:
        return notify.list_inbox(account_id, 1, 100)["items"]


def deliveries(**filters):
    with rpc_client("notify") as notify:
        return notify.list_deliveries(ADMIN, filters, 1, 100)["items"]


# --- the tests -----------------------------------------------------------------

COACH = account("u-coach", "coach", "fr", ["/ML/ML-SEG/ML-SEG-NIO"], email="coach@c2p.test",
                phone="+22370000001", channels=("inbox", "email", "sms"), coaching=[FACILITY])
DTC = account("u-dtc", "coachee", "en", [FACILITY], email="dtc@c2p.test", phone="+22370000002",
              channels=("inbox", "email", "whatsapp"))
VACC = account("u-vacc", "coachee", "fr", [FACILITY], phone="+22370000003",
               channels=("inbox", "sms"))
CHAMPION = account("u-champ", "champion", "en", ["/ML/ML-SEG"], email="champ@c2p.test",
                   channels=("inbox", "email"))


def test_each_event_reaches_each_recipient_on_their_channels_in_their_language(
        start_service, settings, engines, sinks, service_config):
    start_service(NotifyService)
    replicate(settings, engines, COACH, DTC, VACC, CHAMPION)
    events = collected(tap(settings.amqp_uri, "notification.*"))
    plan_id, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    publish(settings, "plan.created", plan_created(plan_id, [(first, "u-dtc"),
                                                             (second, "u-vacc")]))
    eventually(lambda: count(engines["notify"], "select count(*) from known_actions") == 2)
    publish(settings, "evidence.uploaded", evidence(
        plan_id, second, "u-vacc", content_type="image/jpeg", size_bytes=10, sha256="a" * 64,
        captured_at=None, uploaded_at=datetime.now(UTC)))
    reviewed = dict(reviewed_by="u-coach", reviewed_at=datetime.now(UTC))
    publish(settings, "evidence.reviewed", evidence(
        plan_id, second, "u-vacc", decision="rejected", comment="Photo floue, reprenez-la",
        **reviewed))
    publish(settings, "evidence.reviewed", evidence(
        plan_id, first, "u-dtc", decision="approved", comment="Good work", **reviewed))
    publish(settings, "action.due_soon", action_ref(plan_id, first, "u-dtc", days_left=3))
    publish(settings, "action.overdue", action_ref(plan_id, second, "u-vacc", days_late=2))
    publish(settings, "plan.completed", {**plan_ref(plan_id), "completed_at": datetime.now(UTC),
                                         "actions_done": 2, "actions_dropped": 0})
    publish(settings, "checklist.submitted", flagged_visit())

    expected_mail = {
        "coach@c2p.test": [
            f"Nouveau plan d'amélioration à valider : {NAME}",
            f"Nouvelle preuve à examiner : {NAME}",
            f"Action en retard de 2 jours : {NAME}",
            f"Plan d'amélioration terminé : {NAME}",
            f"Visite signalée pour écart critique : {NAME}"],
        "dtc@c2p.test": [
            f"New improvement plan to agree: {NAME}", f"Evidence approved: {NAME}",
            f"Action due in 3 days: {NAME}", f"Improvement plan completed: {NAME}"],
        "champ@c2p.test": [f"Visit flagged for a critical gap: {NAME}"],
    }
    expected_texts = {  # phone -> (channel, starts of the texts)
        "+22370000001": ("sms", [t for t in expected_mail["coach@c2p.test"]]),
        "+22370000002": ("whatsapp", [t for t in expected_mail["dtc@c2p.test"]]),
        "+22370000003": ("sms", [f"Nouveau plan d'amélioration à valider : {NAME}",
                                 f"Preuve rejetée : {NAME}",
                                 f"Action en retard de 2 jours : {NAME}",
                                 f"Plan d'amélioration terminé : {NAME}"]),
    }
    total = sum(map(len, expected_mail.values())) + sum(
        len(t) for _, t in expected_texts.values())
    eventually(lambda: len(sinks.mail()) + len(sinks.texts()) >= total, timeout=30)
    for address, subjects in expected_mail.items():
        assert sorted(m["subject"] for m in sinks.mail(address)) == sorted(subjects), address
    for phone, (channel, starts) in expected_texts.items():
        got = sinks.texts(phone)
        assert {m["channel"] for m in got} == {channel}
        assert sorted(m["text"].split(". ")[0] for m in got) == sorted(starts), phone
        assert all(m["idempotency_key"] == m["reference"] for m in got)

    # The words of each message: the comment, the known action, the link, the language.
    rejected = [m for m in sinks.texts("+22370000003") if "rejetée" in m["text"]][0]["text"]
    assert "Photo floue, reprenez-la" in rejected
    assert "Relever la température deux fois par jour" in rejected
    approved = [m for m in sinks.mail("dtc@c2p.test") if "approved" in m["subject"]][0]
    assert "Good work" in approved["body"] and approved["language"] == "en"
    assert "Record the temperature twice a day" in approved["body"]
    flagged = sinks.mail("champ@c2p.test")[0]
    assert "No expired vaccine" in flagged["body"] and "40 %" in flagged["body"]
    plan_mail = [m for m in sinks.mail("coach@c2p.test") if "valider" in m["subject"]][0]
    assert f"https://c2p.test/api/v1/plans/{plan_id}" in plan_mail["body"]
    assert plan_mail["language"] == "fr"

    # The inbox: every alert, both languages, unread.
    kinds = lambda who: sorted(m["kind"] for m in inbox(who))  # noqa: E731
    assert kinds("u-coach") == sorted(["plan.to_agree", "evidence.to_review",
                                       "action.overdue", "plan.completed", "visit.flagged"])
    assert kinds("u-dtc") == sorted(["plan.to_agree", "evidence.approved", "action.due_soon",
                                     "plan.completed"])
    assert kinds("u-vacc") == sorted(["plan.to_agree", "evidence.rejected", "action.overdue",
                                      "plan.completed"])
    assert kinds("u-champ") == ["visit.flagged"]
    # notification.delivered for every external message, none for the inbox (the
    # inbox row is the delivery). Inbox rows are written before anything is sent,
    # so an inbox announcement would be published before the last external one.
    published = eventually(lambda: len(events()) >= total and events())
    assert {e["type"] for e in published} == {"notification.delivered"}
    assert "inbox" not in {e["data"]["channel"] for e in published}
    assert {e["data"]["kind"] for e in published if e["data"]["recipient_id"] == "u-champ"} == {
        "visit.flagged"}
    assert len({(e["data"]["event_id"], e["data"]["recipient_id"], e["data"]["channel"])
                for e in published}) == len(published) == total


def test_the_actions_a_visit_verified_are_one_alert_per_person(start_service, settings,
                                                               engines, sinks, service_config):
    start_service(NotifyService)
    replicate(settings, engines, COACH, DTC, VACC)
    plan_id, at = uuid.uuid4(), datetime(2026, 12, 3, 9, tzinfo=UTC)

    def change(action_id, owner, text_fr, text_en, status="done"):
        return {**action_ref(plan_id, action_id, owner, text_fr=text_fr, text_en=text_en),
                "status": status, "from_status": "in_progress", "changed_by": "u-coach",
                "changed_at": at, "comment": "", "late": False}

    fridge = change(uuid.uuid4(), "u-dtc", "Réparer le frigo", "Repair the fridge")
    register = change(uuid.uuid4(), "u-vacc", "Tenir le registre", "Keep the register")
    # A person's change (a batch of one): no alert from it, declined as it arrives
    # (no worker, no claim).
    publish(settings, "actions.status_changed", {"changes": [
        change(uuid.uuid4(), "u-dtc", "Autre", "Other", status="in_progress")]})
    publish(settings, "actions.status_changed", {
        "changes": [fridge, register], "submission_id": uuid.uuid4(), "visited_at": at})
    eventually(lambda: count(engines["notify"], "select count(*) from processed_events"
                                                " where consumer = 'notify.on_action_verified'")
               == 1)
    eventually(lambda: queue_depth(settings.amqp_uri, "notify.on_action_verified") == 0)
    for person in ("u-dtc", "u-vacc"):
        [message] = eventually(lambda: inbox(person))
        assert message["kind"] == "action.verified"
        assert message["title_fr"].startswith("2 actions vérifiées lors de la visite")
        assert "« Réparer le frigo », « Tenir le registre »" in message["body_fr"]
        assert "3 déc. 2026" in message["body_fr"]
    assert inbox("u-coach") == []  # the coach saw it on the visit
    mail = eventually(lambda: sinks.mail("dtc@c2p.test"))
    assert [m["subject"] for m in mail] == [f"2 actions verified on the visit: {NAME}"]


def test_event_that_comes_twice_is_delivered_once(start_service, settings, engines, sinks,
                                                  service_config):
    start_service(NotifyService)
    replicate(settings, engines, COACH)
    plan_id = uuid.uuid4()
    event = publish(settings, "plan.created", plan_created(plan_id, [], coachees=()))
    for _ in range(3):  # redeliveries of the same event
        publish_raw(settings.amqp_uri, event.to_wire(), "plan.created", str(event.id))
    eventually(lambda: len(sinks.mail("coach@c2p.test")) == 1 and
               len(sinks.texts("+22370000001")) == 1)
    eventually(lambda: queue_depth(settings.amqp_uri, "notify.on_plan_created") == 0)
    # Even past the idempotent consumer (its record lost), the unique
    # (event, recipient, channel) keeps it to one delivery each.
    with engines["notify"].begin() as conn:
        conn.execute(text("delete from processed_events"))
    publish_raw(settings.amqp_uri, event.to_wire(), "plan.created", str(event.id))
    eventually(lambda: count(engines["notify"], "select count(*) from processed_events") == 1)
    # A later event to the same person: once its messages are out, the delivery
    # timer has passed over anything the redelivery could have added.
    later = uuid.uuid4()
    publish(settings, "plan.created", plan_created(later, [], coachees=()))
    eventually(lambda: len(sinks.mail("coach@c2p.test")) == 2 and
               len(sinks.texts("+22370000001")) == 2)
    for plan in (plan_id, later):
        assert len([m for m in sinks.mail("coach@c2p.test") if str(plan) in m["body"]]) == 1
        assert len([m for m in sinks.texts("+22370000001") if str(plan) in m["text"]]) == 1
    assert len(inbox("u-coach")) == 2
    assert count(engines["notify"], "select count(*) from deliveries") == 6


def test_failing_provider_is_retried_then_delivers_once_or_ends_failed_without_blocking(
        start_service, settings, engines, sinks, service_config):
    flaky = account("u-flaky", "coach", "fr", ["/ML/ML-SEG/ML-SEG-NIO"],
                    phone="+22370000010", channels=("inbox", "sms"))
    broken = account("u-broken", "coachee", "en", [FACILITY], phone="+22370000011",
                     channels=("inbox", "whatsapp"))
    steady = account("u-steady", "coachee", "fr", [FACILITY], email="steady@c2p.test",
                     channels=("inbox", "email"))
    wrong = account("u-wrong", "coachee", "fr", [FACILITY], phone="+22300",
                    channels=("inbox", "sms"))
    sinks.fail("+22370000010", 2)
    sinks.fail("+22370000011", -1)
    sinks.fail("+22300", -1, status=400)  # the provider refuses the number: no retry helps
    start_service(NotifyService)
    replicate(settings, engines, flaky, broken, steady, wrong)
    events = collected(tap(settings.amqp_uri, "notification.*"))
    publish(settings, "plan.created", plan_created(uuid.uuid4(), [], coach="u-flaky",
                                                   coachees=("u-broken", "u-steady", "u-wrong")))
    # The steady recipient is not held up by the failing ones.
    eventually(lambda: sinks.mail("steady@c2p.test"))
    assert sinks.attempts("+22370000010") or sinks.attempts("+22370000011")
    failed = eventually(lambda: len(deliveries(status="failed")) == 2 and sorted(
        deliveries(status="failed"), key=lambda d: d["recipient_id"]), timeout=20)
    assert [(d["recipient_id"], d["channel"], d["attempts"]) for d in failed] == [
        ("u-broken", "whatsapp", 3),  # first try + one retry per NOTIFY_RETRY_DELAYS_S
        ("u-wrong", "sms", 1)]  # refused for good: failed at once
    assert "503" in failed[0]["last_error"] and "400" in failed[1]["last_error"]
    assert len(sinks.attempts("+22300")) == 1
    assert len(sinks.attempts("+22370000011")) == 3 and not sinks.texts("+22370000011")
    eventually(lambda: sinks.texts("+22370000010"))
    assert len(sinks.attempts("+22370000010")) == 3 and len(sinks.texts("+22370000010")) == 1
    # The row is marked delivered just after the provider answers: poll for it.
    sms = eventually(lambda: next((d for d in deliveries(channel="sms")
                                   if d["recipient_id"] == "u-flaky"
                                   and d["status"] == "delivered"), None))
    assert (sms["status"], sms["attempts"], sms["last_error"]) == ("delivered", 3, None)
    # One outcome per outside message (none for the four inbox alerts).
    published = eventually(lambda: len(events()) >= 4 and events())
    assert sorted((e["type"], e["data"]["channel"]) for e in published) == [
        ("notification.delivered", "email"), ("notification.delivered", "sms"),
        ("notification.failed", "sms"), ("notification.failed", "whatsapp")]
    by_channel = {(e["type"], e["data"]["channel"]): e["data"] for e in published}
    assert by_channel[("notification.failed", "whatsapp")]["attempts"] == 3
    assert "503" in by_channel[("notification.failed", "whatsapp")]["error"]
    assert by_channel[("notification.delivered", "sms")]["attempts"] == 3


def test_quiet_hours_hold_external_messages_until_they_end_inbox_at_once(
        start_service, settings, engines, sinks, service_config):
    clock = ControlledClock(datetime(2026, 11, 23, 22, 0, tzinfo=UTC))  # Bamako is UTC+0
    start_service(notify_with(clock))
    night = account("u-night", "coach", "fr", ["/ML/ML-SEG/ML-SEG-NIO"],
                    email="night@c2p.test", channels=("inbox", "email"),
                    quiet={"start": "21:00", "end": "07:00"})
    awake = account("u-awake", "coachee", "fr", [FACILITY], email="awake@c2p.test",
                    channels=("inbox", "email"))
    replicate(settings, engines, night, awake)
    publish(settings, "plan.created", plan_created(uuid.uuid4(), [], coach="u-night",
                                                   coachees=("u-awake",)))
    assert eventually(lambda: inbox("u-night"))[0]["kind"] == "plan.to_agree"
    # Someone without quiet hours gets the same alert at once: the timer has run.
    eventually(lambda: sinks.mail("awake@c2p.test"))
    assert not sinks.mail("night@c2p.test")
    held = deliveries(recipient_id="u-night", channel="email")[0]
    assert held["status"] == "held"
    assert held["next_attempt_at"] == "2026-11-24T07:00:00+00:00"
    clock.at = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    mail = eventually(lambda: sinks.mail("night@c2p.test"))
    assert len(mail) == 1 and "valider" in mail[0]["subject"]
    assert eventually(lambda: deliveries(recipient_id="u-night", channel="email")[0][
        "status"] == "delivered")


def test_daily_digest_replaces_one_message_per_event_for_who_chooses_it(
        start_service, settings, engines, sinks, service_config):
    clock = ControlledClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    start_service(notify_with(clock))
    digest_coach = account("u-digest", "coach", "en", ["/ML/ML-SEG/ML-SEG-NIO"],
                           email="digest@c2p.test", channels=("inbox", "email"), digest=True)
    each = account("u-each", "coachee", "fr", [FACILITY], email="each@c2p.test",
                   channels=("inbox", "email"))
    replicate(settings, engines, digest_coach, each)
    plan_id = uuid.uuid4()
    publish(settings, "plan.created", plan_created(plan_id, [], coach="u-digest",
                                                   coachees=("u-each",)))
    publish(settings, "plan.completed", {**plan_ref(plan_id, "u-digest", ("u-each",)),
                                         "completed_at": datetime.now(UTC),
                                         "actions_done": 1, "actions_dropped": 0})
    assert len(eventually(lambda: len(inbox("u-digest")) == 2 and inbox("u-digest"))) == 2
    # The coachee, without a digest, has both messages: the timer ran past them.
    eventually(lambda: len(sinks.mail("each@c2p.test")) == 2)
    assert not sinks.mail("digest@c2p.test")
    assert [d["status"] for d in deliveries(recipient_id="u-digest", channel="email")] == [
        "digest", "digest"]

    clock.at = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # the digest hour (default 18)
    mail = eventually(lambda: sinks.mail("digest@c2p.test"))
    assert len(mail) == 1
    assert mail[0]["subject"] == "C2P: your digest for 23 Nov 2026 (2 alerts)"
    assert f"New improvement plan to agree: {NAME}" in mail[0]["body"]
    assert f"Improvement plan completed: {NAME}" in mail[0]["body"]
    assert {d["status"] for d in deliveries(kind="plan.completed", recipient_id="u-digest",
                                            channel="email")} == {"digested"}

    # Later the same day: it waits for tomorrow's digest.
    clock.at = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    publish(settings, "action.overdue", {**action_ref(plan_id, uuid.uuid4(), "u-each",
                                                      days_late=1),
                                         "coach_id": "u-digest", "coachee_ids": ["u-each"]})
    eventually(lambda: len(sinks.mail("each@c2p.test")) == 3)
    assert len(sinks.mail("digest@c2p.test")) == 1
    clock.at = datetime(2026, 11, 24, 18, 5, tzinfo=UTC)
    eventually(lambda: len(sinks.mail("digest@c2p.test")) == 2)
    assert "(1 alert)" in sinks.mail("digest@c2p.test")[1]["subject"]


def test_replica_keeps_the_newest_state_and_disabled_accounts_get_nothing(
        start_service, settings, engines, sinks, service_config):
    start_service(NotifyService)
    now = datetime.now(UTC)
    newer = {**COACH, "email": "new@c2p.test"}
    publish(settings, "account.updated", newer, occurred_at=now)
    publish(settings, "account.created", COACH, occurred_at=now - timedelta(minutes=5))
    eventually(lambda: count(engines["notify"], "select count(*) from processed_events") == 2)
    assert count(engines["notify"], "select email from recipients") == "new@c2p.test"
    publish(settings, "account.disabled", {**newer, "active": False},
            occurred_at=now + timedelta(seconds=1))
    eventually(lambda: count(engines["notify"], "select active from recipients") is False)
    publish(settings, "plan.created", plan_created(uuid.uuid4(), [], coachees=()))
    eventually(lambda: count(engines["notify"], "select count(*) from processed_events") == 4)
    assert inbox("u-coach") == []
    assert count(engines["notify"], "select count(*) from deliveries") == 0


def test_inbox_read_state_admin_only_log_and_claims_of_dead_workers(
        start_service, settings, engines, sinks, service_config):
    from c2p.errors import Forbidden, InvalidInput, NotFound
    # A worker claimed this one (status sending) and died before recording the
    # outcome: once its lease has expired, another worker sends it.
    orphan = uuid.uuid4()
    with engines["notify"].begin() as conn:
        conn.execute(text(
            "insert into deliveries (id, notification_id, event_id, event_type, kind, "
            "recipient_id, channel, address, language, subject, body, link, status, attempts, "
            "next_attempt_at, lease_until, created_at, facility_path) values (:id, :id, :id, "
            "'plan.created', 'plan.to_agree', 'u-late', 'email', 'late@c2p.test', 'fr', "
            "'Plan à valider', 'Texte', '/api/v1/plans/x', 'sending', 1, "
            "now() - interval '10 minutes', now() - interval '1 minute', "
            "now() - interval '10 minutes', :path)"), {"id": orphan, "path": FACILITY})
    start_service(NotifyService)
    for _ in range(3):  # no replica yet: the event's coach id is enough for the inbox
        publish(settings, "plan.created", plan_created(uuid.uuid4(), [], coachees=()))
    items = eventually(lambda: len(inbox("u-coach")) == 3 and inbox("u-coach"))
    with rpc_client("notify") as notify:
        assert notify.count_unread("u-coach") == {"unread": 3}
        read = notify.mark_read("u-coach", items[0]["id"])
        assert read["read"] is True and read["read_at"]
        assert notify.count_unread("u-coach") == {"unread": 2}
        assert len(notify.list_inbox("u-coach", 1, 20, True)["items"]) == 2
        with pytest.raises(NotFound):  # someone else's message does not exist for you
            notify.mark_read("u-dtc", items[1]["id"])
        with pytest.raises(NotFound):  # a malformed id names nothing, like any unknown id
            notify.mark_read("u-coach", "not-a-uuid")
        assert notify.mark_all_read("u-coach") == {"marked": 2}
        assert notify.count_unread("u-coach") == {"unread": 0}
        mail = eventually(lambda: sinks.mail("late@c2p.test"))
        assert [m["subject"] for m in mail] == ["Plan à valider"]
        late = notify.list_deliveries(ADMIN, {"recipient_id": "u-late"}, 1, 10)["items"]
        assert [(d["status"], d["attempts"]) for d in late] == [("delivered", 2)]
        log = notify.list_deliveries(ADMIN, {"channel": "inbox"}, 1, 2)
        assert log["total"] == 3 and len(log["items"]) == 2
        assert {d["status"] for d in log["items"]} == {"delivered"}
        assert {d["facility_path"] for d in log["items"]} == {FACILITY}
        kayes_admin = {"id": "u-admin-kayes", "role": "admin", "scope": ["/ML/ML-KAY"]}
        assert notify.list_deliveries(kayes_admin, {}, 1, 10) == {
            "total": 0, "page": 1, "per_page": 10, "items": []}
        with pytest.raises(Forbidden):
            notify.list_deliveries({"id": "u-coach", "role": "coach", "scope": []}, {}, 1, 10)
        with pytest.raises(InvalidInput) as error:
            notify.list_deliveries(ADMIN, {"status": "lost", "event_id": "x",
                                           "recipient_id": "a\x00b"}, 1, 10)
        assert set(error.value.errors) == {"status", "event_id", "recipient_id"}


def test_visits_that_alert_nobody_are_acked_without_a_worker(start_service, settings,
                                                              engines, sinks):
    # Most visits are not flagged: notify's `when` declines them as they arrive,
    # so they take no worker, no transaction and no claim; a flagged one alerts.
    start_service(NotifyService)
    replicate(settings, engines, COACH, CHAMPION)
    quiet = flagged_visit()
    quiet["score"] = {**quiet["score"], "flagged": False, "colour": "green"}
    for _ in range(3):
        publish(settings, "checklist.submitted", {**quiet, "submission_id": uuid.uuid4()})
    eventually(lambda: queue_depth(settings.amqp_uri, "notify.on_checklist_submitted") == 0)
    assert count(engines["notify"], "select count(*) from processed_events where consumer"
                                    " = 'notify.on_checklist_submitted'") == 0
    flagged = publish(settings, "checklist.submitted", flagged_visit())
    eventually(lambda: count(engines["notify"], "select count(*) from processed_events"
                                                " where consumer = 'notify.on_checklist_submitted'")
               == 1)
    assert count(engines["notify"], "select count(*) from inbox_messages where event_id = "
                                    f"'{flagged.id}' and recipient_id = 'u-champ'") == 1
    # Data it cannot read goes to the handler, which validates it and parks it.
    publish_raw(settings.amqp_uri, {**flagged.to_wire(), "id": str(uuid.uuid4()),
                                    "data": {"score": None}},
                "checklist.submitted", str(uuid.uuid4()))
    eventually(lambda: queue_depth(settings.amqp_uri, "notify.on_checklist_submitted.parked")
               == 1)
