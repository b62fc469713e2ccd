"""Health and sign-in."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from c2p.errors import InvalidInput
from gateway.auth import Unauthorized, check_password
from gateway.http import API, http, json_response, read_json
from gateway.models import Account


class SignIn(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=120))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class SessionRoutes:
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
