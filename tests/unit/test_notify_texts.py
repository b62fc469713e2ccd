"""Notify's alert texts read naturally in French and in English: every kind of
alert rendered in both languages, with dates as people write them (never ISO
text), singular and plural from the count (no "(s)"), no word of the other
language, and short enough for an SMS."""
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from c2p.clock import day_for_people
from notify import domain, templates

UTC = timezone.utc
FACILITY_PATH = "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"
# Data values (names, actions, comments) are left out of the language checks:
# they are whatever people typed, in whatever language.
FACILITY = "CSCom Niono"
ACTION_FR, ACTION_EN = "Réparer le réfrigérateur du dépôt", "Repair the depot fridge"
REGISTER_FR, REGISTER_EN = "Tenir le registre", "Keep the register"
GAP_FR, GAP_EN = "Chaîne du froid", "Cold chain"
STOCK_FR, STOCK_EN = "Gestion des stocks", "Stock management"
COMMENT = "Photo floue"
MESSAGE = "Le frigo est réparé"
AUTHOR = "Awa Traoré"
DATA_VALUES = (FACILITY, ACTION_FR, ACTION_EN, REGISTER_FR, REGISTER_EN, GAP_FR, GAP_EN,
               STOCK_FR, STOCK_EN, COMMENT, MESSAGE, AUTHOR)

# The moment of a visit as events carry it (the walkthrough's example).
VISITED_AT = "2026-12-01T05:25:19.676000+00:00"
DUE_DATE = "2026-12-02"


def sample(count: int) -> dict:
    """One event's data for any kind, with `count` of everything that is counted."""
    return {
        "plan_id": str(uuid.uuid4()), "facility_id": "ML-SEG-NIO-CEN",
        "facility_name": FACILITY, "facility_path": FACILITY_PATH,
        "coach_id": "c-visit", "coachee_ids": ["u-dtc"], "owner_id": "u-dtc",
        "actions": [{"critical": i == 0} for i in range(count)],
        "actions_done": count, "actions_dropped": count,
        "evidence_id": str(uuid.uuid4()), "action_id": str(uuid.uuid4()),
        "comment": COMMENT, "text_fr": ACTION_FR, "text_en": ACTION_EN,
        "due_date": DUE_DATE, "days_left": count, "days_late": count,
        "submission_id": str(uuid.uuid4()),
        "score": {"percent": 55.5, "flagged": True},
        "gaps": [{"critical": True, "label_fr": GAP_FR, "label_en": GAP_EN},
                 {"critical": True, "label_fr": STOCK_FR, "label_en": STOCK_EN},
                 {"critical": True, "label_fr": "Registre", "label_en": "Register"}][:count],
        "visited_at": VISITED_AT, "author_role": "coach", "author_id": "c-visit",
        "text": MESSAGE,
    }


KNOWN = {"facility_name": FACILITY, "text_fr": ACTION_FR, "text_en": ACTION_EN}


def visit_batch(count: int) -> dict:
    actions = [(ACTION_FR, ACTION_EN), (REGISTER_FR, REGISTER_EN),
               ("Afficher le plan", "Display the plan")][:count]
    return {**sample(count), "actions": [{"text_fr": fr, "text_en": en}
                                         for fr, en in actions]}


def render(kind: str, count: int) -> dict:
    """Every kind of alert, as notify composes it (the digest from held alerts)."""
    data = sample(count)
    if kind == "plan.to_agree":
        return templates.compose(kind, "plan.created", data)
    if kind == "plan.completed":
        return templates.compose(kind, "plan.completed", data)
    if kind == "evidence.to_review":
        return templates.compose(kind, "evidence.uploaded", data, KNOWN)
    if kind.startswith("evidence."):
        return templates.compose(kind, "evidence.reviewed",
                                 {**data, "decision": kind.split(".")[1]}, KNOWN)
    if kind == "action.due_soon":
        return templates.compose(kind, "action.due_soon",
                                 {k: v for k, v in data.items() if k != "days_late"})
    if kind == "action.overdue":
        return templates.compose(kind, "action.overdue",
                                 {k: v for k, v in data.items() if k != "days_left"})
    if kind == "action.verified":
        return templates.compose(kind, "action.verified", data)
    if kind == "action.verified.several":
        return templates.compose("action.verified", domain.VISIT_VERIFIED,
                                 visit_batch(max(count, 2)))
    if kind == "action.comment":
        return templates.compose(kind, "action.commented", data, {"author": AUTHOR})
    if kind == "visit.flagged":
        return templates.compose(kind, "checklist.submitted", data)
    if kind == "digest":
        # Held alerts' texts, in the person's language; a digest holds one at least.
        held = {"fr": "Preuve approuvée : ", "en": "Evidence approved: "}
        texts = {}
        for language in templates.LANGUAGES:
            items = [{"title": held[language] + FACILITY, "body": ""}] * max(count, 1)
            title, body = templates.digest(date(2026, 12, 1), items, language)
            texts[f"title_{language}"], texts[f"body_{language}"] = title, body
        return {**texts, "link": ""}
    raise AssertionError(f"no sample for {kind}: add one")


KINDS = sorted(templates.TEMPLATES)
COUNTS = (0, 1, 2, 3)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Words of one language a text in the other must not hold (after data values
# are taken out). Only words that belong to one language only.
ENGLISH_WORDS = {
    "the", "of", "and", "is", "was", "by", "in", "on", "to", "for", "from", "your", "it",
    "them", "they", "day", "days", "today", "due", "overdue", "done", "dropped", "well",
    "new", "more", "evidence", "review", "alert", "alerts", "digest", "gap", "gaps",
    "critical", "visit", "found", "closed", "team", "agree", "improvement", "completed",
    "approved", "rejected", "needed", "about", "with", "no", "none",
}
FRENCH_WORDS = {
    "le", "la", "les", "du", "des", "de", "et", "est", "un", "une", "votre", "jour",
    "jours", "dans", "aujourd'hui", "alerte", "alertes", "résumé", "écart", "écarts",
    "critique", "critiques", "visite", "preuve", "équipe", "réalisée", "réalisées",
    "abandonnée", "abandonnées", "issue", "issues", "dont", "aucun", "nouveau",
    "nouvelle", "vérifiée", "vérifiées", "retard", "échéance", "sur", "lors",
}
FRENCH_LETTERS = re.compile(r"[àâçéèêëîïôûùüÿœ«»]")


def without_data(text: str) -> str:
    for value in sorted(DATA_VALUES, key=len, reverse=True):
        text = text.replace(value, " ")
    return text


def words(text: str) -> set:
    return set(re.findall(r"[a-zàâçéèêëîïôûùüÿœ']+", without_data(text).lower()))


def test_every_kind_of_the_registry_has_a_sample_here():
    for kind in KINDS:
        render(kind, 2)  # raises for a kind added without a sample


@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_reads_naturally_in_both_languages(kind, count):
    texts = render(kind, count)
    for language in templates.LANGUAGES:
        for part in ("title", "body"):
            text = texts[f"{part}_{language}"]
            where = (kind, count, part, language, text)
            assert text, where
            assert "{" not in text and "}" not in text, where
            assert not ISO_DATE.search(text), where  # no 2026-12-01, no ...T05:25:19
            assert not re.search(r"\d{4}-\d{2}-\d{2}T", text), where
            assert "(s)" not in text and "(e)" not in text and "(es)" not in text, where
            assert not re.search(r"\w\((s|e|es|x)\)", text), where
            if language == "fr":
                assert not words(text) & ENGLISH_WORDS, (where, words(text) & ENGLISH_WORDS)
            else:
                assert not words(text) & FRENCH_WORDS, (where, words(text) & FRENCH_WORDS)
                assert not FRENCH_LETTERS.search(without_data(text)), where
    assert texts["title_fr"] != texts["title_en"]


def test_dates_read_the_same_way_in_both_languages_never_as_iso_text():
    # A visit's moment, as the walkthrough saw it, shows as its day.
    texts = templates.compose("action.verified", "action.verified", sample(1))
    assert texts["body_en"].startswith('The visit of 1 Dec 2026 found "Repair')
    assert texts["body_fr"].startswith("La visite du 1 déc. 2026 a constaté")
    due = templates.compose("action.due_soon", "action.due_soon", sample(2))
    assert '"Repair the depot fridge" is due by 2 Dec 2026.' == due["body_en"]
    assert "« Réparer le réfrigérateur du dépôt » est à réaliser d'ici le 2 déc. 2026." \
        == due["body_fr"]
    # Every month in both languages, from a date, a date-time or their ISO text.
    fr = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
          "nov.", "déc."]
    en = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    for month in range(1, 13):
        for value in (date(2027, month, 9), datetime(2027, month, 9, 8, tzinfo=UTC),
                      f"2027-{month:02d}-09", f"2027-{month:02d}-09T08:00:00Z"):
            assert day_for_people(value, "fr") == f"9 {fr[month - 1]} 2027"
            assert day_for_people(value, "en") == f"9 {en[month - 1]} 2027"


def test_a_moment_shows_as_its_day_in_bamako():
    # 23:30 in Brazil (UTC-3) on the 30th is already the 1st in Bamako (UTC).
    late = "2026-11-30T23:30:00-03:00"
    assert day_for_people(late, "en") == "1 Dec 2026"
    assert day_for_people(late, "fr") == "1 déc. 2026"
    assert day_for_people(datetime(2026, 12, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
                           "en") == "30 Nov 2026"
    assert day_for_people(datetime(2026, 12, 1, 23, 59), "en") == "1 Dec 2026"  # naive: UTC
    assert day_for_people(None, "fr") == "—"


def test_singular_and_plural_follow_the_count_in_each_language():
    # French: 0 and 1 singular; English: 1 singular, 0 plural.
    assert templates.counted(0, "day") == {"fr": "0 jour", "en": "0 days"}
    assert templates.counted(1, "day") == {"fr": "1 jour", "en": "1 day"}
    assert templates.counted(2, "day") == {"fr": "2 jours", "en": "2 days"}

    def titles(kind, count):
        texts = render(kind, count)
        return texts["title_fr"], texts["title_en"]

    def bodies(kind, count):
        texts = render(kind, count)
        return texts["body_fr"], texts["body_en"]

    assert titles("action.due_soon", 1) == ("Action à échéance dans 1 jour : CSCom Niono",
                                            "Action due in 1 day: CSCom Niono")
    assert titles("action.due_soon", 3) == ("Action à échéance dans 3 jours : CSCom Niono",
                                            "Action due in 3 days: CSCom Niono")
    assert titles("action.due_soon", 0) == ("Action à échéance aujourd'hui : CSCom Niono",
                                            "Action due today: CSCom Niono")
    assert titles("action.overdue", 1) == ("Action en retard de 1 jour : CSCom Niono",
                                           "Action 1 day overdue: CSCom Niono")
    assert titles("action.overdue", 4) == ("Action en retard de 4 jours : CSCom Niono",
                                           "Action 4 days overdue: CSCom Niono")
    assert bodies("plan.to_agree", 1)[0].startswith("1 action issue de la visite, critique.")
    assert bodies("plan.to_agree", 1)[1].startswith("1 action from the visit, critical.")
    assert bodies("plan.to_agree", 3)[0].startswith(
        "3 actions issues de la visite, dont 1 critique.")
    assert bodies("plan.to_agree", 3)[1].startswith(
        "3 actions from the visit, 1 of them critical.")
    data = {**sample(3), "actions": [{"critical": True}] * 2 + [{"critical": False}]}
    two = templates.compose("plan.to_agree", "plan.created", data)
    assert "dont 2 critiques." in two["body_fr"] and "2 of them critical." in two["body_en"]
    assert bodies("plan.to_agree", 0)[0].startswith("0 action issue de la visite.")
    assert bodies("plan.to_agree", 0)[1].startswith("0 actions from the visit.")
    assert bodies("plan.completed", 1) == ("Bravo ! 1 action réalisée, 1 abandonnée.",
                                           "Well done! 1 action done, 1 dropped.")
    assert bodies("plan.completed", 2) == ("Bravo ! 2 actions réalisées, 2 abandonnées.",
                                           "Well done! 2 actions done, 2 dropped.")
    none_dropped = templates.compose("plan.completed", "plan.completed",
                                     {**sample(2), "actions_dropped": 0})
    assert none_dropped["body_fr"] == "Bravo ! 2 actions réalisées."
    assert none_dropped["body_en"] == "Well done! 2 actions done."
    assert bodies("visit.flagged", 1) == ("Score 55,5 %. Écart critique : Chaîne du froid.",
                                          "Score 55.5 %. Critical gap: Cold chain.")
    assert bodies("visit.flagged", 2) == (
        "Score 55,5 %. Écarts critiques : Chaîne du froid ; Gestion des stocks.",
        "Score 55.5 %. Critical gaps: Cold chain; Stock management.")
    assert bodies("visit.flagged", 0) == ("Score 55,5 %. Aucun écart critique.",
                                          "Score 55.5 %. No critical gap.")
    assert titles("action.verified.several", 3) == (
        "3 actions vérifiées lors de la visite : CSCom Niono",
        "3 actions verified on the visit: CSCom Niono")
    assert titles("digest", 0) == titles("digest", 1) == (
        "C2P : votre résumé du 1 déc. 2026 (1 alerte)",
        "C2P: your digest for 1 Dec 2026 (1 alert)")
    assert titles("digest", 2) == ("C2P : votre résumé du 1 déc. 2026 (2 alertes)",
                                   "C2P: your digest for 1 Dec 2026 (2 alerts)")


LINK = "https://c2p.sante.gov.ml/api/v1/plans/" + str(uuid.uuid4())


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "digest"])
def test_an_alert_fits_in_an_sms_without_being_cut(kind):
    # SMS and WhatsApp send every kind as `short_text(title, body, link)`; with
    # ordinary names and action texts nothing should be cut. (The digest's length
    # grows with the day's alerts: it is cut, never more than the limit.)
    texts = render(kind, 2)
    for language in templates.LANGUAGES:
        text = templates.short_text(texts[f"title_{language}"], texts[f"body_{language}"],
                                    LINK)
        assert len(text) <= 320 and "…" not in text, (kind, language, len(text), text)
