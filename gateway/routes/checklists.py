"""Checklists over HTTP: submissions and their scores, facility histories, templates,
org units (list and import) and the gaps dashboard.

Roles and scope are enforced by the checklist service from the caller passed
along; routes only read the request and shape the response.
"""
from __future__ import annotations

from datetime import date

from marshmallow import Schema, fields

from c2p.errors import InvalidInput, NotFound
from gateway.dependencies import TimedRpc
from gateway.http import API, http, json_response, page_params, read_json
from gateway.openapi import route
from gateway.people import check_people

try:  # the gateway may be deployed without the checklist package
    from checklist.schemas import SubmissionRequest, TemplateDefinition
except ImportError:  # pragma: no cover
    SubmissionRequest = TemplateDefinition = None

MAX_IMPORT_BYTES = 20 * 1024 * 1024  # a national DHIS2 export with geometry


class PeriodQuery(Schema):
    since = fields.Date(metadata={"description": "first day included (ISO date or date-time)"})
    until = fields.Date(metadata={"description": "last day included (ISO date or date-time)"})


class SubmissionQuery(PeriodQuery):
    facility_id = fields.String()
    district_id = fields.String()
    region_id = fields.String()
    coach_id = fields.String()
    page = fields.Integer(metadata={"description": "from 1"})
    per_page = fields.Integer(metadata={"description": "1 to 100 (default 20)"})


class GapsQuery(PeriodQuery):
    level = fields.String(metadata={"enum": ["facility", "district", "region"]})
    template_code = fields.String(metadata={"description": "only visits of this template "
                                                           "(every version)"})
    area_id = fields.String(metadata={"description": "only facilities under this region "
                                                     "or district (an org-unit id)"})
    top = fields.Integer(metadata={"description": "how many failing items (1-100, default 10)"})


class TemplateQuery(Schema):
    code = fields.String()
    version = fields.Integer()


class OrgUnitQuery(Schema):
    level = fields.String(metadata={"enum": ["country", "region", "district", "facility"]})
    parent_id = fields.String()


class ImportQuery(Schema):
    format = fields.String(required=True, metadata={"enum": ["csv", "dhis2"]})
    dry_run = fields.Boolean()


TAGS = ["checklists"]


def _int_arg(request, name):
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput({name: [f"must be an integer, got {raw!r}"]}) from None


def _bool_arg(request, name):
    raw = (request.args.get(name) or "false").lower()
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise InvalidInput({name: [f"must be true or false, got {raw!r}"]})
    return raw in ("true", "1", "yes")


class ChecklistRoutes:
    checklist = TimedRpc("checklist")

    # --- submissions -------------------------------------------------------

    @route(summary="Submit a supervision visit (checklist)", request=SubmissionRequest,
           status=(201, 200), errors=(403, 409), tags=TAGS,
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
        status = 200 if result["replayed"] else 201
        return json_response(result, status=status,
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
           errors=(404,), tags=TAGS)
    @http("GET", f"{API}/submissions")
    def list_submissions(self, request):
        """?facility_id= &district_id= &region_id= &coach_id= &since= &until= &page= &per_page="""
        caller = self.auth.caller(request)
        page, per_page = page_params(request)
        args = request.args
        return json_response(self.checklist.list_submissions(
            caller.as_rpc(), facility_id=args.get("facility_id"),
            district_id=args.get("district_id"), region_id=args.get("region_id"),
            coach_id=args.get("coach_id"), since=args.get("since"), until=args.get("until"),
            page=page, per_page=per_page))

    @route(summary="One visit with its score and gaps", errors=(404,), tags=TAGS)
    @http("GET", f"{API}/submissions/<submission_id>")
    def get_submission(self, request, submission_id):
        caller = self.auth.caller(request)
        return json_response(self.checklist.get_submission(submission_id, list(caller.scope)))

    @route(summary="A facility's score history, oldest first", query=PeriodQuery,
           errors=(404,), tags=TAGS)
    @http("GET", f"{API}/facilities/<facility_id>/scores")
    def get_facility_history(self, request, facility_id):
        caller = self.auth.caller(request)
        return json_response(self.checklist.get_facility_history(
            caller.as_rpc(), facility_id, since=request.args.get("since"),
            until=request.args.get("until")))

    # --- dashboards --------------------------------------------------------

    @route(summary="Latest scores by facility, district or region, and the items failed "
                   "most", query=GapsQuery, tags=["dashboards"])
    @http("GET", f"{API}/dashboards/gaps")
    def get_gaps_dashboard(self, request):
        """?level=facility|district|region &since= &until= &top= &template_code= &area_id="""
        caller = self.auth.caller(request)
        top = _int_arg(request, "top")
        return json_response(self.checklist.gap_report(
            caller.as_rpc(), level=request.args.get("level", "facility"),
            since=request.args.get("since"), until=request.args.get("until"),
            top=10 if top is None else top,
            template_code=request.args.get("template_code") or None,
            area_id=request.args.get("area_id") or None))

    # --- templates ---------------------------------------------------------

    @route(summary="Published checklist templates (every version)", query=TemplateQuery,
           tags=TAGS)
    @http("GET", f"{API}/templates")
    def list_templates(self, request):
        caller = self.auth.caller(request)
        return json_response({"items": self.checklist.list_templates(
            caller.as_rpc(), code=request.args.get("code"))})

    @route(summary="Publish a template version (admins)", request=TemplateDefinition,
           status=(201, 200), errors=(409,), tags=TAGS,
           description="Without `version`, the next one. A published version never "
                       "changes: the same version with other content is 409.")
    @http("POST", f"{API}/templates")
    def create_template(self, request):
        caller = self.auth.caller(request)
        result = self.checklist.create_template(caller.as_rpc(), read_json(request))
        location = f"{API}/templates/{result['code']}?version={result['version']}"
        return json_response(result, status=201 if result["created"] else 200,
                             headers={"Location": location})

    @route(summary="One template in full (latest version, or ?version=)", query=TemplateQuery,
           errors=(404,), tags=TAGS)
    @http("GET", f"{API}/templates/<code>")
    def get_template(self, request, code):
        caller = self.auth.caller(request)
        return json_response(self.checklist.get_template(
            caller.as_rpc(), code, version=_int_arg(request, "version")))

    # --- org units ---------------------------------------------------------

    @route(summary="Org units in the caller's area", query=OrgUnitQuery, tags=TAGS)
    @http("GET", f"{API}/org-units")
    def list_org_units(self, request):
        caller = self.auth.caller(request)
        return json_response({"items": self.checklist.list_org_units(
            caller.as_rpc(), level=request.args.get("level"),
            parent_id=request.args.get("parent_id"))})

    @route(summary="Import org units from CSV or a DHIS2 export (admins)", query=ImportQuery,
           tags=TAGS, description="The body is the file itself (text/csv or the DHIS2 "
           "organisationUnits JSON). Idempotent; the answer reports each line.")
    @http("POST", f"{API}/org-units/import")
    def import_org_units(self, request):
        """Body: the CSV or the DHIS2 JSON export; ?format=csv|dhis2 &dry_run=true"""
        caller = self.auth.caller(request)
        fmt = request.args.get("format", "")
        dry_run = _bool_arg(request, "dry_run")
        if request.content_length and request.content_length > MAX_IMPORT_BYTES:
            raise InvalidInput({"body": [f"larger than {MAX_IMPORT_BYTES} bytes"]})
        try:
            content = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput({"body": ["must be UTF-8"]}) from None
        return json_response(self.checklist.import_org_units(caller.as_rpc(), fmt, content,
                                                             dry_run=dry_run))
