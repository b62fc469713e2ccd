"""Notify's rules: who is told, on which channel, when (quiet hours, back-off,
digest), and the texts in both languages."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from notify import domain, templates
from notify.domain import Account, Accounts

UTC = timezone.utc
FACILITY = "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"


def staff():
    return [
        Account(id="c-district", role="coach", scope=("/ML/ML-SEG/ML-SEG-NIO",)),
        Account(id="c-assigned", role="coach", scope=(), coaching=(FACILITY,)),
        Account(id="c-kayes", role="coach", scope=("/ML/ML-KAY",)),
        Account(id="c-gone", role="coach", scope=("/ML",), active=False),
        Account(id="champ-segou", role="champion", scope=("/ML/ML-SEG",)),
        Account(id="champ-kayes", role="champion", scope=("/ML/ML-KAY",)),
    ]


def accounts(*extra):
    people = staff() + list(extra)
    return Accounts(by_id={a.id: a for a in people}, staff=[a for a in people
                                                           if a.role in ("coach", "champion")])


def ref(**more):
    return {"plan_id": uuid.uuid4(), "facility_id": "ML-SEG-NIO-CEN",
            "facility_name": "CSCom central de Niono", "facility_path": FACILITY,
            "coach_id": "c-visit", "coachee_ids": ["u-dtc", "u-vacc"], **more}


def who(event_type, data, people=None):
    return [(r.account_id, r.kind) for r in domain.recipients_for(
        event_type, data, people or accounts())]


def test_facility_coaches_come_from_assignments_or_scope_and_champion_from_scope():
    people = accounts()
    assert people.coaches_of(FACILITY) == ["c-district", "c-assigned"]
    assert people.champions_of(FACILITY) == ["champ-segou"]


def test_plan_created_goes_to_coaches_then_coachees_once_each():
    data = ref(coach_id="c-district", actions=[])
    assert who("plan.created", data) == [
        ("c-district", "plan.to_agree"), ("c-assigned", "plan.to_agree"),
        ("u-dtc", "plan.to_agree"), ("u-vacc", "plan.to_agree")]


def test_flagged_visit_goes_to_coaches_and_district_champion_unflagged_to_nobody():
    data = ref(submission_id=uuid.uuid4(), score={"flagged": True}, gaps=[])
    assert who("checklist.submitted", data) == [
        ("c-district", "visit.flagged"), ("c-assigned", "visit.flagged"),
        ("champ-segou", "visit.flagged")]
    # The coach who made the visit saw the flag already.
    assert [i for i, _ in who("checklist.submitted", {**data, "coach_id": "c-district"})] == [
        "c-assigned", "champ-segou"]
    assert who("checklist.submitted", {**data, "score": {"flagged": False}}) == []


def test_only_a_flagged_visit_may_alert_so_an_unflagged_one_reads_nothing():
    visit = {"score": {"flagged": False}}
    assert not domain.may_alert("checklist.submitted", visit)
    assert domain.may_alert("checklist.submitted", {"score": {"flagged": True}})
    assert domain.may_alert("plan.created", ref(actions=[]))


@pytest.mark.parametrize("root", ["/ML", "/ML/", "/ML/ML-SEG/ML-SEG-NIO", "/",
                                  "/ML/ML-SEG/ML-SEG-NIO/"])
def test_the_ancestors_of_a_path_hold_every_scope_root_that_covers_it(root):
    # load_accounts narrows the staff in SQL with these: none that `in_scope`
    # accepts may be left out.
    from c2p.scope import in_scope
    assert in_scope(FACILITY, [root])
    assert root.rstrip("/") in domain.ancestors(FACILITY)
    assert domain.ancestors("/ML/A/B") == ["", "/ML", "/ML/A"]
    assert "/ML/ML-KAY" not in domain.ancestors(FACILITY)


def test_staff_are_read_only_when_a_rule_needs_the_facility_s_coaches():
    asked = []

    def loader():
        asked.append(1)
        return staff()

    lazy = Accounts(by_id={}, staff_loader=loader)
    verified = ref(owner_id="u-dtc", action_id=uuid.uuid4())
    assert who("action.verified", verified, lazy) == [
        ("u-dtc", "action.verified"), ("u-vacc", "action.verified")]
    assert asked == []  # everyone alerted is named by the event
    assert [i for i, _ in who("plan.created", ref(actions=[]), lazy)][:3] == [
        "c-visit", "c-district", "c-assigned"]
    assert asked == [1]
    assert lazy.get("c-district").scope == ("/ML/ML-SEG/ML-SEG-NIO",)  # known, not unknown()
    who("action.overdue", ref(owner_id=None), lazy)
    assert asked == [1]  # read once per event


def test_due_soon_goes_to_owner_overdue_escalates_to_the_coach():
    data = ref(owner_id="u-dtc")
    assert [i for i, _ in who("action.due_soon", data)] == ["u-dtc"]
    assert [i for i, _ in who("action.overdue", data)] == [
        "u-dtc", "c-visit", "c-district", "c-assigned"]
    # Nobody owns it: the coach must find someone.
    assert [i for i, _ in who("action.due_soon", {**data, "owner_id": None})][0] == "c-visit"


def test_evidence_review_goes_to_the_uploader_by_decision_and_disabled_people_are_skipped():
    data = {"uploaded_by": "u-vacc", "decision": "needs_more", "facility_path": FACILITY,
            "coach_id": "c-visit"}
    assert who("evidence.reviewed", data) == [("u-vacc", "evidence.needs_more")]
    gone = accounts(Account(id="u-vacc", role="coachee", active=False))
    assert who("evidence.reviewed", data, gone) == []
    assert [i for i, _ in who("evidence.uploaded", data)] == [
        "c-visit", "c-district", "c-assigned"]


def test_external_channels_need_the_choice_and_an_address():
    person = Account(id="x", channels=("inbox", "email", "sms", "whatsapp"),
                     email="a@b.ml", phone=None)
    assert domain.external_channels(person) == [("email", "a@b.ml")]
    assert domain.external_channels(domain.unknown("y")) == []


@pytest.mark.parametrize("local,quiet_until_local", [
    ("2026-11-23T20:59", None),
    ("2026-11-23T21:00", "2026-11-24T07:00"),
    ("2026-11-23T23:30", "2026-11-24T07:00"),
    ("2026-11-24T06:59", "2026-11-24T07:00"),
    ("2026-11-24T07:00", None),
    ("2026-11-24T12:00", None),
])
def test_quiet_hours_across_midnight(local, quiet_until_local):
    # Bamako is UTC+0; Paris (UTC+1 in November) checks the time-zone handling.
    for tz, offset in (("Africa/Bamako", 0), ("Europe/Paris", 1)):
        now = datetime.fromisoformat(local).replace(tzinfo=UTC) - timedelta(hours=offset)
        got = domain.quiet_until(now, {"start": "21:00", "end": "07:00"}, tz)
        expected = (None if quiet_until_local is None else
                    datetime.fromisoformat(quiet_until_local).replace(tzinfo=UTC)
                    - timedelta(hours=offset))
        assert got == expected, (tz, local)


def test_quiet_hours_within_a_day_and_malformed_windows():
    now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    assert domain.quiet_until(now, {"start": "12:30", "end": "14:00"}, None) == now.replace(
        hour=14)
    for window in (None, {}, {"start": "25:00", "end": "07:00"}, {"start": "x"},
                   {"start": "12:00", "end": "12:00"}):
        assert domain.quiet_until(now, window, "Africa/Bamako") is None


def test_back_off_then_give_up():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert domain.next_attempt(1, (5, 60), now) == now + timedelta(seconds=5)
    assert domain.next_attempt(2, (5, 60), now) == now + timedelta(seconds=60)
    assert domain.next_attempt(3, (5, 60), now) is None


def test_digest_is_due_from_its_hour_once_per_day():
    before = datetime(2026, 11, 23, 17, 59, tzinfo=UTC)
    after = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert domain.digest_day(before, "Africa/Bamako", 18) is None
    assert domain.digest_day(after, "Africa/Bamako", 18) == date(2026, 11, 23)
    assert domain.digest_id("a", "email", date(2026, 11, 23)) == domain.digest_id(
        "a", "email", date(2026, 11, 23)) != domain.digest_id("a", "email", date(2026, 11, 24))


def test_every_kind_has_both_languages_and_fills_them():
    data = ref(action_id=uuid.uuid4(), text_fr="Relever la température deux fois par jour",
               text_en="Record the temperature twice a day", owner_id="u-dtc",
               due_date=date(2026, 12, 5), status="todo", item_code="x", days_late=3)
    texts = templates.compose("action.overdue", "action.overdue", data)
    assert texts["title_fr"] == "Action en retard de 3 jours : CSCom central de Niono"
    assert "5 déc. 2026" in texts["body_fr"] and "Relever la température" in texts["body_fr"]
    assert "5 Dec 2026" in texts["body_en"] and "Record the temperature" in texts["body_en"]
    assert texts["link"] == f"/api/v1/plans/{data['plan_id']}"
    for kind, languages in templates.TEMPLATES.items():
        assert set(languages) == {"fr", "en"}, kind


def test_review_texts_carry_the_comment_and_the_known_action():
    data = {"evidence_id": uuid.uuid4(), "action_id": uuid.uuid4(), "facility_id": "F",
            "comment": "Photo floue, reprenez-la", "decision": "rejected"}
    texts = templates.compose("evidence.rejected", "evidence.reviewed", data,
                              {"facility_name": "CSCom de Ségou", "text_fr": "Afficher",
                               "text_en": "Display"})
    assert texts["title_fr"] == "Preuve rejetée : CSCom de Ségou"
    assert "Photo floue, reprenez-la" in texts["body_fr"] and "« Afficher »" in texts["body_fr"]
    assert '"Display"' in texts["body_en"]


def test_sms_text_is_cut_to_fit_and_keeps_the_link():
    text = templates.short_text("Titre", "é" * 1000, "http://x/api/v1/plans/1")
    assert len(text) <= 320 and text.endswith(" http://x/api/v1/plans/1") and "…" in text


def test_common_path_of_a_digest():
    assert domain.common_path([FACILITY, "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-MOL"]) == \
        "/ML/ML-SEG/ML-SEG-NIO"
    assert domain.common_path([FACILITY]) == FACILITY
    assert domain.common_path([FACILITY, "/ML/ML-KAY/ML-KAY-KAY"]) == "/ML"
    assert domain.common_path([None]) is None


KIND_OF_EVENT = [
    ("plan.to_agree", "plan.created"), ("plan.completed", "plan.completed"),
    ("evidence.to_review", "evidence.uploaded"), ("evidence.approved", "evidence.reviewed"),
    ("evidence.rejected", "evidence.reviewed"), ("evidence.needs_more", "evidence.reviewed"),
    ("action.due_soon", "action.due_soon"), ("action.overdue", "action.overdue"),
    ("visit.flagged", "checklist.submitted"), ("action.verified", "action.verified"),
    ("action.comment", "action.commented"),
]


def test_every_kind_renders_in_both_languages_with_nothing_left_unfilled():
    data = ref(actions=[{"critical": True}, {"critical": False}], actions_done=2,
               actions_dropped=1, evidence_id=uuid.uuid4(), action_id=uuid.uuid4(),
               comment="Reprenez la photo", text_fr="Afficher le plan",
               text_en="Display the plan", due_date=date(2026, 12, 1), days_left=2,
               days_late=2, submission_id=uuid.uuid4(),
               score={"percent": 55.5, "flagged": True},
               gaps=[{"critical": True, "label_fr": "Chaîne du froid",
                      "label_en": "Cold chain"}],
               visited_at=datetime(2026, 12, 3, tzinfo=UTC), author_role="coach",
               text="Où en est le frigo ?")
    # ("action.verified.several": the text of several, tested with the visit batch)
    assert {k for k, _ in KIND_OF_EVENT} == set(templates.TEMPLATES) - {
        "digest", "action.verified.several"}
    for kind, event_type in KIND_OF_EVENT:
        texts = templates.compose(kind, event_type, data)
        for key in ("title_fr", "title_en", "body_fr", "body_en"):
            assert texts[key] and "{" not in texts[key], (kind, key)
        assert texts["title_fr"] != texts["title_en"]
        assert texts["link"].startswith("/api/v1/")
    title, body = templates.digest(date(2026, 11, 23), [
        {"title": "Un", "body": "corps"}, {"title": "Deux", "body": ""}], "fr")
    assert title == "C2P : votre résumé du 23 nov. 2026 (2 alertes)"
    assert body == "- Un\n  corps\n- Deux"


def action_ref(**more):
    return ref(action_id=uuid.uuid4(), item_code="cc_in_range", text_fr="Réparer le frigo",
               text_en="Repair the fridge", owner_id="u-dtc", due_date=date(2026, 12, 1),
               status="done", **more)


def test_a_verified_action_is_good_news_for_the_team_in_both_languages():
    data = action_ref(from_status="in_progress", submission_id=uuid.uuid4(),
                      visited_at=datetime(2026, 12, 3, 9, tzinfo=UTC), verified_by="c-visit",
                      late=True)
    assert who("action.verified", data) == [("u-dtc", "action.verified"),
                                            ("u-vacc", "action.verified")]
    texts = templates.compose("action.verified", "action.verified", data)
    assert "3 déc. 2026" in texts["body_fr"] and "« Réparer le frigo »" in texts["body_fr"]
    assert "3 Dec 2026" in texts["body_en"] and "Repair the fridge" in texts["body_en"]
    assert texts["link"] == f"/api/v1/plans/{data['plan_id']}"


def verified_on_visit(*changes, submission_id=None):
    return {"changes": list(changes), "submission_id": submission_id,
            "visited_at": datetime(2026, 12, 3, 9, tzinfo=UTC) if submission_id else None}


def change(status="done", **more):
    return {**action_ref(), **more, "status": status, "from_status": "in_progress",
            "changed_by": "c-visit", "changed_at": datetime(2026, 12, 3, 9, tzinfo=UTC),
            "comment": "verified on a follow-up visit", "late": False}


def test_the_actions_a_visit_verified_are_one_alert_per_person_naming_them_all():
    fridge = change()
    register = change(text_fr="Tenir le registre", text_en="Keep the register",
                      owner_id="u-vacc")
    data = domain.verified_on_visit(verified_on_visit(fridge, register,
                                                      submission_id=uuid.uuid4()))
    # Owners first, then the plan's coachees, each once.
    assert who(domain.VISIT_VERIFIED, data) == [("u-dtc", "action.verified"),
                                               ("u-vacc", "action.verified")]
    texts = templates.compose("action.verified", domain.VISIT_VERIFIED, data)
    assert texts["title_fr"].startswith("2 actions vérifiées lors de la visite")
    assert "« Réparer le frigo », « Tenir le registre »" in texts["body_fr"]
    assert "3 déc. 2026" in texts["body_fr"]
    assert '"Repair the fridge", "Keep the register"' in texts["body_en"]
    assert texts["link"] == f"/api/v1/plans/{data['plan_id']}"
    # One action: the one-action text, as an `action.verified` gave.
    one = domain.verified_on_visit(verified_on_visit(fridge, submission_id=uuid.uuid4()))
    assert templates.compose("action.verified", domain.VISIT_VERIFIED, one)["title_fr"] == \
        templates.compose("action.verified", "action.verified", {
            **fridge, "visited_at": one["visited_at"]})["title_fr"]


def test_a_status_change_made_by_a_person_alerts_nobody_through_the_batch():
    assert domain.verified_on_visit(verified_on_visit(change(status="in_progress"))) is None
    assert domain.verified_on_visit(verified_on_visit(change())) is None


def test_a_comment_alerts_the_other_side_never_the_author():
    by_coachee = action_ref(comment_id=uuid.uuid4(), author_id="u-dtc", author_role="coachee",
                            text="Le frigo est réparé, photo demain.",
                            commented_at=datetime(2026, 12, 2, tzinfo=UTC))
    assert [k for _, k in who("action.commented", by_coachee)] == ["action.comment"] * 3
    assert [i for i, _ in who("action.commented", by_coachee)] == [
        "c-visit", "c-district", "c-assigned"]
    by_coach = {**by_coachee, "author_id": "c-visit", "author_role": "coach"}
    assert [i for i, _ in who("action.commented", by_coach)] == ["u-dtc", "u-vacc"]
    texts = templates.compose("action.comment", "action.commented", by_coachee,
                              {"author": "Fatoumata Diarra"})
    assert texts["body_fr"] == ("Fatoumata Diarra à propos de « Réparer le frigo » : "
                                "Le frigo est réparé, photo demain.")
    assert texts["title_en"] == "New message on an action: CSCom central de Niono"
    anonymous = templates.compose("action.comment", "action.commented", by_coach)
    assert anonymous["body_en"].startswith("The coach about")


def test_an_alert_shows_the_score_to_one_decimal_as_the_dashboards_do():
    data = ref(submission_id=uuid.uuid4(), score={"percent": 70.5, "flagged": True},
               gaps=[{"critical": True, "label_fr": "Chaîne du froid",
                      "label_en": "Cold chain"}])
    texts = templates.compose("visit.flagged", "checklist.submitted", data)
    assert "70.5 %" in texts["title_en"] + texts["body_en"]
    assert "70,5 %" in texts["title_fr"] + texts["body_fr"]
    whole = templates.compose("visit.flagged", "checklist.submitted",
                              {**data, "score": {"percent": 70.0, "flagged": True}})
    assert "70 %" in whole["title_en"] + whole["body_en"]
    assert "70.0" not in whole["title_en"] + whole["body_en"]


EVERY_CASE = [
    ("plan.created", ref(actions=[])), ("plan.completed", ref()),
    ("evidence.uploaded", ref(uploaded_by="u-dtc")),
    ("evidence.reviewed", ref(uploaded_by="u-dtc", decision="approved")),
    ("action.due_soon", ref(owner_id="u-dtc")), ("action.due_soon", ref(owner_id=None)),
    ("action.overdue", ref(owner_id="u-dtc")), ("action.overdue", ref(owner_id=None)),
    ("action.verified", ref(owner_id="u-dtc")),
    ("actions.status_changed", ref(owner_ids=["u-dtc"])),
    ("action.commented", ref(author_role="coachee", author_id="u-dtc", owner_id="u-dtc")),
    ("action.commented", ref(author_role="coach", author_id="c-visit", owner_id="u-dtc")),
    ("checklist.submitted", ref(score={"flagged": True})),
    ("checklist.submitted", ref(score={"flagged": False})),
]


@pytest.mark.parametrize("event_type,data", EVERY_CASE)
def test_staff_are_read_with_the_named_people_exactly_when_the_rule_asks(event_type, data):
    # `needs_staff` lets notify read both in one statement; if it said no where the
    # rule asks, the staff would still be read (lazily), one round trip later; if it
    # said yes where the rule does not ask, a read for nothing.
    asked = []
    lazy = Accounts(by_id={}, staff_loader=lambda: asked.append(1) or staff())
    domain.recipients_for(event_type, data, lazy)
    assert domain.needs_staff(event_type, data) == bool(asked)
