"""The printable report of one supervision visit, as a PDF in French or English.

Built with ReportLab (BSD licence, maintained since 2000): its layout engine
(Platypus) handles paragraphs that wrap, tables that split across pages and
repeated table headers, which a report of a 49-item checklist with a dozen gaps
needs. Text is set in Bitstream Vera, a TrueType font shipped inside the
reportlab package and embedded (subset) in the PDF, so French accents, « »,
œ and ’ print on any reader and no system font is needed. A character the
font lacks is replaced by its closest unaccented form rather than a blank box.

Plain function, no nameko: `visit_report_pdf(visit, template, plan, names, lang)`.
The output is byte-for-byte reproducible for the same input (ReportLab's
invariant mode: no creation time or random id in the file).
"""
from __future__ import annotations

import io
import os
import unicodedata
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from c2p.clock import day_for_people

FONT, BOLD = "C2PVera", "C2PVera-Bold"
_FONT_DIR = os.path.join(os.path.dirname(reportlab.__file__), "fonts")


def _register_fonts():
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, os.path.join(_FONT_DIR, "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, os.path.join(_FONT_DIR, "VeraBd.ttf")))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT,
                                      boldItalic=BOLD)


_register_fonts()
_GLYPHS = set(pdfmetrics.getFont(FONT).face.charToGlyph)

TEXT = {
    "fr": {
        "title": "Rapport de visite de supervision", "facility": "Formation sanitaire",
        "visited": "Date de la visite", "coach": "Coach", "met": "Personnes rencontrées",
        "template": "Grille", "score": "Score global", "flagged":
        "Visite signalée : au moins un écart critique.", "sections": "Scores par section",
        "section": "Section", "percent": "Score", "verdict": "Appréciation",
        "effective": "Efficace (≥ 80 %)", "improve": "À améliorer", "na": "Sans objet",
        "gaps": "Écarts constatés", "item": "Point vérifié", "answer": "Réponse",
        "action": "Action corrective", "none": "Aucun écart : bravo à toute l'équipe !",
        "plan": "Plan d'amélioration", "no_plan": "Le plan d'amélioration est en cours de "
        "préparation.", "who": "Responsable", "due": "Échéance", "status": "Statut",
        "comment": "Commentaire du coach", "critical": "critique",
        "footer": "C2P – coaching et supervision formative du PEV",
        "answers": {"yes": "oui", "no": "non", "partial": "partiel", "na": "sans objet"},
        "colours": {"green": "vert", "amber": "orange", "red": "rouge", "grey": "gris"},
        "statuses": {"todo": "à faire", "in_progress": "en cours",
                     "awaiting_review": "en attente de validation", "done": "réalisée",
                     "dropped": "abandonnée"},
        "roles": {"dtc": "DTC", "vaccinator": "vaccinateur", "nurse": "infirmier(ère)",
                  "midwife": "sage-femme", "community_health_worker": "ASC",
                  "district": "district", "region": "région", "manager": "gestionnaire",
                  "other": "autre"},
    },
    "en": {
        "title": "Supervision visit report", "facility": "Health facility",
        "visited": "Visit date", "coach": "Coach", "met": "People met",
        "template": "Checklist", "score": "Overall score", "flagged":
        "Visit flagged: at least one critical gap.", "sections": "Scores by section",
        "section": "Section", "percent": "Score", "verdict": "Assessment",
        "effective": "Effective (≥ 80 %)", "improve": "To improve", "na": "Not applicable",
        "gaps": "Gaps found", "item": "Item checked", "answer": "Answer",
        "action": "Corrective action", "none": "No gap: well done to the whole team!",
        "plan": "Improvement plan", "no_plan": "The improvement plan is being prepared.",
        "who": "Responsible", "due": "Due", "status": "Status",
        "comment": "Coach's comment", "critical": "critical",
        "footer": "C2P – coaching and supportive supervision for immunization",
        "answers": {"yes": "yes", "no": "no", "partial": "partial", "na": "n/a"},
        "colours": {"green": "green", "amber": "amber", "red": "red", "grey": "grey"},
        "statuses": {"todo": "to do", "in_progress": "in progress",
                     "awaiting_review": "awaiting review", "done": "done",
                     "dropped": "dropped"},
        "roles": {"dtc": "DTC", "vaccinator": "vaccinator", "nurse": "nurse",
                  "midwife": "midwife", "community_health_worker": "CHW",
                  "district": "district", "region": "region", "manager": "manager",
                  "other": "other"},
    },
}
FILL = {"green": colors.HexColor("#c8e6c9"), "amber": colors.HexColor("#ffe0b2"),
        "red": colors.HexColor("#ffcdd2"), "grey": colors.HexColor("#eeeeee")}


def printable(text) -> str:
    """`text` with every character the font cannot draw replaced by its closest
    plain form (é stays é; a rare symbol loses its accent or becomes '?')."""
    out = []
    for char in str(text):
        if char in "\n\t" or ord(char) in _GLYPHS:
            out.append(char)
            continue
        plain = unicodedata.normalize("NFKD", char)
        kept = "".join(c for c in plain if ord(c) in _GLYPHS and not unicodedata.combining(c))
        out.append(kept or "?")
    return "".join(out)


def _p(text, style):
    return Paragraph(escape(printable(text)).replace("\n", "<br/>"), style)


def _percent(value, lang):
    if value is None:
        return "—"
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return (text.replace(".", ",") if lang == "fr" else text) + " %"


def _day(value, lang):
    return day_for_people(value, lang)


def visit_report_pdf(visit: dict, template: dict, plan: dict | None, names: dict,
                     lang: str = "fr") -> bytes:
    """The report as PDF bytes. `visit`: the checklist service's submission view;
    `template`: its template definition; `plan`: the planner's plan view or None;
    `names`: person id -> display name; `lang`: "fr" or "en"."""
    t = TEXT[lang]
    base = ParagraphStyle("c2p", fontName=FONT, fontSize=9, leading=11.5, alignment=TA_LEFT)
    small = ParagraphStyle("c2p-small", parent=base, fontSize=8, leading=10)
    h1 = ParagraphStyle("c2p-h1", parent=base, fontName=BOLD, fontSize=15, leading=19,
                        spaceAfter=4)
    h2 = ParagraphStyle("c2p-h2", parent=base, fontName=BOLD, fontSize=11.5, leading=15,
                        spaceBefore=9, spaceAfter=4)
    bold = ParagraphStyle("c2p-bold", parent=base, fontName=BOLD)
    score = visit["score"]
    items = {item["code"]: (section, item) for section in template["sections"]
             for item in section["items"]}
    name = lambda person_id: names.get(person_id) or person_id or "—"  # noqa: E731

    story = [_p(t["title"], h1)]
    met = ", ".join(f"{c.get('name') or name(c['id'])} ({t['roles'].get(c.get('role'), c.get('role') or '')})"
                    for c in visit["coachees"]) or "—"
    facts = [
        (t["facility"], f"{visit['facility_name']} ({visit['facility_id']})"),
        (t["visited"], _day(visit["visited_at"], lang)),
        (t["coach"], name(visit["coach_id"])),
        (t["met"], met),
        (t["template"], f"{template.get('title_' + lang) or template['code']} "
                        f"(v{visit['template_version']})"),
        (t["score"], f"{_percent(score['percent'], lang)} "
                     f"({t['colours'].get(score['colour'], score['colour'])})"),
    ]
    table = Table([[_p(k, bold), _p(v, base)] for k, v in facts],
                  colWidths=[42 * mm, 128 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (1, 5), (1, 5),
                                FILL.get(score["colour"], FILL["grey"]))]))
    story += [table]
    if score.get("flagged"):
        story += [Spacer(1, 3 * mm), _p(t["flagged"], bold)]

    story += [_p(t["sections"], h2)]
    rows = [[_p(t["section"], bold), _p(t["percent"], bold), _p(t["verdict"], bold)]]
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3f2fd")),
             ("VALIGN", (0, 0), (-1, -1), "TOP")]
    for position, section in enumerate(score["sections"], start=1):
        verdict = t["na"] if section.get("percent") is None else (
            t["effective"] if section.get("percent", 0) >= 80 else t["improve"])
        rows.append([_p(section.get(f"title_{lang}") or section["code"], base),
                     _p(_percent(section.get("percent"), lang), base), _p(verdict, base)])
        style.append(("BACKGROUND", (1, position), (1, position),
                      FILL.get(section.get("colour"), FILL["grey"])))
    sections = Table(rows, colWidths=[100 * mm, 25 * mm, 45 * mm], repeatRows=1)
    sections.setStyle(TableStyle(style))
    story += [sections]

    story += [_p(t["gaps"], h2)]
    if visit["gaps"]:
        rows = [[_p(t["item"], bold), _p(t["answer"], bold), _p(t["action"], bold)]]
        for gap in visit["gaps"]:
            label = gap.get(f"label_{lang}") or gap["item_code"]
            if gap.get("critical"):
                label = f"{label} ({t['critical']})"
            answer = gap.get("answer")
            answer = t["answers"].get(answer, answer) if isinstance(answer, str) else answer
            action = gap.get("action") or (items.get(gap["item_code"], (None, {}))[1]
                                           .get("action") or {})
            rows.append([_p(label, bold if gap.get("critical") else base),
                         _p("—" if answer is None else answer, base),
                         _p(action.get(f"text_{lang}", ""), small)])
        gaps = Table(rows, colWidths=[70 * mm, 20 * mm, 80 * mm], repeatRows=1)
        gaps.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                  ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3f2fd")),
                                  ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [gaps]
    else:
        story += [_p(t["none"], base)]

    story += [_p(t["plan"], h2)]
    if plan and plan.get("actions"):
        rows = [[_p("#", bold), _p(t["action"], bold), _p(t["who"], bold),
                 _p(t["due"], bold), _p(t["status"], bold)]]
        for action in plan["actions"]:
            rows.append([_p(action["position"], base), _p(action[f"text_{lang}"], small),
                         _p(name(action.get("owner_id")), base),
                         _p(_day(action["due_date"], lang), base),
                         _p(t["statuses"].get(action["status"], action["status"]), base)])
        actions = Table(rows, colWidths=[8 * mm, 78 * mm, 32 * mm, 25 * mm, 27 * mm],
                        repeatRows=1)
        actions.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                     ("BACKGROUND", (0, 0), (-1, 0),
                                      colors.HexColor("#e3f2fd")),
                                     ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [actions]
    else:
        story += [_p(t["no_plan"], base)]

    if visit.get("comment"):
        story += [_p(t["comment"], h2), _p(visit["comment"], base)]

    footer = printable(f"{t['footer']} · {visit['facility_name']} · "
                       f"{_day(visit['visited_at'], lang)}")

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.drawString(20 * mm, 10 * mm, footer)
        canvas.drawRightString(190 * mm, 10 * mm, str(doc.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
        bottomMargin=18 * mm, title=printable(f"{t['title']} – {visit['facility_name']}"),
        author="C2P", subject=printable(t["title"]), lang=lang, invariant=1)
    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
