"""Webhooks for other programmes: which endpoint wants which event, how a delivery
is signed, when a failed one is retried, and the delivery queue in the gateway's
database. No nameko here: the entrypoints are in `gateway.routes.webhooks`.

How a partner checks a delivery (also in `verify_signature`):

    signed = f"{headers['C2P-Timestamp']}.".encode() + raw_body
    expected = "v1=" + hmac_sha256(secret, signed).hexdigest()
    compare_digest(expected, headers['C2P-Signature'])   # and reject old timestamps

Delivery is at least once: a crash between the POST and its log line sends it
again after the lease. Receivers deduplicate on `C2P-Event-Id`, and must not
rely on order (retries reorder); the envelope's `occurred_at` says when.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from requests_hardened import Config as HardenedConfig, Manager
from requests_hardened.ip_filter import InvalidIPAddress
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from c2p.clock import utcnow
from c2p.scope import event_in_scope
from c2p.topology import topic_matches
from gateway.models import Account
from gateway.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

SIGNATURE_VERSION = "v1"
_PATTERN = re.compile(r"^([a-z_]+|\*|#)(\.([a-z_]+|\*|#))*$")
MAX_ERROR_CHARS = 500
MAX_PATTERNS = 50


# --- which endpoint wants which event -----------------------------------------

def pattern_errors(patterns, known_types) -> list[str]:
    """Reasons the list of event-type patterns is refused (empty when valid)."""
    if not isinstance(patterns, (list, tuple)) or not 1 <= len(patterns) <= MAX_PATTERNS:
        return [f"must be a list of 1 to {MAX_PATTERNS} event types or patterns (e.g. plan.*)"]
    reasons = []
    for pattern in patterns:
        if not isinstance(pattern, str) or len(pattern) > 100 or not _PATTERN.match(pattern):
            reasons.append(f"{pattern!r} is not an event type or pattern "
                           "(words separated by dots; * one word, # any)")
        elif not any(topic_matches(pattern, known) for known in known_types):
            reasons.append(f"{pattern!r} matches no event type; known types: "
                           + ", ".join(known_types))
    return reasons


def wants(patterns, event_type: str) -> bool:
    return any(topic_matches(pattern, event_type) for pattern in patterns)


def url_errors(url, allow_private: bool = False, resolve=None) -> list[str]:
    """Reasons the URL is refused as a webhook target (empty when acceptable).

    Unless an operator allows private targets (`C2P_WEBHOOK_ALLOW_PRIVATE`), every
    address the host resolves to must be public: a webhook to the gateway itself,
    the database or a cloud metadata address would let an admin probe the inside.
    Checked again at each delivery against the address actually connected to
    (`post`), so a name that later resolves elsewhere (DNS rebinding) gets nothing.
    """
    if not isinstance(url, str) or len(url) > 2000:
        return ["must be an http(s) URL of at most 2000 characters"]
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        valid = False
    if not valid:
        return ["must be an absolute http:// or https:// URL"]
    if parts.username or parts.password:
        return ["must not carry a user name or password (the signature authenticates)"]
    if allow_private:
        return []
    try:
        addresses = (resolve or _resolve)(parts.hostname, port)
    except OSError:
        # Not known (yet): accepted; each delivery checks where it really goes.
        return []
    if any(not public_address(ip) for ip in addresses):
        return [f"the host {parts.hostname!r} resolves to a loopback, private, link-local "
                "or reserved address; webhooks only go to public addresses"]
    return []


# Ranges `ipaddress` does not call private but that reach internal workloads.
_EXTRA_BLOCKED = tuple(ipaddress.ip_network(n) for n in (
    "100.64.0.0/10", "192.0.0.0/24", "192.88.99.0/24", "64:ff9b::/96", "64:ff9b:1::/48",
    "2002::/16", "5f00::/16"))


def public_address(ip) -> bool:
    """Whether `ip` is a public unicast address (IPv4-mapped IPv6 judged as IPv4)."""
    ip = ipaddress.ip_address(str(ip).split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified or not ip.is_global
                or any(ip in net for net in _EXTRA_BLOCKED))


def _resolve(host: str, port: int) -> list:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# --- signing ----------------------------------------------------------------

def encode(envelope: dict) -> bytes:
    """The exact bytes POSTed (and signed)."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                   hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def signed_headers(envelope: dict, secret: str, body: bytes, now: float | None = None) -> dict:
    timestamp = str(int(now if now is not None else time.time()))
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "C2P-Webhooks/1",
        "C2P-Event-Id": str(envelope["id"]),
        "C2P-Event-Type": envelope["type"],
        "C2P-Timestamp": timestamp,
        "C2P-Signature": signature(secret, timestamp, body),
    }


def verify_signature(secret: str, headers, body: bytes, tolerance_s: int = 300,
                     now: float | None = None) -> bool:
    """What a receiver does: right key, right bytes, and not an old replay."""
    timestamp = headers.get("C2P-Timestamp", "")
    given = headers.get("C2P-Signature", "")
    if not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), given)


# --- retries ------------------------------------------------------------------

def backoff_ms(attempts: int, base_ms: int, cap_ms: int) -> int:
    """Delay before the next try after `attempts` failed ones: base, 2×base, 4×base..."""
    return min(cap_ms, base_ms * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Result:
    """One POST's outcome."""
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Policy:
    backoff_ms: int
    backoff_max_ms: int
    max_attempts: int

    @classmethod
    def from_settings(cls, settings) -> "Policy":
        return cls(settings.webhook_backoff_ms, settings.webhook_backoff_max_ms,
                   settings.webhook_max_attempts)


def next_state(result: Result, attempts_before: int, policy: Policy, now: datetime):
    """(status, attempts, next_attempt_at) after this attempt."""
    attempts = attempts_before + 1
    if result.ok:
        return "delivered", attempts, now
    if attempts >= policy.max_attempts:
        return "failed", attempts, now
    delay = backoff_ms(attempts, policy.backoff_ms, policy.backoff_max_ms)
    return "pending", attempts, now + timedelta(milliseconds=delay)


# --- outbound HTTP ---------------------------------------------------------------

def post(url: str, body: bytes, headers: dict, timeout_s: float,
         allow_private: bool = False) -> Result:
    """POST with short timeouts, no redirects; never raises.

    The address is resolved and checked when connecting, and the connection goes
    to the address that was checked (requests-hardened pins it), so a host that
    resolved to a public address when registered and to 127.0.0.1 now is refused.
    Only the status code of the answer is kept: its body is never read, so a
    webhook cannot be used to read back what an internal service answers.
    """
    started = time.monotonic()
    status, error = None, None
    manager = _PRIVATE_ALLOWED if allow_private else _PUBLIC_ONLY
    try:
        response = manager.send_request("POST", url, data=body, headers=headers,
                                        allow_redirects=False, stream=True,
                                        timeout=(min(3.0, timeout_s), timeout_s))
        try:
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        finally:
            response.close()
    except InvalidIPAddress:
        error = "refused: the host resolves to a loopback, private or reserved address"
    except requests.RequestException as exc:
        error = f"{exc.__class__.__name__}: could not deliver"
    except Exception as exc:  # e.g. a total deadline from the caller's green timeout
        error = f"{exc.__class__.__name__}: {exc}"
    duration = int((time.monotonic() - started) * 1000)
    return Result(status, error[:MAX_ERROR_CHARS] if error else None, duration)


def _manager(filter_ips: bool) -> Manager:
    return Manager(HardenedConfig(ip_filter_enable=filter_ips,
                                  ip_filter_allow_loopback_ips=False, never_redirect=True,
                                  default_timeout=(3, 5)))


_PUBLIC_ONLY, _PRIVATE_ALLOWED = _manager(True), _manager(False)


# --- the delivery queue in the database ---------------------------------------------

def record_event(session, envelope: dict) -> int:
    """One pending delivery per active endpoint that wants this event and may see it.

    May see it: every place of the event (`c2p.scope.event_places`) lies in the
    endpoint's scope and in its owner's current scope, and the owner is still an
    active admin. An event with no place goes to national endpoints only.

    Called in the transaction that also records the event as processed; the
    unique (endpoint, event) pair makes a redelivered event add nothing.
    """
    endpoints = session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.event_types, WebhookEndpoint.scope,
               Account.scope.label("owner_scope"))
        .join(Account, Account.id == WebhookEndpoint.created_by)
        .where(WebhookEndpoint.active.is_(True), Account.active.is_(True),
               Account.role == "admin")).all()
    event_type, data = envelope["type"], envelope.get("data")
    rows = [{"id": uuid.uuid4(), "endpoint_id": endpoint_id,
             "event_id": uuid.UUID(str(envelope["id"])), "event_type": event_type,
             "envelope": envelope, "status": "pending", "attempts": 0}
            for endpoint_id, patterns, scope, owner_scope in endpoints
            if wants(patterns, event_type)
            and event_in_scope(event_type, data, scope or ())
            and event_in_scope(event_type, data, owner_scope or ())]
    if not rows:
        return 0
    result = session.execute(insert(WebhookDelivery).values(rows).on_conflict_do_nothing(
        constraint="uq_webhook_delivery_event"))
    return result.rowcount


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    url: str
    secret: str
    envelope: dict
    attempts: int


def claim_due(session, limit: int, lease_s: float, now: datetime | None = None,
              per_endpoint: int = 5) -> list[Claimed]:
    """Take up to `limit` due deliveries for this replica (the caller commits the
    claim before sending: helpers never commit).

    FOR UPDATE SKIP LOCKED: two replicas claiming at once take different rows.
    Pushing `next_attempt_at` past the lease then keeps the rows ours after the
    commit, while we send without holding a transaction open; if this process
    dies mid-send they become due again when the lease runs out.

    At most `per_endpoint` rows of one endpoint per claim: a partner that is
    down or slow, with a large backlog, cannot take every slot from the others.
    """
    now = now or utcnow()
    due = (WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
    # (FOR UPDATE is not allowed beside a window function: rank in a subquery.)
    ranked = (select(WebhookDelivery.id, func.row_number().over(
        partition_by=WebhookDelivery.endpoint_id,
        order_by=(WebhookDelivery.next_attempt_at, WebhookDelivery.id)).label("n"))
        .where(*due).subquery())
    fair = select(ranked.c.id).where(ranked.c.n <= per_endpoint)
    rows = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.envelope, WebhookDelivery.attempts,
               WebhookEndpoint.url, WebhookEndpoint.secret, WebhookEndpoint.active)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(*due, WebhookDelivery.id.in_(fair))
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)).all()
    claimed, disabled = [], []
    for row in rows:
        if row.active:
            claimed.append(Claimed(row.id, row.url, row.secret, row.envelope, row.attempts))
        else:
            disabled.append(row.id)
    if claimed:
        session.execute(update(WebhookDelivery)
                        .where(WebhookDelivery.id.in_([c.id for c in claimed]))
                        .values(next_attempt_at=now + timedelta(seconds=lease_s)))
    if disabled:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(disabled))
                        .values(status="failed", last_error="endpoint disabled"))
    return claimed


def record_attempt(session, claimed: Claimed, result: Result, policy: Policy,
                   now: datetime | None = None) -> str:
    """Log the attempt and move the delivery on (not committed); returns its new status."""
    now = now or utcnow()
    status, attempts, next_at = next_state(result, claimed.attempts, policy, now)
    session.add(WebhookAttempt(delivery_id=claimed.id, attempted_at=now,
                               status_code=result.status_code, error=result.error,
                               duration_ms=result.duration_ms))
    values = {"status": status, "attempts": attempts, "next_attempt_at": next_at,
              "last_status_code": result.status_code, "last_error": result.error}
    if status == "delivered":
        values["delivered_at"] = now
    # Only if still ours: an admin's redelivery in the meantime is not overwritten.
    session.execute(update(WebhookDelivery)
                    .where(WebhookDelivery.id == claimed.id,
                           WebhookDelivery.status == "pending",
                           WebhookDelivery.attempts == claimed.attempts)
                    .values(**values))
    return status  # the caller commits (once per batch)


def deliver(claimed: Claimed, timeout_s: float, now: float | None = None,
            allow_private: bool = False) -> Result:
    body = encode(claimed.envelope)
    return post(claimed.url, body, signed_headers(claimed.envelope, claimed.secret, body, now),
                timeout_s, allow_private=allow_private)


def purge_settled(session, older_than_days: int) -> int:
    """Forget delivered and failed deliveries (and their attempt logs) past retention."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    result = session.execute(delete(WebhookDelivery).where(
        WebhookDelivery.status.in_(("delivered", "failed")),
        WebhookDelivery.created_at < cutoff))
    return result.rowcount


# --- views ----------------------------------------------------------------------

def endpoint_view(endpoint: WebhookEndpoint, secret: str | None = None) -> dict:
    view = {"id": endpoint.id, "url": endpoint.url, "event_types": list(endpoint.event_types),
            "description": endpoint.description, "active": endpoint.active,
            "created_by": endpoint.created_by, "scope": list(endpoint.scope or ()),
            "created_at": endpoint.created_at.isoformat() if endpoint.created_at else None}
    if secret is not None:
        view["secret"] = secret  # only in the answer that created (or rotated) it
    return view


def delivery_view(delivery: WebhookDelivery, with_attempts: bool = False) -> dict:
    view = {"id": str(delivery.id), "endpoint_id": delivery.endpoint_id,
            "event_id": str(delivery.event_id), "event_type": delivery.event_type,
            "status": delivery.status, "attempts": delivery.attempts,
            "next_attempt_at": (delivery.next_attempt_at.isoformat()
                                if delivery.status == "pending" else None),
            "last_status_code": delivery.last_status_code, "last_error": delivery.last_error,
            "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
            "created_at": delivery.created_at.isoformat() if delivery.created_at else None}
    if with_attempts:
        view["attempt_log"] = [{"attempted_at": a.attempted_at.isoformat(),
                                "status_code": a.status_code, "error": a.error,
                                "duration_ms": a.duration_ms} for a in delivery.attempt_log]
        view["envelope"] = delivery.envelope
    return view
