"""Exports of the caller's scope and period, and the printable visit report.

- `GET /exports/visits.csv`: one line per visit, with its overall and section
  scores (one column per section code met in the export, in template order);
- `GET /exports/gaps.csv`: one line per gap (failed or partial item) of each visit;
- `GET /submissions/{id}/report.pdf?lang=fr|en`: the visit report a coach shares
  (by WhatsApp, as field teams do): scores by section, gaps and the plan's actions.

CSV files are UTF-8 with a byte-order mark (spreadsheets then read the accents
right) and cells that a spreadsheet would run as a formula are quoted with `'`.
The period defaults to the last 90 days; scope is enforced by the checklist
service, which only returns visits in the caller's scope.
"""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlalchemy import select
from werkzeug.wrappers import Response

from c2p.api.exports import DEFAULT_PERIOD_DAYS, ExportQuery, ReportQuery
from c2p.errors import InvalidInput, NotFound
from gateway.dependencies import TimedRpc
from gateway.http import API, http
from gateway.models import Account
from gateway.openapi import route
from gateway.report import visit_report_pdf

TAGS = ["exports"]
EXPORT_PAGE = 500
MAX_EXPORT_ROWS = 100_000


def _period(query):
    until = query.get("until") or date.today()
    since = query.get("since") or until - timedelta(days=DEFAULT_PERIOD_DAYS)
    if since > until:
        raise InvalidInput({"query.since": ["must not be after until"]})
    return since, until


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A CSV cell: numbers as they are, text that a spreadsheet would evaluate
    as a formula prefixed with ' (CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_bytes(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_response(content: bytes, name: str) -> Response:
    return Response(content, status=200, headers={
        "Content-Disposition": f'attachment; filename="{name}"'},
        content_type="text/csv; charset=utf-8")


VISIT_COLUMNS = ["submission_id", "visited_at", "region", "district", "facility_id",
                 "facility_name", "coach_id", "template_code", "template_version",
                 "percent", "colour", "flagged", "gaps"]
GAP_COLUMNS = ["submission_id", "visited_at", "region", "district", "facility_id",
               "facility_name", "template_code", "section_code", "item_code", "label_fr",
               "label_en", "answer", "critical", "points_lost", "action_fr", "action_en"]


def visits_table(visits):
    """(header, rows) of the visits CSV: one column per section code, in the
    order sections first appear (template order)."""
    sections = []
    for visit in visits:
        for section in visit["sections"]:
            if section["code"] not in sections:
                sections.append(section["code"])
    header = VISIT_COLUMNS + [f"section_{code}_percent" for code in sections]
    rows = []
    for v in visits:
        by_code = {s["code"]: s["percent"] for s in v["sections"]}
        rows.append([v["id"], v["visited_at"], v["region_name"], v["district_name"],
                     v["facility_id"], v["facility_name"], v["coach_id"], v["template_code"],
                     v["template_version"], v["percent"], v["colour"], v["flagged"],
                     len(v["gaps"])] + [by_code.get(code) for code in sections])
    return header, rows


def gaps_table(visits):
    rows = []
    for v in visits:
        for g in v["gaps"]:
            rows.append([v["id"], v["visited_at"], v["region_name"], v["district_name"],
                         v["facility_id"], v["facility_name"], v["template_code"],
                         g["section_code"], g["item_code"], g["label_fr"], g["label_en"],
                         g["answer"], g["critical"], g["points_lost"], g["action_fr"],
                         g["action_en"]])
    return GAP_COLUMNS, rows


class ExportRoutes:
    checklist = TimedRpc("checklist")
    planner = TimedRpc("planner")

    def _visits(self, request):
        caller = self.auth.caller(request)
        query = request.query
        since, until = _period(query)
        visits, page = [], 1
        while True:
            found = self.checklist.export_visits(
                caller.as_rpc(), since=since.isoformat(), until=until.isoformat(),
                facility_id=query.get("facility_id"), district_id=query.get("district_id"),
                template_code=query.get("template"), page=page, per_page=EXPORT_PAGE)
            if found["total"] > MAX_EXPORT_ROWS:
                raise InvalidInput({"query.since": [
                    f"{found['total']} visits in the period, more than the "
                    f"{MAX_EXPORT_ROWS} an export holds: choose a shorter period"]})
            visits += found["items"]
            if len(visits) >= found["total"] or not found["items"]:
                return visits, since, until
            page += 1

    @route(summary="CSV of the visits in the caller's scope and period, with section scores",
           query=ExportQuery, media="text/csv", errors=(404,), tags=TAGS)
    @http("GET", f"{API}/exports/visits.csv")
    def export_visits_csv(self, request):
        visits, since, until = self._visits(request)
        header, rows = visits_table(visits)
        return _csv_response(csv_bytes(header, rows), f"c2p-visits-{since}-{until}.csv")

    @route(summary="CSV of the gaps (failed or partial items) of the visits in the caller's "
                   "scope and period", query=ExportQuery, media="text/csv", errors=(404,),
           tags=TAGS)
    @http("GET", f"{API}/exports/gaps.csv")
    def export_gaps_csv(self, request):
        visits, since, until = self._visits(request)
        header, rows = gaps_table(visits)
        return _csv_response(csv_bytes(header, rows), f"c2p-gaps-{since}-{until}.csv")

    @route(summary="A visit's printable report (PDF, French or English)", query=ReportQuery,
           media="application/pdf", errors=(404,), tags=TAGS,
           description="Scores by section, the gaps with their corrective actions and the "
                       "improvement plan's actions, ready to share.")
    @http("GET", f"{API}/submissions/<submission_id>/report.pdf")
    def visit_report(self, request, submission_id):
        caller = self.auth.caller(request)
        lang = request.query["lang"]
        visit = self.checklist.get_submission(submission_id, list(caller.scope))
        template = self.checklist.get_template(caller.as_rpc(), visit["template_code"],
                                               version=visit["template_version"])
        try:
            plan = self.planner.get_plan_for_submission(submission_id, caller.as_rpc())
        except NotFound:
            plan = None  # not written yet: the report says so
        people = {visit["coach_id"]} | {c["id"] for c in visit["coachees"]}
        if plan:
            people |= {a["owner_id"] for a in plan["actions"] if a["owner_id"]}
        names = {c["id"]: c.get("name") for c in visit["coachees"] if c.get("name")}
        names.update({a.id: a.display_name for a in self.db.session.scalars(
            select(Account).where(Account.id.in_(sorted(people))))})
        content = visit_report_pdf(visit, template, plan, names, lang)
        name = f"c2p-visit-{visit['visited_at'][:10]}-{visit['facility_id']}-{lang}.pdf"
        return Response(content, status=200, content_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{name}"'})
