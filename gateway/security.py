"""HTTP hardening in one place: the security headers of every answer, and the
client's address as seen through trusted proxies.

`security_headers(path, content_type, existing, settings)` is the one function
that decides the headers; the gateway's WSGI app applies it to every answer
(`apply_security_headers`), whichever route (API, docs viewer, the web app at
`/`) made it, so a route cannot forget them:

- `X-Content-Type-Options: nosniff` on everything (a browser never guesses a type);
- `Referrer-Policy: no-referrer` (URLs may carry ids, and the SSE stream's token);
- `Cache-Control: no-store` on every API answer that did not choose its own
  caching (tokens, RFC 6749 §5.1, and personal answers), with `Pragma: no-cache`
  for old HTTP/1.0 caches;
- on HTML pages a Content-Security-Policy with `frame-ancestors 'none'` (and
  `X-Frame-Options: DENY` for browsers without CSP 2): scripts only from this
  origin, no inline scripts, no `eval`; a Vite-built app and its service worker
  run under it (`worker-src 'self'`, `manifest-src 'self'`); images and uploads
  may also go to the object store's origin (thumbnails and presigned POSTs).

Plain Python, no nameko: unit-tested in milliseconds.
"""
from __future__ import annotations

import ipaddress

API_PREFIX = "/api/"


def object_store_origin(settings) -> str | None:
    """The origin presigned URLs point to (`http(s)://S3_ENDPOINT`), or None."""
    endpoint = getattr(settings, "s3_endpoint", "") if settings is not None else ""
    if not endpoint:
        return None
    scheme = "https" if getattr(settings, "s3_secure", False) else "http"
    return f"{scheme}://{endpoint}"


def content_security_policy(settings=None) -> str:
    """The CSP of every HTML page: the docs viewer and the web app alike."""
    store = object_store_origin(settings)
    extra = f" {store}" if store else ""
    directives = [
        "default-src 'self'",
        "script-src 'self'",               # no inline script, no eval
        # Swagger UI sets style attributes; styles cannot run code.
        "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: blob:{extra}",  # thumbnails are presigned URLs
        "font-src 'self' data:",
        f"connect-src 'self'{extra}",      # API, SSE, presigned POST uploads
        "worker-src 'self'",               # the app's service worker
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def security_headers(path: str, content_type: str | None, existing, settings=None) -> dict:
    """The headers to add to an answer for `path` (those it lacks)."""
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    if path.startswith(API_PREFIX) and not existing.get("Cache-Control"):
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    if (content_type or "").split(";")[0].strip().lower() in ("text/html",
                                                               "application/xhtml+xml"):
        headers["Content-Security-Policy"] = content_security_policy(settings)
        headers["X-Frame-Options"] = "DENY"
    return {k: v for k, v in headers.items() if k not in existing}


def apply_security_headers(response, path: str, settings=None):
    """Add what `security_headers` says to a werkzeug Response (in place)."""
    for name, value in security_headers(path, response.headers.get("Content-Type"),
                                        response.headers, settings).items():
        response.headers[name] = value
    # Whatever a route set, nosniff is not negotiable.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- the client's address -------------------------------------------------------

def _ip(value):
    try:
        return ipaddress.ip_address(value.strip().strip("[]").split("%", 1)[0])
    except (ValueError, AttributeError):
        return None


def client_address(remote_addr: str | None, forwarded_for: str | None, trusted) -> str:
    """The address of the client that made the request.

    `X-Forwarded-For` is believed only when the direct peer is a trusted proxy,
    and then read from the right: each hop added by a trusted proxy is skipped,
    and the first address not of a trusted proxy is the client. Anything to the
    left of it was written by the client itself and is ignored, so a client
    cannot pick the address its failed sign-ins are counted under.
    """
    peer = _ip(remote_addr or "")
    if peer is None:
        return remote_addr or "unknown"
    if not trusted or not any(peer in net for net in trusted):
        return str(peer)
    hops = [h for h in (forwarded_for or "").split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            break  # a malformed hop: stop at the last address we could trust
        client = address
        if not any(address in net for net in trusted):
            break
    return str(client)
