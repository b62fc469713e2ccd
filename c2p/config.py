"""Configuration from environment variables, with local defaults.

Every process reads its settings here and nowhere else. A missing or malformed
value stops the process at start-up with a message naming the variable, rather
than failing later on the first request that needs it.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SERVICES = ("checklist", "planner", "evidence", "notify", "gateway")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def _get(env, name, default):
    value = env.get(name, default)
    if value is None or str(value).strip() == "":
        raise ConfigError(f"{name} is required but is empty or not set")
    return str(value).strip()


def _url(env, name, default, schemes):
    value = _get(env, name, default)
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.hostname or parts.path):
        raise ConfigError(
            f"{name}={value!r} is not a valid URL: expected a scheme among "
            f"{', '.join(schemes)} and a host")
    return value


def _int(env, name, default, minimum=None):
    raw = _get(env, name, default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def _int_list(env, name, default):
    raw = _get(env, name, default)
    try:
        values = [int(part) for part in raw.split(",")]
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} must be a comma-separated list of integers") from None
    if any(v <= 0 for v in values):
        raise ConfigError(f"{name}={raw!r}: every value must be positive")
    return values


def _optional(env, name, default=""):
    """A setting that may be empty (e.g. no SMTP login)."""
    return str(env.get(name, default) or "").strip()


def _networks(env, name):
    """Comma-separated addresses or CIDR networks; empty means none."""
    raw = _optional(env, name)
    try:
        return tuple(ipaddress.ip_network(part.strip(), strict=False)
                     for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r}: {exc}") from None


def _bool(env, name, default):
    raw = _get(env, name, default).lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} must be true or false")


def default_database_url(service: str) -> str:
    return f"postgresql://postgres@localhost:5432/c2p_{service}"


@dataclass(frozen=True)
class Settings:
    amqp_uri: str
    database_urls: dict = field(default_factory=dict)
    s3_endpoint: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    evidence_bucket: str = "c2p-evidence"
    evidence_max_bytes: int = 25 * 1024 * 1024  # largest evidence file accepted
    # Memory for decoding images (decompression bombs): what one image may take
    # decoded, and what all decodes of one evidence process may take at once.
    evidence_max_decoded_bytes: int = 128 * 1024 * 1024
    evidence_decode_budget_bytes: int = 384 * 1024 * 1024
    token_secret: str = ""
    token_issuer: str = "c2p"
    token_audience: str = "c2p-clients"
    gateway_port: int = 8000
    retry_delays_ms: tuple = (1000, 5000, 30000)
    outbox_interval_s: int = 2
    rpc_timeout_s: int = 10
    # Connections per process = pool + overflow; times every process of every
    # service, it must stay under PostgreSQL's max_connections (100 by default).
    db_pool_size: int = 4
    db_max_overflow: int = 4
    demo_data: bool = True
    # The gateway refuses (500) an answer holding a field its view does not
    # declare, instead of dropping the field: on in tests, so the OpenAPI
    # document never lags behind what a service sends.
    strict_views: bool = False
    # Webhooks: the delivery timer, outbound timeout, exponential back-off
    # (first delay, doubled per attempt, capped) and attempts before "failed".
    webhook_interval_s: float = 2.0
    webhook_timeout_s: int = 5
    webhook_backoff_ms: int = 30000
    webhook_backoff_max_ms: int = 3600000
    webhook_max_attempts: int = 15  # 30 s doubling, capped at 1 h: about 8 h of outage
    # Webhooks to loopback, private, link-local or reserved addresses: refused
    # unless the operator allows them (a partner on the same intranet; tests).
    webhook_allow_private: bool = False
    # Proxies in front of the gateway (addresses or CIDR networks): only their
    # X-Forwarded-For is believed when counting failed sign-ins per address.
    trusted_proxies: tuple = ()
    # Live updates (SSE): heartbeat comment period, events buffered per stream
    # before a slow client is dropped.
    live_heartbeat_s: int = 15
    live_queue_size: int = 200
    # notify: e-mail over SMTP, SMS/WhatsApp through an HTTP provider; the
    # delivery timer, retry back-off (seconds) and the local hour of the digest.
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "C2P <no-reply@c2p.local>"
    sms_provider_url: str = "http://localhost:8025"
    sms_provider_token: str = ""
    notify_interval_s: int = 2
    notify_retry_delays_s: tuple = (30, 120, 600, 1800)
    notify_digest_hour: int = 18
    notify_link_base: str = "http://localhost:8000"
    # Visit planning: days between two supervision visits of a facility when its
    # template does not say (`visit_interval_days`); quarterly by default.
    visit_interval_days: int = 90
    # The built web app (web/dist) that the gateway serves at `/`; empty: the
    # repository's own web/dist.
    web_dist: str = ""

    def database_url(self, service: str) -> str:
        return self.database_urls[service]


def load_settings(env=None) -> Settings:
    """Read every setting; raise ConfigError naming the first bad one."""
    env = os.environ if env is None else env
    database_urls = {
        service: _url(env, f"{service.upper()}_DATABASE_URL",
                      default_database_url(service), ("postgresql", "postgresql+psycopg2"))
        for service in SERVICES
    }
    s3_endpoint = _get(env, "S3_ENDPOINT", "localhost:9000")
    if "://" in s3_endpoint or ":" not in s3_endpoint:
        raise ConfigError(
            f"S3_ENDPOINT={s3_endpoint!r} must be host:port without a scheme "
            "(set S3_SECURE=true for TLS)")
    return Settings(
        amqp_uri=_url(env, "AMQP_URI", "amqp://guest:guest@localhost:5672/",
                      ("amqp", "amqps", "pyamqp")),
        database_urls=database_urls,
        s3_endpoint=s3_endpoint,
        s3_access_key=_get(env, "S3_ACCESS_KEY", "c2p-local"),
        s3_secret_key=_get(env, "S3_SECRET_KEY", "c2p-local-secret"),
        s3_secure=_bool(env, "S3_SECURE", "false"),
        s3_region=_get(env, "S3_REGION", "us-east-1"),
        evidence_bucket=_get(env, "EVIDENCE_BUCKET", "c2p-evidence"),
        evidence_max_bytes=_int(env, "EVIDENCE_MAX_BYTES", str(25 * 1024 * 1024), minimum=1),
        evidence_max_decoded_bytes=_int(env, "EVIDENCE_MAX_DECODED_BYTES",
                                        str(128 * 1024 * 1024), minimum=1024 * 1024),
        evidence_decode_budget_bytes=_int(env, "EVIDENCE_DECODE_BUDGET_BYTES",
                                          str(384 * 1024 * 1024), minimum=1024 * 1024),
        token_secret=_secret(env),
        token_issuer=_get(env, "TOKEN_ISSUER", "c2p"),
        token_audience=_get(env, "TOKEN_AUDIENCE", "c2p-clients"),
        gateway_port=_int(env, "GATEWAY_PORT", "8000", minimum=1),
        retry_delays_ms=tuple(_int_list(env, "C2P_RETRY_DELAYS_MS", "1000,5000,30000")),
        outbox_interval_s=_int(env, "C2P_OUTBOX_INTERVAL_S", "2", minimum=1),
        rpc_timeout_s=_int(env, "C2P_RPC_TIMEOUT_S", "10", minimum=1),
        db_pool_size=_int(env, "C2P_DB_POOL_SIZE", "4", minimum=1),
        db_max_overflow=_int(env, "C2P_DB_MAX_OVERFLOW", "4", minimum=0),
        demo_data=_bool(env, "C2P_DEMO_DATA", "true"),
        strict_views=_bool(env, "C2P_STRICT_VIEWS", "false"),
        webhook_interval_s=_int(env, "C2P_WEBHOOK_INTERVAL_MS", "2000", minimum=50) / 1000,
        webhook_timeout_s=_int(env, "C2P_WEBHOOK_TIMEOUT_S", "5", minimum=1),
        webhook_backoff_ms=_int(env, "C2P_WEBHOOK_BACKOFF_MS", "30000", minimum=1),
        webhook_backoff_max_ms=_int(env, "C2P_WEBHOOK_BACKOFF_MAX_MS", "3600000", minimum=1),
        webhook_max_attempts=_int(env, "C2P_WEBHOOK_MAX_ATTEMPTS", "15", minimum=1),
        webhook_allow_private=_bool(env, "C2P_WEBHOOK_ALLOW_PRIVATE", "false"),
        trusted_proxies=_networks(env, "C2P_TRUSTED_PROXIES"),
        live_heartbeat_s=_int(env, "C2P_LIVE_HEARTBEAT_S", "15", minimum=1),
        live_queue_size=_int(env, "C2P_LIVE_QUEUE_SIZE", "200", minimum=1),
        smtp_host=_get(env, "SMTP_HOST", "localhost"),
        smtp_port=_int(env, "SMTP_PORT", "25", minimum=1),
        smtp_user=_optional(env, "SMTP_USER"),
        smtp_password=_optional(env, "SMTP_PASSWORD"),
        smtp_from=_get(env, "SMTP_FROM", "C2P <no-reply@c2p.local>"),
        sms_provider_url=_url(env, "SMS_PROVIDER_URL", "http://localhost:8025",
                              ("http", "https")),
        sms_provider_token=_optional(env, "SMS_PROVIDER_TOKEN"),
        notify_interval_s=_int(env, "NOTIFY_INTERVAL_S", "2", minimum=1),
        notify_retry_delays_s=tuple(_int_list(env, "NOTIFY_RETRY_DELAYS_S",
                                              "30,120,600,1800")),
        notify_digest_hour=_int(env, "NOTIFY_DIGEST_HOUR", "18", minimum=0),
        notify_link_base=_url(env, "NOTIFY_LINK_BASE", "http://localhost:8000",
                              ("http", "https")),
        visit_interval_days=_int(env, "C2P_VISIT_INTERVAL_DAYS", "90", minimum=1),
        web_dist=_optional(env, "C2P_WEB_DIST"),
    )


_DEV_SECRET = "c2p-local-development-secret-change-me!!"


def _secret(env):
    value = _get(env, "TOKEN_SECRET", _DEV_SECRET)
    if len(value) < 32:
        raise ConfigError("TOKEN_SECRET must be at least 32 characters long")
    if value == _DEV_SECRET and _bool(env, "C2P_PRODUCTION", "false"):
        raise ConfigError("TOKEN_SECRET must be set in production (C2P_PRODUCTION=true)")
    return value
