"""Sign-in, access tokens, refresh tokens and the slowing of password guessing.

- Passwords are hashed with Argon2id (memory-hard); an unknown username is
  checked against a dummy hash, so the answer takes as long (no enumeration).
- Access tokens are short-lived JWTs checked as RFC 8725 asks: one allowed
  algorithm (HS256: `alg: none` and every other algorithm are refused), an
  explicit type (`at+jwt`), and issuer, audience, expiry and subject required.
  They carry the account's `token_version`; disabling, re-scoping or changing
  the role of an account bumps it, so its older tokens stop working. The
  version is checked on every request against a small per-process cache
  (`STATE_TTL_S`): the replica that made the change updates its cache at once,
  other replicas within `STATE_TTL_S` seconds.
- Refresh tokens are opaque random strings stored as SHA-256 only, rotated on
  every use; a used one presented again revokes its family, except for a retry
  within REFRESH_RETRY_GRACE of a rotation whose answer never arrived
  (`refresh_outcome`; see `gateway.models.RefreshToken`).
- Failed sign-ins are counted per username and per client address; past a few
  free attempts each further failure locks the key for an exponentially longer
  time (`lock_seconds`), answered 429 with Retry-After. The counters live in
  their own transaction, so the refused request's rollback does not undo them.
- Route permissions (`gateway.policy`) are applied when a route asks for its
  caller: the entrypoint name travels with the request.
"""
from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from nameko import config
from nameko.extensions import DependencyProvider
from sqlalchemy import select, text

from c2p.database import make_engine
from c2p.errors import Forbidden
from gateway import policy

ALGORITHM = "HS256"
TOKEN_TYPE = "at+jwt"
ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)
LEEWAY_S = 10            # clock skew tolerated between replicas
STATE_TTL_S = 5.0        # how stale an account's (active, version) may be on a replica
ROUTE_KEY = "c2p.route"  # request.environ key naming the entrypoint (gateway.http)

# Sign-in slowing: free failures per key, then a lock doubling from BASE up to MAX.
USER_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 30
LOCK_BASE_S = 15
LOCK_MAX_S = 900
FAILURE_WINDOW = timedelta(minutes=15)  # a key's count restarts after this long quiet

_hasher = PasswordHasher()
# A real hash to verify against when the username is unknown, so that the
# answer takes as long as for a known user (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("c2p-not-a-password")


class Unauthorized(Exception):
    """No valid credentials: answered with 401."""


class Throttled(Exception):
    """Too many failed sign-ins: answered with 429 and Retry-After."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed sign-ins; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Caller:
    id: str
    role: str
    scope: tuple
    language: str = "fr"
    facility_id: str | None = None

    def as_rpc(self) -> dict:
        return {"id": self.id, "role": self.role, "scope": list(self.scope),
                "facility_id": self.facility_id}


# Argon2 runs for a few hundred ms of CPU in C; called directly it would freeze
# the gateway's eventlet hub (every other request) for that long. In a native
# thread (the C call releases the GIL) the hub stalled at most 43 ms while five
# verifications ran, against 1.65 s called directly (measured on the 2-core box).
def hash_password(password: str) -> str:
    return tpool.execute(_hasher.hash, password)


def _verify(password_hash, password):
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(password_hash: str | None, password: str) -> bool:
    return tpool.execute(_verify, password_hash or _DUMMY_HASH, password) \
        and bool(password_hash)


def lock_seconds(failures: int, free: int) -> int:
    """How long a key is locked after its `failures`-th failure in a row."""
    if failures < free:
        return 0
    return min(LOCK_BASE_S * 2 ** min(failures - free, 20), LOCK_MAX_S)


REFRESH_RETRY_GRACE = timedelta(seconds=30)


def refresh_outcome(token, replacement, now) -> str:
    """What presenting refresh `token` (a RefreshToken row, or None) does:

    - "rotate": it is live: answer a new pair, revoke it;
    - "retry": it was rotated less than REFRESH_RETRY_GRACE ago and its
      replacement was never used: the client lost the answer (a phone on a bad
      line) and retries; answer a new pair in place of the unused one;
    - "reuse": it was rotated and presented again otherwise: a copy is in other
      hands, so its whole family is revoked;
    - "refused": unknown, expired, or revoked by sign-out, disabling or re-scoping.
    """
    if token is None or token.expires_at <= now:
        return "refused"
    if token.revoked_at is None:
        return "rotate"
    if token.replaced_by is None:
        return "refused"
    if (replacement is not None and replacement.revoked_at is None
            and now - token.revoked_at <= REFRESH_RETRY_GRACE):
        return "retry"
    return "reuse"


def new_refresh_token() -> tuple[str, str]:
    """A fresh refresh token and the hash that is stored instead of it."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_hash(token)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Tokens:
    """Issue and verify access tokens (no I/O: unit-tested as is)."""

    def __init__(self, secret, issuer, audience):
        self.secret, self.issuer, self.audience = secret, issuer, audience

    def issue(self, account, now=None) -> dict:
        now = now or datetime.now(timezone.utc)
        claims = {"iss": self.issuer, "aud": self.audience, "sub": account.id,
                  "iat": now, "nbf": now, "exp": now + ACCESS_TOKEN_TTL,
                  "jti": str(uuid.uuid4()),
                  "role": account.role, "scope": list(account.scope),
                  "lang": account.language, "fac": account.facility_id,
                  "ver": account.token_version or 0}
        token = jwt.encode(claims, self.secret, algorithm=ALGORITHM,
                           headers={"typ": TOKEN_TYPE})
        return {"access_token": token, "token_type": "Bearer",
                "expires_in": int(ACCESS_TOKEN_TTL.total_seconds())}

    def verify(self, token: str) -> tuple[Caller, int]:
        """The caller a token speaks for and the account version it was issued at."""
        try:
            header = jwt.get_unverified_header(token)
            # PyJWT refuses other algorithms too; saying it here keeps the rule visible.
            if header.get("alg") != ALGORITHM:
                raise Unauthorized("invalid token: algorithm not allowed")
            if header.get("typ") != TOKEN_TYPE:
                raise Unauthorized("invalid token: not an access token")
            claims = jwt.decode(token, self.secret, algorithms=[ALGORITHM],
                                issuer=self.issuer, audience=self.audience, leeway=LEEWAY_S,
                                options={"require": ["exp", "iat", "iss", "aud", "sub"]})
            caller = Caller(id=str(claims["sub"]), role=str(claims["role"]),
                            scope=tuple(str(p) for p in claims["scope"]),
                            language=str(claims.get("lang") or "fr"),
                            facility_id=claims.get("fac"))
            version = int(claims.get("ver", 0))
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        except (KeyError, TypeError, ValueError):
            raise Unauthorized("invalid token: malformed claims") from None
        if caller.role not in policy.ROLES:
            raise Unauthorized("invalid token: unknown role")
        return caller, version


def bearer_token(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    return token.strip()


class AccountStates:
    """(active, token_version) per account, cached for STATE_TTL_S seconds."""

    def __init__(self, load, ttl=STATE_TTL_S, clock=time.monotonic, max_entries=50000):
        self._load, self._ttl, self._clock, self._max = load, ttl, clock, max_entries
        self._cache: dict[str, tuple[float, bool, int]] = {}
        self._lock = threading.Lock()

    def get(self, account_id) -> tuple[bool, int] | None:
        now = self._clock()
        hit = self._cache.get(account_id)
        if hit and hit[0] > now:
            return hit[1], hit[2]
        state = self._load(account_id)
        if state is None:
            self._cache.pop(account_id, None)
            return None
        self.remember(account_id, *state)
        return state

    def remember(self, account_id, active: bool, version: int):
        with self._lock:
            if len(self._cache) >= self._max:
                self._cache.clear()
            self._cache[account_id] = (self._clock() + self._ttl, bool(active), int(version))


class Auth(DependencyProvider):
    """Gives each worker an `Access`: tokens, caller checks, sign-in throttling."""

    def setup(self):
        settings = config["C2P_SETTINGS"]
        self.tokens = Tokens(settings.token_secret, settings.token_issuer,
                             settings.token_audience)
        # Its own small pool: throttling counters must commit even when the
        # request's own unit of work rolls back.
        self.engine = make_engine(settings.database_url(self.container.service_name),
                                  pool_size=2)
        self.states = AccountStates(self._load_state)

    def stop(self):
        self.engine.dispose()

    def kill(self):
        self.stop()

    def _load_state(self, account_id):
        from gateway.models import Account
        with self.engine.connect() as conn:
            row = conn.execute(select(Account.active, Account.token_version)
                               .where(Account.id == account_id)).first()
        return (bool(row[0]), int(row[1])) if row else None

    def get_dependency(self, worker_ctx):
        return Access(self)


class Access:
    def __init__(self, provider: Auth):
        self._provider = provider
        self.tokens = provider.tokens

    # --- callers -----------------------------------------------------------

    def caller(self, request) -> Caller:
        """The signed-in caller, allowed by `gateway.policy` to call this route."""
        caller, version = self.tokens.verify(bearer_token(request))
        state = self._provider.states.get(caller.id)
        if state is None or not state[0]:
            raise Unauthorized("account disabled or unknown")
        if state[1] != version:
            raise Unauthorized("token outdated: sign in again")
        route = request.environ.get(ROUTE_KEY)
        if not policy.may_call(caller.role, route):
            raise Forbidden(f"a {caller.role} may not {policy.action_of(route)}")
        return caller

    def issue(self, account) -> dict:
        return self.tokens.issue(account)

    def account_changed(self, account):
        """Tell this replica's cache at once (others within STATE_TTL_S)."""
        self._provider.states.remember(account.id, account.active, account.token_version or 0)

    # --- sign-in throttling --------------------------------------------------

    @staticmethod
    def _keys(username, address):
        return [(f"user:{username.strip().lower()}"[:200], USER_FREE_FAILURES),
                (f"ip:{address or 'unknown'}"[:200], ADDRESS_FREE_FAILURES)]

    def check_throttle(self, username, address, now=None):
        now = now or datetime.now(timezone.utc)
        keys = [key for key, _ in self._keys(username, address)]
        with self._provider.engine.connect() as conn:
            until = conn.execute(text(
                "select max(locked_until) from sign_in_failures "
                "where key = any(:keys) and locked_until > :now"),
                {"keys": keys, "now": now}).scalar()
        if until is not None:
            raise Throttled(max(1, math.ceil((until - now).total_seconds())))

    def record_failure(self, username, address, now=None):
        now = now or datetime.now(timezone.utc)
        with self._provider.engine.begin() as conn:
            for key, free in self._keys(username, address):
                failures = conn.execute(text(
                    "insert into sign_in_failures (key, failures, last_failure_at) "
                    "values (:key, 1, :now) on conflict (key) do update set "
                    "failures = case when sign_in_failures.last_failure_at < :window_start "
                    "then 1 else sign_in_failures.failures + 1 end, last_failure_at = :now "
                    "returning failures"),
                    {"key": key, "now": now, "window_start": now - FAILURE_WINDOW}).scalar()
                seconds = lock_seconds(failures, free)
                if seconds:
                    conn.execute(text("update sign_in_failures set locked_until = :until "
                                      "where key = :key"),
                                 {"key": key, "until": now + timedelta(seconds=seconds)})

    def record_success(self, username):
        key, _ = self._keys(username, None)[0]
        with self._provider.engine.begin() as conn:
            conn.execute(text("delete from sign_in_failures where key = :key"), {"key": key})
