"""Configuration from environment variables, with local defaults.

Every process reads its settings here and nowhere else, the services' own
included (the planner's due dates, notify's delivery timer). A missing or
malformed value stops the process at start-up with a message naming the variable,
rather than failing later on the first request that needs it.

One convention for every variable: the `C2P_` prefix; durations in seconds
(`_S`, decimals allowed where a fraction makes sense), sizes in bytes (`_BYTES`),
days in `_DAYS`. The names used before this convention (`AMQP_URI`,
`C2P_WEBHOOK_INTERVAL_MS`, `PLANNER_ALERT_INTERVAL_S`, ...: `RENAMED` below) are
still read when the new one is not set, converted to the new unit.
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SERVICES = ("checklist", "planner", "evidence", "notify", "hmis", "gateway")

# New name -> (the name it replaces, factor from the old unit to the new one).
RENAMED = {
    "C2P_AMQP_URI": ("AMQP_URI", None),
    **{f"C2P_{s.upper()}_DATABASE_URL": (f"{s.upper()}_DATABASE_URL", None) for s in SERVICES},
    **{f"C2P_{name}": (name, None) for name in (
        "S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_SECURE", "S3_REGION",
        "EVIDENCE_BUCKET", "EVIDENCE_MAX_BYTES", "EVIDENCE_MAX_DECODED_BYTES",
        "EVIDENCE_DECODE_BUDGET_BYTES", "TOKEN_SECRET", "TOKEN_ISSUER", "TOKEN_AUDIENCE",
        "GATEWAY_PORT", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM",
        "SMS_PROVIDER_URL", "SMS_PROVIDER_TOKEN", "NOTIFY_INTERVAL_S",
        "NOTIFY_RETRY_DELAYS_S", "NOTIFY_DIGEST_HOUR", "NOTIFY_LINK_BASE")},
    "C2P_RETRY_DELAYS_S": ("C2P_RETRY_DELAYS_MS", 0.001),
    "C2P_WEBHOOK_INTERVAL_S": ("C2P_WEBHOOK_INTERVAL_MS", 0.001),
    "C2P_WEBHOOK_BACKOFF_S": ("C2P_WEBHOOK_BACKOFF_MS", 0.001),
    "C2P_WEBHOOK_BACKOFF_MAX_S": ("C2P_WEBHOOK_BACKOFF_MAX_MS", 0.001),
    "C2P_DUE_SOON_DAYS": ("PLANNER_DUE_SOON_DAYS", None),
    "C2P_DUE_ALERT_INTERVAL_S": ("PLANNER_ALERT_INTERVAL_S", None),
}
_OLD_NAMES = {old: new for new, (old, _) in RENAMED.items()}


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def _number_text(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _convert(raw, factor):
    """An old variable's value in the new unit (left as it is if it does not read as
    numbers: the check of the new variable then names the problem)."""
    if factor is None:
        return raw
    try:
        return ",".join(_number_text(float(part) * factor) for part in str(raw).split(","))
    except ValueError:
        return raw


def renamed(env: dict) -> dict:
    """`env` with the old names of `RENAMED` written as the new ones (for callers
    that build an environment, so that what they set wins over what they inherit)."""
    return {_OLD_NAMES.get(name, name): (_convert(value, RENAMED[_OLD_NAMES[name]][1])
                                         if name in _OLD_NAMES else value)
            for name, value in env.items()}


def _with_old_names(env) -> tuple[dict, dict]:
    """The environment with each unset new name taken from its old one, and which
    new names came from old ones (new -> old), to name what was actually set."""
    found, used = dict(env), {}
    for new, (old, factor) in RENAMED.items():
        if old not in env:
            continue
        if str(env.get(new) or "").strip() == "":
            found[new], used[new] = _convert(env[old], factor), old
        elif str(_convert(env[old], factor)).strip() != str(env[new]).strip():
            # Which one was meant cannot be known: say so rather than pick one.
            raise ConfigError(f"{old} and {new} are both set, to different values: "
                              f"set {new} only")
    return found, used


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


def _choice(env, name, default, choices):
    value = _get(env, name, default).lower()
    if value not in choices:
        raise ConfigError(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


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


def _seconds(env, name, default, minimum):
    raw = _get(env, name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw} must be at least {_number_text(minimum)}")
    return value


def _ms_list(env, name, default):
    """A comma-separated list of positive durations in seconds, as milliseconds."""
    raw = _get(env, name, default)
    try:
        values = [round(float(part) * 1000) for part in raw.split(",")]
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} must be a comma-separated list of seconds") from None
    if any(v <= 0 for v in values):
        raise ConfigError(f"{name}={raw!r}: every value must be at least 0.001")
    return values


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
    # Most events one handler worker takes at once (what waited while the last
    # one ran); the prefetch (20, c2p.run) bounds it too.
    handler_batch: int = 20
    # How long a service's handler worker waits, when idle, before taking what has
    # arrived (c2p.entrypoints.ServiceBatches): events that come a moment apart
    # (a plan and its status changes, published together) then share one worker.
    handler_linger_ms: int = 0
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
    # planner: how many days before its due date an action is "due soon", and how
    # often the due-date sweep runs.
    due_soon_days: int = 3
    due_alert_interval_s: float = 60
    # Visit planning: days between two supervision visits of a facility when its
    # template does not say (`visit_interval_days`); quarterly by default.
    visit_interval_days: int = 90
    # The built web app (web/dist) that the gateway serves at `/`; empty: the
    # repository's own web/dist.
    web_dist: str = ""
    # The bus: quorum queues (replicated on a cluster) or classic ones (a
    # single-node broker older than 3.10); deliveries of one message before the
    # broker parks it (a handler that kills its process never reaches the retries).
    queue_type: str = "quorum"
    delivery_limit: int = 10
    # What operators watch: the ops HTTP port of each process (/metrics,
    # /healthz, /readyz; 0 = off) and the log format (json or text).
    metrics_port: int = 9100
    log_format: str = "json"
    # DHIS2 (the national HMIS): where it is, the pinned API version, a personal
    # access token or a user and password; empty URL = no DHIS2 (nothing is sent,
    # figures are still kept). The export timer and its back-off after failures.
    dhis2_url: str = ""
    dhis2_api_version: int = 40
    dhis2_token: str = ""
    dhis2_username: str = ""
    dhis2_password: str = ""
    dhis2_timeout_s: float = 30
    dhis2_page_size: int = 500
    hmis_export_interval_s: float = 300
    hmis_backoff_s: tuple = (60, 300, 900, 3600)

    def database_url(self, service: str) -> str:
        return self.database_urls[service]


def load_settings(env=None) -> Settings:
    """Read every setting; raise ConfigError naming the first bad one."""
    env, old_names = _with_old_names(os.environ if env is None else env)
    try:
        return _load(env)
    except ConfigError as exc:
        message = str(exc)
        for new, old in old_names.items():
            message = re.sub(rf"\b{new}\b", f"{old} (now {new})", message)
        raise ConfigError(message) from None


def _load(env) -> Settings:
    database_urls = {
        service: _url(env, f"C2P_{service.upper()}_DATABASE_URL",
                      default_database_url(service), ("postgresql", "postgresql+psycopg2"))
        for service in SERVICES
    }
    s3_endpoint = _get(env, "C2P_S3_ENDPOINT", "localhost:9000")
    if "://" in s3_endpoint or ":" not in s3_endpoint:
        raise ConfigError(
            f"C2P_S3_ENDPOINT={s3_endpoint!r} must be host:port without a scheme "
            "(set C2P_S3_SECURE=true for TLS)")
    return Settings(
        amqp_uri=_url(env, "C2P_AMQP_URI", "amqp://guest:guest@localhost:5672/",
                      ("amqp", "amqps", "pyamqp")),
        database_urls=database_urls,
        s3_endpoint=s3_endpoint,
        s3_access_key=_get(env, "C2P_S3_ACCESS_KEY", "c2p-local"),
        s3_secret_key=_get(env, "C2P_S3_SECRET_KEY", "c2p-local-secret"),
        s3_secure=_bool(env, "C2P_S3_SECURE", "false"),
        s3_region=_get(env, "C2P_S3_REGION", "us-east-1"),
        evidence_bucket=_get(env, "C2P_EVIDENCE_BUCKET", "c2p-evidence"),
        evidence_max_bytes=_int(env, "C2P_EVIDENCE_MAX_BYTES", str(25 * 1024 * 1024),
                                minimum=1),
        evidence_max_decoded_bytes=_int(env, "C2P_EVIDENCE_MAX_DECODED_BYTES",
                                        str(128 * 1024 * 1024), minimum=1024 * 1024),
        evidence_decode_budget_bytes=_int(env, "C2P_EVIDENCE_DECODE_BUDGET_BYTES",
                                          str(384 * 1024 * 1024), minimum=1024 * 1024),
        token_secret=_secret(env),
        token_issuer=_get(env, "C2P_TOKEN_ISSUER", "c2p"),
        token_audience=_get(env, "C2P_TOKEN_AUDIENCE", "c2p-clients"),
        gateway_port=_int(env, "C2P_GATEWAY_PORT", "8000", minimum=1),
        retry_delays_ms=tuple(_ms_list(env, "C2P_RETRY_DELAYS_S", "1,5,30")),
        handler_batch=_int(env, "C2P_HANDLER_BATCH", "20", minimum=1),
        handler_linger_ms=_int(env, "C2P_HANDLER_LINGER_MS", "0", minimum=0),
        outbox_interval_s=_int(env, "C2P_OUTBOX_INTERVAL_S", "2", minimum=1),
        rpc_timeout_s=_int(env, "C2P_RPC_TIMEOUT_S", "10", minimum=1),
        db_pool_size=_int(env, "C2P_DB_POOL_SIZE", "4", minimum=1),
        db_max_overflow=_int(env, "C2P_DB_MAX_OVERFLOW", "4", minimum=0),
        demo_data=_bool(env, "C2P_DEMO_DATA", "true"),
        strict_views=_bool(env, "C2P_STRICT_VIEWS", "false"),
        webhook_interval_s=_seconds(env, "C2P_WEBHOOK_INTERVAL_S", "2", minimum=0.05),
        webhook_timeout_s=_int(env, "C2P_WEBHOOK_TIMEOUT_S", "5", minimum=1),
        webhook_backoff_ms=round(1000 * _seconds(env, "C2P_WEBHOOK_BACKOFF_S", "30",
                                                 minimum=0.001)),
        webhook_backoff_max_ms=round(1000 * _seconds(env, "C2P_WEBHOOK_BACKOFF_MAX_S", "3600",
                                                     minimum=0.001)),
        webhook_max_attempts=_int(env, "C2P_WEBHOOK_MAX_ATTEMPTS", "15", minimum=1),
        webhook_allow_private=_bool(env, "C2P_WEBHOOK_ALLOW_PRIVATE", "false"),
        trusted_proxies=_networks(env, "C2P_TRUSTED_PROXIES"),
        live_heartbeat_s=_int(env, "C2P_LIVE_HEARTBEAT_S", "15", minimum=1),
        live_queue_size=_int(env, "C2P_LIVE_QUEUE_SIZE", "200", minimum=1),
        smtp_host=_get(env, "C2P_SMTP_HOST", "localhost"),
        smtp_port=_int(env, "C2P_SMTP_PORT", "25", minimum=1),
        smtp_user=_optional(env, "C2P_SMTP_USER"),
        smtp_password=_optional(env, "C2P_SMTP_PASSWORD"),
        smtp_from=_get(env, "C2P_SMTP_FROM", "C2P <no-reply@c2p.local>"),
        sms_provider_url=_url(env, "C2P_SMS_PROVIDER_URL", "http://localhost:8025",
                              ("http", "https")),
        sms_provider_token=_optional(env, "C2P_SMS_PROVIDER_TOKEN"),
        notify_interval_s=_int(env, "C2P_NOTIFY_INTERVAL_S", "2", minimum=1),
        notify_retry_delays_s=tuple(_int_list(env, "C2P_NOTIFY_RETRY_DELAYS_S",
                                              "30,120,600,1800")),
        notify_digest_hour=_int(env, "C2P_NOTIFY_DIGEST_HOUR", "18", minimum=0),
        notify_link_base=_url(env, "C2P_NOTIFY_LINK_BASE", "http://localhost:8000",
                              ("http", "https")),
        due_soon_days=_int(env, "C2P_DUE_SOON_DAYS", "3", minimum=0),
        due_alert_interval_s=_seconds(env, "C2P_DUE_ALERT_INTERVAL_S", "60", minimum=0.1),
        visit_interval_days=_int(env, "C2P_VISIT_INTERVAL_DAYS", "90", minimum=1),
        web_dist=_optional(env, "C2P_WEB_DIST"),
        queue_type=_choice(env, "C2P_QUEUE_TYPE", "quorum", ("quorum", "classic")),
        delivery_limit=_int(env, "C2P_DELIVERY_LIMIT", "10", minimum=1),
        metrics_port=_int(env, "C2P_METRICS_PORT", "9100", minimum=0),
        log_format=_choice(env, "C2P_LOG_FORMAT", "json", ("json", "text")),
        **_dhis2(env),
    )


def _dhis2(env) -> dict:
    """DHIS2 (the national HMIS) and the export to it: no URL, no DHIS2."""
    url = _optional(env, "C2P_DHIS2_URL").rstrip("/")
    if url:
        url = _url(env, "C2P_DHIS2_URL", url, ("http", "https")).rstrip("/")
        if url.endswith("/api") or "/api/" in url:
            raise ConfigError("C2P_DHIS2_URL must be the server's base URL, without /api")
    token = _optional(env, "C2P_DHIS2_TOKEN")
    username = _optional(env, "C2P_DHIS2_USERNAME")
    password = _optional(env, "C2P_DHIS2_PASSWORD")
    if username and not password:
        raise ConfigError("C2P_DHIS2_PASSWORD is required when C2P_DHIS2_USERNAME is set")
    if url and not (token or username):
        raise ConfigError("C2P_DHIS2_URL is set: set C2P_DHIS2_TOKEN (a personal access "
                          "token) or C2P_DHIS2_USERNAME and C2P_DHIS2_PASSWORD")
    return {
        "dhis2_url": url, "dhis2_token": token, "dhis2_username": username,
        "dhis2_password": password,
        "dhis2_api_version": _int(env, "C2P_DHIS2_API_VERSION", "40", minimum=28),
        "dhis2_timeout_s": _seconds(env, "C2P_DHIS2_TIMEOUT_S", "30", minimum=0.1),
        "dhis2_page_size": _int(env, "C2P_DHIS2_PAGE_SIZE", "500", minimum=1),
        "hmis_export_interval_s": _seconds(env, "C2P_HMIS_EXPORT_INTERVAL_S", "300",
                                           minimum=0.1),
        "hmis_backoff_s": tuple(_int_list(env, "C2P_HMIS_BACKOFF_S", "60,300,900,3600")),
    }


_DEV_SECRET = "c2p-local-development-secret-change-me!!"


def _secret(env):
    value = _get(env, "C2P_TOKEN_SECRET", _DEV_SECRET)
    if len(value) < 32:
        raise ConfigError("C2P_TOKEN_SECRET must be at least 32 characters long")
    if value == _DEV_SECRET and _bool(env, "C2P_PRODUCTION", "false"):
        raise ConfigError("C2P_TOKEN_SECRET must be set in production (C2P_PRODUCTION=true)")
    return value
