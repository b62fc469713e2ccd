"""The texts of every alert, in French and English, and how they are filled.

One template per kind of alert: a title and a body per language, with
`{placeholders}` filled from the event's data. A value that differs by
language (an action's text, a date) is given as {"fr": ..., "en": ...}.
The inbox keeps both languages; e-mail, SMS and WhatsApp use the recipient's.
Supervision is formative: the tone is "what will we change".
"""
from __future__ import annotations

from c2p.clock import day_of
from notify.domain import VISIT_VERIFIED

API = "/api/v1"

TEMPLATES = {
    "plan.to_agree": {
        "fr": ("Nouveau plan d'amélioration à valider : {facility}",
               "{count} action(s) issue(s) de la visite, dont {critical} critique(s). "
               "Discutez-en avec l'équipe et validez le plan."),
        "en": ("New improvement plan to agree: {facility}",
               "{count} action(s) from the visit, {critical} of them critical. "
               "Discuss them with the team and agree the plan."),
    },
    "plan.completed": {
        "fr": ("Plan d'amélioration terminé : {facility}",
               "Bravo ! {done} action(s) réalisée(s), {dropped} abandonnée(s)."),
        "en": ("Improvement plan completed: {facility}",
               "Well done! {done} action(s) done, {dropped} dropped."),
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
        "fr": ("Action à échéance dans {days} jour(s) : {facility}",
               "« {action} » est à réaliser d'ici le {due}."),
        "en": ("Action due in {days} day(s): {facility}",
               "\"{action}\" is due by {due}."),
    },
    "action.overdue": {
        "fr": ("Action en retard de {days} jour(s) : {facility}",
               "« {action} » devait être réalisée le {due}. "
               "Faites le point avec l'équipe sur ce qui bloque."),
        "en": ("Action {days} day(s) overdue: {facility}",
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
        "fr": ("{count} actions vérifiées lors de la visite : {facility}",
               "La visite du {day} a constaté que ces actions sont en place : {actions}. "
               "Elles sont closes. Bravo à toute l'équipe !"),
        "en": ("{count} actions verified on the visit: {facility}",
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
        "fr": ("Visite signalée pour écart critique : {facility}",
               "Score {score}. Écart(s) critique(s) : {gaps}."),
        "en": ("Visit flagged for a critical gap: {facility}",
               "Score {score}. Critical gap(s): {gaps}."),
    },
    "digest": {
        "fr": ("C2P : votre résumé du {day} ({count} alerte(s))", "{lines}"),
        "en": ("C2P: your digest for {day} ({count} alert(s))", "{lines}"),
    },
}

LANGUAGES = ("fr", "en")


def _date(value, language):
    if isinstance(value, str):
        value = day_of(value)
    return value.strftime("%d/%m/%Y") if language == "fr" else value.isoformat()


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


def compose(kind: str, event_type: str, data: dict, known: dict | None = None) -> dict:
    """Texts and link of the alert of `kind` for this event's data (`known`: the
    action's text and facility name, when the event does not carry them)."""
    facility = data.get("facility_name", data.get("facility_id", ""))
    action = {"fr": data.get("text_fr", ""), "en": data.get("text_en", "")}
    if event_type == "plan.created":
        values = {"facility": facility, "count": len(data["actions"]),
                  "critical": sum(1 for a in data["actions"] if a["critical"])}
        link = f"{API}/plans/{data['plan_id']}"
    elif event_type == "plan.completed":
        values = {"facility": facility, "done": data["actions_done"],
                  "dropped": data["actions_dropped"]}
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
        days = data.get("days_left", data.get("days_late", 0))
        values = {"facility": facility, "action": action, "days": days,
                  "due": {lang: _date(data["due_date"], lang) for lang in LANGUAGES}}
        link = f"{API}/plans/{data['plan_id']}"
    elif event_type == "action.verified":
        values = {"facility": facility, "action": action,
                  "day": {lang: _date(data["visited_at"], lang) for lang in LANGUAGES}}
        link = f"{API}/plans/{data['plan_id']}"
    elif event_type == VISIT_VERIFIED:
        day = {lang: _date(data["visited_at"], lang) for lang in LANGUAGES}
        link = f"{API}/plans/{data['plan_id']}"
        actions = data["actions"]
        if len(actions) == 1:  # the one-action text, as before
            values = {"facility": facility, "day": day,
                      "action": {"fr": actions[0]["text_fr"], "en": actions[0]["text_en"]}}
        else:
            kind = "action.verified.several"
            values = {"facility": facility, "day": day, "count": len(actions),
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
                  "gaps": {lang: "; ".join(g[f"label_{lang}"] for g in gaps) or "—"
                           for lang in LANGUAGES}}
        link = f"{API}/submissions/{data['submission_id']}"
    else:
        raise KeyError(event_type)
    return {**render(kind, values), "link": link}


def digest(day, items: list[dict], language: str) -> tuple[str, str]:
    """Subject and body of one digest in `language`, from held alerts' texts."""
    lines = "\n".join(f"- {item['title']}" + (f"\n  {item['body']}" if item["body"] else "")
                      for item in items)
    texts = render("digest", {"day": {lang: _date(day, lang) for lang in LANGUAGES},
                              "count": len(items), "lines": lines})
    return texts[f"title_{language}"], texts[f"body_{language}"]


def short_text(title: str, body: str, link: str, limit: int = 320) -> str:
    """One SMS / WhatsApp text: title, body and link, cut to fit a few SMS."""
    text = f"{title}. {body}"
    room = limit - len(link) - 1
    if len(text) > room:
        text = text[:room - 1].rstrip() + "…"
    return f"{text} {link}"
