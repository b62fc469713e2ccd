"""Checklists over HTTP: submissions and their scores, facility histories, templates,
org units (list and import) and the gaps dashboard.

Roles and scope are enforced by the checklist service from the caller passed
along; routes only pass the loaded query (`request.query`) on and return the
answer, which the gateway dumps through the declared view (`c2p.api.checklists`).
"""
from __future__ import annotations

from datetime import date

from c2p.api import Page, page_of, paginate_list
from c2p.api.checklists import (FacilityHistoryView, GapReportView, GapsQuery, HistoryQuery,
                                ImportQuery, ImportReportView, OrgUnitQuery, OrgUnitView,
                                PublishedTemplateView, SubmissionQuery, SubmissionRequest,
                                SubmissionSummaryView, SubmissionView, TemplateDefinition,
                                TemplateQuery, TemplateSummaryView, TemplateVersionQuery,
                                TemplateView)
from c2p.errors import InvalidInput, NotFound, PayloadTooLarge
from c2p.objectstore import format_size
from gateway.dependencies import TimedRpc
from gateway.http import API, Reply, http, read_json
from gateway.openapi import route
from gateway.people import check_people

MAX_IMPORT_BYTES = 20 * 1024 * 1024  # a national DHIS2 export with geometry


TAGS = ["checklists"]


def _iso(value):
    return value.isoformat() if value is not None else None


class ChecklistRoutes:
    checklist = TimedRpc("checklist")

    # --- submissions -------------------------------------------------------

    @route(summary="Submit a supervision visit (checklist)", request=SubmissionRequest,
           response=SubmissionView, status=(201, 200), errors=(403, 409), tags=TAGS,
           description="The client-generated `id` makes a retried sync return the "
                       "original (200 instead of 201); the same id with other content is 409.")
    @http("POST", f"{API}/submissions")
    def submit_checklist(self, request):
        caller = self.auth.caller(request)
        # The people named are checked against the accounts (gateway.people).
        payload, wrong_people = check_people(self.db.session, read_json(request))
        if wrong_people and self._facility_known(caller, payload.get("facility_id")):
            raise InvalidInput(wrong_people)
        # (An unknown or foreign facility: the checklist service says so, as usual.)
        result = self.checklist.submit_checklist(payload, caller.as_rpc())
        return Reply(result, status=200 if result["replayed"] else 201,
                     headers={"Location": f"{API}/submissions/{result['id']}"})

    def _facility_known(self, caller, facility_id) -> bool:
        """Is this a facility in the caller's scope? Asked only when a visit names
        someone else's account, so that a wrong facility is reported as before."""
        if not isinstance(facility_id, str) or not facility_id:
            return False
        try:
            self.checklist.get_facility_history(caller.as_rpc(), facility_id,
                                                since=date.today().isoformat())
        except (NotFound, InvalidInput):
            return False
        return True

    @route(summary="Visits in the caller's area, newest first", query=SubmissionQuery,
           response=Page(SubmissionSummaryView), errors=(404,), tags=TAGS)
    @http("GET", f"{API}/submissions")
    def list_submissions(self, request):
        caller = self.auth.caller(request)
        q = request.query
        return self.checklist.list_submissions(
            caller.as_rpc(), facility_id=q.get("facility_id"),
            district_id=q.get("district_id"), region_id=q.get("region_id"),
            coach_id=q.get("coach_id"), since=_iso(q.get("since")), until=_iso(q.get("until")),
            page=q["page"], per_page=q["per_page"])

    @route(summary="One visit with its score and gaps", response=SubmissionView,
           errors=(404,), tags=TAGS)
    @http("GET", f"{API}/submissions/<submission_id>")
    def get_submission(self, request, submission_id):
        caller = self.auth.caller(request)
        return self.checklist.get_submission(submission_id, list(caller.scope))

    @route(summary="A facility's score history of one template, oldest first",
           query=HistoryQuery, response=FacilityHistoryView, errors=(404,), tags=TAGS)
    @http("GET", f"{API}/facilities/<facility_id>/scores")
    def get_facility_history(self, request, facility_id):
        caller = self.auth.caller(request)
        q = request.query
        return self.checklist.get_facility_history(
            caller.as_rpc(), facility_id, since=_iso(q.get("since")), until=_iso(q.get("until")),
            template_code=q.get("template_code"))

    # --- dashboards --------------------------------------------------------

    @route(summary="Latest scores of one template by facility, district or region, and "
                   "the items failed most", query=GapsQuery, response=GapReportView,
           tags=["dashboards"])
    @http("GET", f"{API}/dashboards/gaps")
    def get_gaps_dashboard(self, request):
        caller = self.auth.caller(request)
        q = request.query
        report = self.checklist.gap_report(
            caller.as_rpc(), level=q["level"], since=_iso(q.get("since")),
            until=_iso(q.get("until")), top=q["top"], template_code=q.get("template_code"),
            area_id=q.get("area_id"), page=q["page"], per_page=q["per_page"],
            all_templates=q["all_templates"])
        rows = report.pop("rows")  # the page asked for: a national table stays there
        return page_of(rows, report.pop("total"), q["page"], q["per_page"], **report)

    # --- templates ---------------------------------------------------------

    @route(summary="Published checklist templates (every version)", query=TemplateQuery,
           response=Page(TemplateSummaryView), tags=TAGS)
    @http("GET", f"{API}/templates")
    def list_templates(self, request):
        caller = self.auth.caller(request)
        q = request.query
        return paginate_list(self.checklist.list_templates(caller.as_rpc(), code=q.get("code")),
                             q["page"], q["per_page"])

    @route(summary="Publish a template version (admins)", request=TemplateDefinition,
           response=PublishedTemplateView, status=(201, 200), errors=(409,), tags=TAGS,
           description="Without `version`, the next one. A published version never "
                       "changes: the same version with other content is 409.")
    @http("POST", f"{API}/templates")
    def create_template(self, request):
        caller = self.auth.caller(request)
        result = self.checklist.create_template(caller.as_rpc(), read_json(request))
        location = f"{API}/templates/{result['code']}?version={result['version']}"
        return Reply(result, status=201 if result["created"] else 200,
                     headers={"Location": location})

    @route(summary="One template in full (latest version, or ?version=)",
           query=TemplateVersionQuery, response=TemplateView, errors=(404,), tags=TAGS)
    @http("GET", f"{API}/templates/<code>")
    def get_template(self, request, code):
        caller = self.auth.caller(request)
        return self.checklist.get_template(caller.as_rpc(), code,
                                           version=request.query.get("version"))

    # --- org units ---------------------------------------------------------

    @route(summary="Org units in the caller's area, by path", query=OrgUnitQuery,
           response=Page(OrgUnitView), tags=TAGS)
    @http("GET", f"{API}/org-units")
    def list_org_units(self, request):
        caller = self.auth.caller(request)
        q = request.query
        return paginate_list(self.checklist.list_org_units(
            caller.as_rpc(), level=q.get("level"), parent_id=q.get("parent_id")),
            q["page"], q["per_page"])

    @route(summary="Import org units from CSV or a DHIS2 export (admins)", query=ImportQuery,
           response=ImportReportView, tags=TAGS, errors=(413,),
           upload=("text/csv", "application/json"),
           description="The body is the file itself (text/csv or the DHIS2 "
           "organisationUnits JSON). Idempotent; the answer reports each line.")
    @http("POST", f"{API}/org-units/import")
    def import_org_units(self, request):
        caller = self.auth.caller(request)
        if request.content_length and request.content_length > MAX_IMPORT_BYTES:
            raise PayloadTooLarge("body", format_size(MAX_IMPORT_BYTES))
        try:
            content = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput({"body": ["must be UTF-8"]}) from None
        return self.checklist.import_org_units(caller.as_rpc(), request.query["format"],
                                               content, dry_run=request.query["dry_run"])
