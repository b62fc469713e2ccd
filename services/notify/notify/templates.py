"""The texts of every alert, in French and English, and how they are filled.

One template per kind of alert: a title and a body per language, with
`{placeholders}` filled from the event's data. A value that differs by
language (an action's text, a date) is given as {"fr": ..., "en": ...}.
The inbox keeps both languages; e-mail, SMS and WhatsApp use the recipient's.
Dates read as the web app shows them ("1 déc. 2026" / "1 Dec 2026", a moment as
its day in Bamako), never as ISO text; a count takes the singular or the plural
of its language (`counted`), never "(s)".
Supervision is formative: the tone is "what will we change".
"""
from __future__ import annotations

from c2p.clock import day_for_people
from notify.domain import VISIT_VERIFIED

API = "/api/v1"

TEMPLATES = {
    "plan.to_agree": {
        "fr": ("Nouveau plan d'amélioration à valider : {facility}",
               "{actions} de la visite{critical}. "
               "Discutez-en avec l'équipe et validez le plan."),
        "en": ("New improvement plan to agree: {facility}",
               "{actions} from the visit{critical}. "
               "Discuss the plan with the team and agree it."),
    },
    "plan.completed": {
        "fr": ("Plan d'amélioration terminé : {facility}",
               "Bravo ! {done}{dropped}."),
        "en": ("Improvement plan completed: {facility}",
               "Well done! {done}{dropped}."),
    },
    "evidence.to_review": {
        "fr": ("Nouvelle preuve à examiner : {facility}",
               "Une preuve a été déposée pour l'action « {action} ». "
               "Examinez-la : approuver, rejeter ou demander un complément."),
        "en": ("New evidence to review: {facility}",
               "Evidence was uploaded for the action \"{action}\". "
               "Review it: approve, reject or ask for more."),
    },
    "evidence.approved": {
        "fr": ("Preuve approuvée : {facility}",
               "Votre preuve pour l'action « {action} » est approuvée. {comment}"),
        "en": ("Evidence approved: {facility}",
               "Your evidence for the action \"{action}\" is approved. {comment}"),
    },
    "evidence.rejected": {
        "fr": ("Preuve rejetée : {facility}",
               "Votre preuve pour l'action « {action} » n'a pas été retenue. "
               "Commentaire du coach : {comment}"),
        "en": ("Evidence rejected: {facility}",
               "Your evidence for the action \"{action}\" was not accepted. "
               "Coach's comment: {comment}"),
    },
    "evidence.needs_more": {
        "fr": ("Complément de preuve demandé : {facility}",
               "Le coach demande un complément pour l'action « {action} ». "
               "Commentaire du coach : {comment}"),
        "en": ("More evidence needed: {facility}",
               "The coach asks for more evidence for the action \"{action}\". "
               "Coach's comment: {comment}"),
    },
    "action.due_soon": {
        # {when}: "dans 2 jours" / "in 2 days", "aujourd'hui" / "today".
        "fr": ("Action à échéance {when} : {facility}",
               "« {action} » est à réaliser d'ici le {due}."),
        "en": ("Action due {when}: {facility}",
               "\"{action}\" is due by {due}."),
    },
    "action.overdue": {
        "fr": ("Action en retard de {days} : {facility}",
               "« {action} » devait être réalisée le {due}. "
               "Faites le point avec l'équipe sur ce qui bloque."),
        "en": ("Action {days} overdue: {facility}",
               "\"{action}\" was due on {due}. "
               "Talk with the team about what is in the way."),
    },
    "action.verified": {
        "fr": ("Action vérifiée lors de la visite : {facility}",
               "La visite du {day} a constaté que « {action} » est en place : "
               "l'action est close. Bravo à toute l'équipe !"),
        "en": ("Action verified on the visit: {facility}",
               "The visit of {day} found \"{action}\" in place: the action is closed. "
               "Well done to the whole team!"),
    },
    "action.verified.several": {
        "fr": ("{count} vérifiées lors de la visite : {facility}",
               "La visite du {day} a constaté que ces actions sont en place : {actions}. "
               "Elles sont closes. Bravo à toute l'équipe !"),
        "en": ("{count} verified on the visit: {facility}",
               "The visit of {day} found these actions in place: {actions}. "
               "They are closed. Well done to the whole team!"),
    },
    "action.comment": {
        "fr": ("Nouveau message sur une action : {facility}",
               "{author} à propos de « {action} » : {text}"),
        "en": ("New message on an action: {facility}",
               "{author} about \"{action}\": {text}"),
    },
    "visit.flagged": {
        # {gaps}: "Écart critique : X." / "Écarts critiques : X ; Y." / "Aucun écart critique."
        "fr": ("Visite signalée pour écart critique : {facility}",
               "Score {score}. {gaps}"),
        "en": ("Visit flagged for a critical gap: {facility}",
               "Score {score}. {gaps}"),
    },
    "digest": {
        "fr": ("C2P : votre résumé du {day} ({count})", "{lines}"),
        "en": ("C2P: your digest for {day} ({count})", "{lines}"),
    },
}

LANGUAGES = ("fr", "en")


def _dates(value) -> dict:
    return {lang: day_for_people(value, lang) for lang in LANGUAGES}


# Singular and plural of the nouns counted in alerts. French: 0 and 1 take the
# singular; English: only 1.
WORDS = {
    "action": {"fr": ("action", "actions"), "en": ("action", "actions")},
    "day": {"fr": ("jour", "jours"), "en": ("day", "days")},
    "alert": {"fr": ("alerte", "alertes"), "en": ("alert", "alerts")},
}


def is_plural(count: int, language: str) -> bool:
    return abs(count) >= 2 if language == "fr" else abs(count) != 1


def _pick(count: int, language: str, singular: str, plural: str) -> str:
    return plural if is_plural(count, language) else singular


def counted(count: int, word: str) -> dict:
    """'3 jours' / '3 days', '1 jour' / '1 day', '0 jour' / '0 days'."""
    return {lang: f"{count} {_pick(count, lang, *WORDS[word][lang])}" for lang in LANGUAGES}


def _localised(value, language):
    return value[language] if isinstance(value, dict) and language in value else value


def _quoted(text: str, language: str) -> str:
    return f"« {text} »" if language == "fr" else f'"{text}"'


def render(kind: str, values: dict) -> dict:
    """{title_fr, title_en, body_fr, body_en} of one alert."""
    texts = {}
    for language in LANGUAGES:
        title, body = TEMPLATES[kind][language]
        filled = {k: _localised(v, language) for k, v in values.items()}
        texts[f"title_{language}"] = title.format(**filled)
        texts[f"body_{language}"] = body.format(**filled).strip()
    return texts


def _percent(value):
    """A score as the dashboards give it (one decimal: 70.5 %, 70 % when whole),
    with the decimal comma in French: {"fr": "70,5 %", "en": "70.5 %"}."""
    if value is None:
        return "—"
    text = f"{float(value):.1f}".removesuffix(".0")
    return {"fr": f"{text.replace('.', ',')} %", "en": f"{text} %"}


def _plan_actions(count: int) -> dict:
    """'3 actions issues' / '1 action issue' (de la visite); '3 actions' (from the visit)."""
    return {"fr": f"{count} " + _pick(count, "fr", "action issue", "actions issues"),
            "en": counted(count, "action")["en"]}


def _critical(count: int, critical: int) -> dict:
    """The critical ones of a plan's `count` actions, as a clause (none: nothing)."""
    if not critical:
        return {lang: "" for lang in LANGUAGES}
    if count == 1:
        return {"fr": ", critique", "en": ", critical"}
    return {"fr": f", dont {critical} " + _pick(critical, "fr", "critique", "critiques"),
            "en": f", {critical} of them critical"}


def _plan_outcome(done: int, dropped: int) -> dict:
    """'3 actions réalisées, 1 abandonnée' / '3 actions done, 1 dropped'; the dropped
    ones are left out when there are none (unless nothing was done either)."""
    values = {"done": {"fr": f"{done} " + _pick(done, "fr", "action réalisée",
                                                 "actions réalisées"),
                       "en": f"{counted(done, 'action')['en']} done"}}
    if dropped or not done:
        values["dropped"] = {"fr": f", {dropped} " + _pick(dropped, "fr", "abandonnée",
                                                            "abandonnées"),
                             "en": f", {dropped} dropped"}
    else:
        values["dropped"] = {lang: "" for lang in LANGUAGES}
    return values


def _due_in(days: int) -> dict:
    """When an action falls due: 'aujourd'hui' / 'today', 'dans 2 jours' / 'in 2 days'."""
    if days <= 0:
        return {"fr": "aujourd'hui", "en": "today"}
    words = counted(days, "day")
    return {"fr": f"dans {words['fr']}", "en": f"in {words['en']}"}


def _critical_gaps(labels: list[dict]) -> dict:
    """'Écart critique : X.' / 'Écarts critiques : X ; Y.' / 'Aucun écart critique.'"""
    if not labels:
        return {"fr": "Aucun écart critique.", "en": "No critical gap."}
    return {lang: _pick(len(labels), lang, *{"fr": ("Écart critique", "Écarts critiques"),
                                             "en": ("Critical gap", "Critical gaps")}[lang])
            + (" : " if lang == "fr" else ": ")
            + (" ; " if lang == "fr" else "; ").join(label[lang] for label in labels) + "."
            for lang in LANGUAGES}


def compose(kind: str, event_type: str, data: dict, known: dict | None = None) -> dict:
    """Texts and link of the alert of `kind` for this event's data (`known`: the
    action's text and facility name, when the event does not carry them)."""
    facility = data.get("facility_name", data.get("facility_id", ""))
    action = {"fr": data.get("text_fr", ""), "en": data.get("text_en", "")}
    if event_type == "plan.created":
        count = len(data["actions"])
        values = {"facility": facility, "actions": _plan_actions(count),
                  "critical": _critical(count, sum(1 for a in data["actions"]
                                                   if a["critical"]))}
        link = f"{API}/plans/{data['plan_id']}"
    elif event_type == "plan.completed":
        values = {"facility": facility, **_plan_outcome(data["actions_done"],
                                                        data["actions_dropped"])}
        link = f"{API}/plans/{data['plan_id']}"
    elif event_type in ("evidence.uploaded", "evidence.reviewed"):
        # The evidence events carry no facility name nor action text: `known`
        # holds them when notify saw the plan; otherwise say what we know.
        known = known or {}
        values = {"facility": known.get("facility_name") or data.get("facility_id", ""),
                  "action": {"fr": known.get("text_fr") or str(data["action_id"])[:8],
                             "en": known.get("text_en") or str(data["action_id"])[:8]},
                  "comment": data.get("comment", "")}
        link = f"{API}/evidence/{data['evidence_id']}"
    elif event_type in ("action.due_soon", "action.overdue"):
        days = data.get("days_left", data.get("days_late")) or 0
        values = {"facility": facility, "action": action, "days": counted(days, "day"),
                  "when": _due_in(days), "due": _dates(data["due_date"])}
        link = f"{API}/plans/{data['plan_id']}"
    elif event_type == "action.verified":
        values = {"facility": facility, "action": action, "day": _dates(data["visited_at"])}
        link = f"{API}/plans/{data['plan_id']}"
    elif event_type == VISIT_VERIFIED:
        day = _dates(data["visited_at"])
        link = f"{API}/plans/{data['plan_id']}"
        actions = data["actions"]
        if len(actions) == 1:  # the one-action text, as before
            values = {"facility": facility, "day": day,
                      "action": {"fr": actions[0]["text_fr"], "en": actions[0]["text_en"]}}
        else:
            kind = "action.verified.several"
            values = {"facility": facility, "day": day,
                      "count": counted(len(actions), "action"),
                      "actions": {lang: ", ".join(_quoted(a[f"text_{lang}"], lang)
                                                  for a in actions) for lang in LANGUAGES}}
    elif event_type == "action.commented":
        values = {"facility": facility, "action": action, "text": data["text"],
                  "author": (known or {}).get("author") or {
                      "fr": "Le coach" if data["author_role"] != "coachee" else "L'équipe",
                      "en": "The coach" if data["author_role"] != "coachee" else "The team"}}
        link = f"{API}/plans/{data['plan_id']}/actions/{data['action_id']}/comments"
    elif event_type == "checklist.submitted":
        gaps = [g for g in data["gaps"] if g["critical"]]
        values = {"facility": facility, "score": _percent(data["score"]["percent"]),
                  "gaps": _critical_gaps([{lang: g[f"label_{lang}"] for lang in LANGUAGES}
                                          for g in gaps])}
        link = f"{API}/submissions/{data['submission_id']}"
    else:
        raise KeyError(event_type)
    return {**render(kind, values), "link": link}


def digest(day, items: list[dict], language: str) -> tuple[str, str]:
    """Subject and body of one digest in `language`, from held alerts' texts."""
    lines = "\n".join(f"- {item['title']}" + (f"\n  {item['body']}" if item["body"] else "")
                      for item in items)
    texts = render("digest", {"day": _dates(day), "count": counted(len(items), "alert"),
                              "lines": lines})
    return texts[f"title_{language}"], texts[f"body_{language}"]


def short_text(title: str, body: str, link: str, limit: int = 320) -> str:
    """One SMS / WhatsApp text: title, body and link, cut to fit a few SMS."""
    text = f"{title}. {body}"
    room = limit - len(link) - 1
    if len(text) > room:
        text = text[:room - 1].rstrip() + "…"
    return f"{text} {link}"
