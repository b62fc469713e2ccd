"""Texts of the alerts, in French and English."""

PLAN_TO_AGREE = {
    "title_fr": "Nouveau plan d'amélioration à valider : {facility}",
    "title_en": "New improvement plan to agree: {facility}",
    "body_fr": "{count} action(s) issue(s) de la visite, dont {critical} critique(s). "
               "Discutez-en avec l'équipe et validez le plan.",
    "body_en": "{count} action(s) from the visit, {critical} of them critical. "
               "Discuss them with the team and agree the plan.",
}


def render(template: dict, **values) -> dict:
    return {key: text.format(**values) for key, text in template.items()}
