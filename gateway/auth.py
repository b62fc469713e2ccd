"""Sign-in and access tokens.

Passwords are hashed with Argon2id (memory-hard). Access tokens are short-lived
JWTs checked as RFC 8725 asks: one allowed algorithm, and issuer, audience and
expiry always required.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from nameko import config
from nameko.extensions import DependencyProvider

ALGORITHM = "HS256"
ACCESS_TOKEN_TTL = timedelta(minutes=15)

_hasher = PasswordHasher()
# A real hash to verify against when the username is unknown, so that the
# answer takes as long as for a known user (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("c2p-not-a-password")


class Unauthorized(Exception):
    """No valid credentials: answered with 401."""


@dataclass(frozen=True)
class Caller:
    id: str
    role: str
    scope: tuple
    language: str

    def as_rpc(self) -> dict:
        return {"id": self.id, "role": self.role, "scope": list(self.scope)}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


class Tokens:
    def __init__(self, secret, issuer, audience):
        self.secret, self.issuer, self.audience = secret, issuer, audience

    def issue(self, account, now=None) -> dict:
        now = now or datetime.now(timezone.utc)
        claims = {"iss": self.issuer, "aud": self.audience, "sub": account.id,
                  "iat": now, "nbf": now, "exp": now + ACCESS_TOKEN_TTL,
                  "role": account.role, "scope": list(account.scope),
                  "lang": account.language}
        return {"access_token": jwt.encode(claims, self.secret, algorithm=ALGORITHM),
                "token_type": "Bearer",
                "expires_in": int(ACCESS_TOKEN_TTL.total_seconds())}

    def verify(self, token: str) -> Caller:
        try:
            claims = jwt.decode(token, self.secret, algorithms=[ALGORITHM],
                                issuer=self.issuer, audience=self.audience,
                                options={"require": ["exp", "iss", "aud", "sub"]})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        return Caller(id=claims["sub"], role=claims["role"], scope=tuple(claims["scope"]),
                      language=claims.get("lang", "fr"))

    def caller(self, request) -> Caller:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("missing bearer token")
        return self.verify(token.strip())


class Auth(DependencyProvider):
    def setup(self):
        settings = config["C2P_SETTINGS"]
        self.tokens = Tokens(settings.token_secret, settings.token_issuer,
                             settings.token_audience)

    def get_dependency(self, worker_ctx):
        return self.tokens
