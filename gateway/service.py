"""Gateway routes: thin; each checks the caller, then asks the owning service."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate
from nameko.rpc import ServiceRpc
from sqlalchemy import select

from c2p.errors import InvalidInput
from c2p.service import PlatformService
from gateway.auth import Auth, Unauthorized, check_password
from gateway.http import http, json_response, read_json
from gateway.models import Account

API = "/api/v1"


class SignIn(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=120))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


def _page(request):
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 20))
    except ValueError:
        raise InvalidInput({"page": ["page and per_page must be integers"]}) from None
    if page < 1 or not 1 <= per_page <= 100:
        raise InvalidInput({"page": ["page >= 1 and 1 <= per_page <= 100"]})
    return page, per_page


class GatewayService(PlatformService):
    name = "gateway"

    auth = Auth()
    checklist = ServiceRpc("checklist")
    planner = ServiceRpc("planner")
    notify = ServiceRpc("notify")

    @http("GET", "/health")
    def health(self, request):
        return json_response({"status": "ok"})

    @http("POST", f"{API}/auth/token")
    def sign_in(self, request):
        try:
            credentials = SignIn().load(read_json(request))
        except ValidationError as exc:
            raise InvalidInput(exc.messages) from None
        account = self.db.session.scalars(select(Account).where(
            Account.username == credentials["username"])).first()
        valid = check_password(account.password_hash if account else None,
                               credentials["password"])
        if not (valid and account.active):
            raise Unauthorized("unknown username or wrong password")
        return json_response(self.auth.issue(account))

    @http("POST", f"{API}/submissions")
    def submit_checklist(self, request):
        caller = self.auth.caller(request)
        result = self.checklist.submit_checklist(read_json(request), caller.as_rpc())
        status = 200 if result["replayed"] else 201
        return json_response(result, status=status,
                             headers={"Location": f"{API}/submissions/{result['id']}"})

    @http("GET", f"{API}/submissions/<submission_id>")
    def get_submission(self, request, submission_id):
        caller = self.auth.caller(request)
        return json_response(self.checklist.get_submission(submission_id, list(caller.scope)))

    @http("GET", f"{API}/submissions/<submission_id>/plan")
    def get_plan_for_submission(self, request, submission_id):
        caller = self.auth.caller(request)
        return json_response(self.planner.get_plan_for_submission(submission_id,
                                                                  list(caller.scope)))

    @http("GET", f"{API}/plans/<plan_id>")
    def get_plan(self, request, plan_id):
        caller = self.auth.caller(request)
        return json_response(self.planner.get_plan(plan_id, list(caller.scope)))

    @http("GET", f"{API}/inbox")
    def get_inbox(self, request):
        caller = self.auth.caller(request)
        page, per_page = _page(request)
        return json_response(self.notify.list_inbox(caller.id, page, per_page))
