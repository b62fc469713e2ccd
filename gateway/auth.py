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
  Claims are checked for their types too (RFC 8725 §3.11): `exp`, `iat`, `nbf`
  numbers, a lifetime of at most ACCESS_TOKEN_TTL, `ver` an integer, `scope` a
  list of org-unit paths, `role` a known role (`check_claims`).
- Refresh tokens are opaque strings stored as SHA-256 only, rotated on every
  use; a used one presented again revokes its family, except for a retry within
  REFRESH_RETRY_GRACE of a rotation whose answer never arrived
  (`refresh_outcome`; see `gateway.models.RefreshToken`). The successor of a
  token is derived from it with a server key (`Tokens.successor`), so such a
  retry is answered the *same* refresh token, never a second, independent one:
  whoever uses it second (the real client or a thief replaying the old one)
  presents a used token, and the whole family is revoked.
- Failed sign-ins slow guessing without locking the real user out (OWASP's
  "device cookies"): a successful sign-in answers a `device_token`, which the
  app sends with later sign-ins. From a device known that way, failures count
  against that device only. From unknown devices they count per (username,
  address) pair, per username and per address, with more free attempts for the
  wider keys so that a district office or a carrier's NAT sharing one address
  is not locked out by one person's typos; past the free attempts each failure
  locks the key for an exponentially longer time (`lock_seconds`), answered 429
  with Retry-After. The address is the client's as seen through trusted proxies
  (`gateway.security.client_address`). The counters live in their own
  transaction, so the refused request's rollback does not undo them.
- Route permissions (`gateway.policy`) are applied when a route asks for its
  caller: the entrypoint name travels with the request.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from nameko import config
from nameko.extensions import DependencyProvider
from sqlalchemy import select, text

from c2p.clock import utcnow
from c2p.database import make_engine
from c2p.errors import Forbidden, Throttled, Unauthorized  # noqa: F401 (re-exported)
from gateway import policy

ALGORITHM = "HS256"
TOKEN_TYPE = "at+jwt"
ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)
LEEWAY_S = 10            # clock skew tolerated between replicas
STATE_TTL_S = 5.0        # how stale an account's (active, version) may be on a replica
ROUTE_KEY = "c2p.route"  # request.environ key naming the entrypoint (gateway.http)

# Sign-in slowing: free failures per key, then a lock doubling from BASE up to MAX.
DEVICE_FREE_FAILURES = 5     # a device the user signed in from before
PAIR_FREE_FAILURES = 5       # one unknown client guessing one user's password
USER_FREE_FAILURES = 20      # unknown clients, many addresses, one user
ADDRESS_FREE_FAILURES = 100  # unknown clients behind one address (NAT), many users
DEVICE_TOKEN_TTL = timedelta(days=365)
DEVICE_TOKEN_TYPE = "device+jwt"
LOCK_BASE_S = 15
LOCK_MAX_S = 900
FAILURE_WINDOW = timedelta(minutes=15)  # a key's count restarts after this long quiet

_hasher = PasswordHasher()
# A real hash to verify against when the username is unknown, so that the
# answer takes as long as for a known user (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("c2p-not-a-password")


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
        now = now or utcnow()
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
                                options={"require": list(REQUIRED_CLAIMS)})
        except jwt.InvalidSignatureError:
            raise Unauthorized("invalid token: signature verification failed") from None
        except jwt.DecodeError:
            # Not a JWT at all: say so, not what the decoder tripped on.
            raise Unauthorized("invalid token: not a well-formed token") from None
        except jwt.PyJWTError as exc:  # expired, audience, issuer, missing claim: short
            raise Unauthorized(f"invalid token: {exc}") from None
        problem = check_claims(claims)
        if problem:
            raise Unauthorized(f"invalid token: {problem}")
        caller = Caller(id=claims["sub"], role=claims["role"], scope=tuple(claims["scope"]),
                        language=claims.get("lang") or "fr", facility_id=claims.get("fac"))
        return caller, claims["ver"]

    # --- refresh-token successors and device tokens ------------------------------

    def successor(self, refresh_token: str) -> str:
        """The refresh token that replaces `refresh_token`: the same every time it
        is asked for, unguessable without the server key."""
        mac = hmac.new(self._refresh_key, refresh_token.encode("utf-8"), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")

    @property
    def _refresh_key(self) -> bytes:
        return hashlib.sha256(b"c2p refresh successor\x00" + self.secret.encode()).digest()

    def issue_device(self, account, now=None) -> str:
        """A token naming this device as one `account` signed in from."""
        now = now or utcnow()
        return jwt.encode({"iss": self.issuer, "aud": self.audience + "/device",
                           "sub": account.id, "usr": account.username, "iat": now,
                           "exp": now + DEVICE_TOKEN_TTL, "jti": secrets.token_urlsafe(16)},
                          self.secret, algorithm=ALGORITHM, headers={"typ": DEVICE_TOKEN_TYPE})

    def device_of(self, token, username: str) -> str | None:
        """The id of a device `username` signed in from before, or None (unknown,
        forged, expired, or another user's)."""
        if not isinstance(token, str) or not token or len(token) > 2000:
            return None
        try:
            if jwt.get_unverified_header(token).get("typ") != DEVICE_TOKEN_TYPE:
                return None
            claims = jwt.decode(token, self.secret, algorithms=[ALGORITHM],
                                issuer=self.issuer, audience=self.audience + "/device",
                                options={"require": ["exp", "iat", "sub", "usr", "jti"]})
        except jwt.PyJWTError:
            return None
        if (not isinstance(claims.get("jti"), str) or not isinstance(claims.get("usr"), str)
                or claims["usr"] != username.strip().lower()):
            return None
        return claims["jti"]


REQUIRED_CLAIMS = ("exp", "iat", "nbf", "iss", "aud", "sub", "jti", "ver", "role", "scope")
_PATH = re.compile(r"^(/[A-Za-z0-9][A-Za-z0-9._-]{0,63}){1,8}$")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def check_claims(claims: dict) -> str | None:
    """Why these (signature-checked) claims are not those of one of our access
    tokens, or None. Strict types: a string `exp`, a `scope` that is a string
    (whose characters would each become a path), or a token living for a year
    are refused even when signed with the key."""
    for name in ("exp", "iat", "nbf"):
        if not _number(claims.get(name)):
            return f"{name} must be a number"
    lifetime = claims["exp"] - claims["iat"]
    if not 0 < lifetime <= ACCESS_TOKEN_TTL.total_seconds() + LEEWAY_S:
        return "lifetime longer than allowed"
    if claims["nbf"] < claims["iat"] - LEEWAY_S or claims["iat"] > time.time() + LEEWAY_S:
        return "issued in the future"
    if not isinstance(claims.get("sub"), str) or not 1 <= len(claims["sub"]) <= 64:
        return "sub must be an account id"
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        return "jti must be a string"
    if not isinstance(claims.get("ver"), int) or isinstance(claims["ver"], bool) \
            or claims["ver"] < 0:
        return "ver must be a non-negative integer"
    if claims.get("role") not in policy.ROLES:
        return "unknown role"
    scope = claims.get("scope")
    if (not isinstance(scope, list) or not 1 <= len(scope) <= 20
            or not all(isinstance(p, str) and _PATH.match(p) for p in scope)):
        return "scope must be a list of org-unit paths"
    if claims.get("lang", "fr") not in ("fr", "en"):
        return "lang must be fr or en"
    if claims.get("fac") is not None and not isinstance(claims["fac"], str):
        return "fac must be a string or null"
    return None


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
            action = policy.action_of(route)
            allowed = ", ".join(r for r in policy.ROLES if policy.allowed(r, action))
            raise Forbidden(
                "role", f"the role {caller.role} may not do {action} (allowed: {allowed})",
                f"le rôle {caller.role} ne permet pas {action} (rôles autorisés : {allowed})")
        return caller

    def issue(self, account) -> dict:
        return self.tokens.issue(account)

    def account_changed(self, account):
        """Tell this replica's cache at once (others within STATE_TTL_S)."""
        self._provider.states.remember(account.id, account.active, account.token_version or 0)

    # --- sign-in throttling --------------------------------------------------

    def device_of(self, device_token, username):
        return self.tokens.device_of(device_token, username)

    def issue_device(self, account) -> str:
        return self.tokens.issue_device(account)

    @staticmethod
    def _keys(username, address, device=None):
        """The counters a sign-in attempt is checked and counted against."""
        user = username.strip().lower()[:120]
        if device:
            return [(f"device:{device}"[:200], DEVICE_FREE_FAILURES)]
        address = address or "unknown"
        return [(f"pair:{user}|{address}"[:200], PAIR_FREE_FAILURES),
                (f"user:{user}"[:200], USER_FREE_FAILURES),
                (f"ip:{address}"[:200], ADDRESS_FREE_FAILURES)]

    def check_throttle(self, username, address, device=None, now=None):
        now = now or utcnow()
        keys = [key for key, _ in self._keys(username, address, device)]
        with self._provider.engine.connect() as conn:
            until = conn.execute(text(
                "select max(locked_until) from sign_in_failures "
                "where key = any(:keys) and locked_until > :now"),
                {"keys": keys, "now": now}).scalar()
        if until is not None:
            raise Throttled(max(1, math.ceil((until - now).total_seconds())))

    def record_failure(self, username, address, device=None, now=None):
        now = now or utcnow()
        with self._provider.engine.begin() as conn:
            for key, free in self._keys(username, address, device):
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

    def record_success(self, username, address, device=None):
        """Forget the failures of this client only: the per-user and per-address
        counts go on (a real user's success must not reset a thief's budget)."""
        keys = [key for key, _ in self._keys(username, address, device)
                if key.startswith(("pair:", "device:"))]
        with self._provider.engine.begin() as conn:
            conn.execute(text("delete from sign_in_failures where key = any(:keys)"),
                         {"keys": keys})
