"""GET /api/v1/live: a Server-Sent Events stream of the events the caller may see.

    const live = new EventSource(`/api/v1/live?access_token=${token}`);
    live.addEventListener("plan.created", (e) => show(JSON.parse(e.data)));

The token may come as `Authorization: Bearer` or, because EventSource cannot set
headers, as `?access_token=`. The stream ends when the token expires (the client
reconnects with a fresh one), when the account is disabled or changed (checked
again every few heartbeats), when the client reads too slowly to keep up, or
when the gateway stops; `Last-Event-ID` on reconnection replays what this
replica still holds of what was missed (the last `REPLAY_BUFFER` events).
Comment lines (`: keep-alive`) every `C2P_LIVE_HEARTBEAT_S` seconds keep proxies
from closing an idle stream and let the server notice a client that left.
"""
from __future__ import annotations

import logging
import time

import jwt
from eventlet.queue import Empty
from werkzeug.wrappers import Response

from c2p.api.live import LiveQuery
from c2p.errors import Forbidden, ServiceUnavailable, Unauthorized
from gateway.http import API, http
from gateway.live import CLOSE, Live
from gateway.openapi import route

log = logging.getLogger(__name__)

READY_WAIT_S = 5
RETRY_MS = 3000
RECHECK_HEARTBEATS = 4  # an open stream re-checks its caller's access every 4 heartbeats


def _bearer_from_query(request) -> str:
    """EventSource cannot set headers: take `?access_token=` as the bearer token
    (only when no Authorization header is sent), then check it the usual way."""
    token = request.args.get("access_token", "").strip()
    if token and not request.headers.get("Authorization"):
        request.environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return request.headers.get("Authorization", "").partition(" ")[2].strip()


class LiveRoutes:
    live = Live()

    @route(summary="Live updates: a Server-Sent Events stream of the events the caller "
                   "may see", query=LiveQuery, stream="text/event-stream", errors=(503,),
           tags=["live"],
           description="Each message: `id` (event id), `event` (event type), `data` (the "
                       "event envelope as JSON). The bearer token may be given as "
                       "`?access_token=` (EventSource cannot set headers). `Last-Event-ID` "
                       "replays what this replica still holds.")
    @http("GET", f"{API}/live")
    def live_updates(self, request):
        raw = _bearer_from_query(request)
        caller = self.auth.caller(request)
        # Already verified above; read `exp` to end the stream when the token does.
        expires_at = jwt.decode(raw, options={"verify_signature": False}).get("exp")
        hub = self.live
        if not hub.wait_ready(READY_WAIT_S):
            raise ServiceUnavailable("live updates are reconnecting to the broker; retry")
        last_event_id = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
        # eventlet.wsgi buffers 4 KB before writing unless told otherwise: send each event now.
        request.environ["eventlet.minimum_write_chunk_size"] = 0
        access = self.auth

        def still_allowed() -> bool:
            # The same check as at connection (token, account active and not
            # re-scoped since, role policy): a disabled account's stream ends.
            try:
                access.caller(request)
            except (Unauthorized, Forbidden):
                return False
            except Exception:  # e.g. the database briefly away: keep the stream
                log.warning("live updates: could not recheck %s", caller.id, exc_info=True)
            return True

        return Response(_events(hub, caller, expires_at, last_event_id, still_allowed),
                        status=200,
                        mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
                        direct_passthrough=True)


def _events(hub, caller, expires_at, last_event_id, still_allowed=lambda: True):
    # Subscribing inside the generator: werkzeug closes it when the client goes,
    # and `finally` always runs once it has started.
    stream = hub.open(caller.id, caller.role, caller.scope, last_event_id)
    recheck_every = hub.heartbeat_s * RECHECK_HEARTBEATS
    recheck_at = time.monotonic() + recheck_every
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n".encode()
        while True:
            if time.monotonic() >= recheck_at:
                recheck_at = time.monotonic() + recheck_every
                if not still_allowed():
                    yield b": closed: access revoked (account disabled or changed)\n\n"
                    return
            if stream.closed_because:
                yield f": closed: {stream.closed_because}\n\n".encode()
                return
            remaining = (expires_at - time.time()) if expires_at else hub.heartbeat_s
            if remaining <= 0:
                yield b": closed: token expired, reconnect with a fresh one\n\n"
                return
            try:
                item = stream.queue.get(timeout=min(hub.heartbeat_s, remaining))
            except Empty:
                yield b": keep-alive\n\n"
                continue
            if item is CLOSE:
                continue  # the reason is reported at the top of the loop
            yield item
    finally:
        hub.close(stream)
