"""Health, sign-in, refresh and sign-out.

Sign-in answers a short-lived access token and a refresh token. A refresh
token is used once: `POST /auth/refresh` revokes it and answers a new pair of
the same family; presenting a used one again means it was copied, so the whole
family is revoked (RFC 6819 5.2.2.3), unless it is a retry right after a
rotation whose answer was lost (`gateway.auth.refresh_outcome`): that retry is
answered the same successor token, so a replayed copy never opens a second,
independent session. Sign-out revokes the family too.
"""
from __future__ import annotations

import uuid

from marshmallow import ValidationError
from nameko import config
from sqlalchemy import select, update
from werkzeug.wrappers import Response

from c2p.api.docs import Health
from c2p.api.session import RefreshRequest, SessionTokens, SignIn
from c2p.clock import utcnow
from c2p.errors import InvalidInput, Unauthorized
from gateway.auth import (ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL, check_password,
                          new_refresh_token, refresh_outcome, refresh_token_hash)
from gateway.http import API, http, problem, read_json
from gateway.models import Account, RefreshToken
from gateway.openapi import route
from gateway.security import client_address


def _load(schema, payload):
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None


class SessionRoutes:
    @route(summary="Liveness", response=Health, public=True, tags=["session"])
    @http("GET", "/health")
    def health(self, request):
        return {"status": "ok"}

    @route(summary="Sign in: an access token (15 min) and a refresh token", request=SignIn,
           response=SessionTokens, public=True, errors=(401, 429), tags=["session"])
    @http("POST", f"{API}/auth/token")
    def sign_in(self, request):
        credentials = _load(SignIn(), read_json(request))
        username = credentials["username"]
        address = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                                 config["C2P_SETTINGS"].trusted_proxies)
        device = self.auth.device_of(credentials.get("device_token"), username)
        self.auth.check_throttle(username, address, device)
        account = self.db.session.scalars(select(Account).where(
            Account.username == username.strip().lower())).first()
        valid = check_password(account.password_hash if account else None,
                               credentials["password"])
        if not (valid and account.active):
            self.auth.record_failure(username, address, device)
            raise Unauthorized("unknown username or wrong password")
        self.auth.record_success(username, address, device)
        pair, _ = self._open_session(account, family_id=uuid.uuid4())
        pair["device_token"] = self.auth.issue_device(account)
        return pair

    @route(summary="A new token pair for a refresh token (which is used up)",
           request=RefreshRequest, response=SessionTokens, public=True, errors=(401,),
           tags=["session"])
    @http("POST", f"{API}/auth/refresh")
    def refresh_session(self, request):
        presented = _load(RefreshRequest(), read_json(request))["refresh_token"]
        session = self.db.session
        now = utcnow()
        token = session.scalars(select(RefreshToken).where(
            RefreshToken.token_hash == refresh_token_hash(presented))
            .with_for_update()).first()
        replacement = None
        if token is not None and token.replaced_by is not None:
            replacement = session.get(RefreshToken, token.replaced_by, with_for_update=True)
        outcome = refresh_outcome(token, replacement, now)
        if outcome == "refused":
            return _refused("unknown, expired or revoked refresh token")
        if outcome == "reuse":
            # Answered, not raised: the family's revocation must be committed.
            self._revoke_family(token.family_id, now)
            return _refused("refresh token already used: every session of its family "
                            "is revoked")
        account = session.get(Account, token.account_id)
        if account is None or not account.active:
            return _refused("account disabled")
        successor = self.auth.tokens.successor(presented)
        if outcome == "retry":
            # The answer to the rotation was lost, or someone else holds a copy of
            # the old token: either way the same successor is answered (with a new
            # access token), never a second refresh token. Its second use, by
            # whichever party is late, is a reuse and revokes the family.
            if replacement.token_hash != refresh_token_hash(successor):
                self._revoke_family(token.family_id, now)  # made before successors
                return _refused("refresh token already used: every session of its "
                                "family is revoked")
            pair = self._pair(account, successor)
            return pair
        pair, new_id = self._open_session(account, family_id=token.family_id,
                                          plain=successor)
        token.revoked_at, token.replaced_by = now, new_id
        return pair

    @route(summary="Sign out: the refresh token (and its family) is revoked",
           request=RefreshRequest, public=True, status=204, tags=["session"])
    @http("POST", f"{API}/auth/sign-out")
    def sign_out(self, request):
        presented = _load(RefreshRequest(), read_json(request))["refresh_token"]
        token = self.db.session.scalars(select(RefreshToken).where(
            RefreshToken.token_hash == refresh_token_hash(presented))).first()
        if token is not None:
            self._revoke_family(token.family_id, utcnow())
        return Response(status=204)

    def _open_session(self, account, family_id, plain=None) -> tuple[dict, uuid.UUID]:
        if plain is None:
            plain, digest = new_refresh_token()
        else:
            digest = refresh_token_hash(plain)
        now = utcnow()
        token = RefreshToken(id=uuid.uuid4(), account_id=account.id, family_id=family_id,
                             token_hash=digest, issued_at=now,
                             expires_at=now + REFRESH_TOKEN_TTL)
        self.db.session.add(token)
        return self._pair(account, plain), token.id

    def _pair(self, account, plain) -> dict:
        pair = self.auth.issue(account)
        pair.update(refresh_token=plain,
                    refresh_expires_in=int(REFRESH_TOKEN_TTL.total_seconds()),
                    expires_in=int(ACCESS_TOKEN_TTL.total_seconds()))
        return pair

    def _revoke_family(self, family_id, now):
        self.db.session.execute(update(RefreshToken).where(
            RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now))


def _refused(detail):
    response = problem(401, "Unauthorized", detail)
    response.headers["WWW-Authenticate"] = 'Bearer realm="c2p", error="invalid_token"'
    return response
