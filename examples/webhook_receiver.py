"""Example webhook receiver: a programme takes C2P's events over HTTPS instead of AMQP,
and checks each delivery's signature before trusting it.

    C2P_WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py --port 8080

C2P signs every delivery (see `gateway/webhooks.py`)::

    C2P-Timestamp: 1767225600
    C2P-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>
    C2P-Event-Id:  <the envelope's id>

The receiver, standard library only:

- recomputes the HMAC over the **raw bytes** (never over re-serialised JSON) and
  compares in constant time (`hmac.compare_digest`);
- refuses timestamps more than 5 minutes away (a captured delivery replayed later);
- answers 401 to anything unsigned or wrongly signed, 400 to a body that is not an
  envelope, and 2xx at once otherwise: work is done after answering, because C2P
  retries whatever is not 2xx within its timeout;
- deduplicates on `C2P-Event-Id` (delivery is at least once; retries reorder, so
  order by the envelope's `occurred_at`, not by arrival).

A key rotation (`POST /api/v1/webhooks/{id}/rotate-secret`) gives a new secret; keep
both in `secrets` until deliveries signed with the old one have stopped.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
from wsgiref.simple_server import make_server

TOLERANCE_S = 300


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                   hashlib.sha256)
    return "v1=" + mac.hexdigest()


class Receiver:
    """A WSGI app keeping the events it accepted (`events`), each once."""

    def __init__(self, secrets: list[str], now=time.time):
        self.secrets = [s for s in secrets if s]
        self.now = now
        self.events: list[dict] = []
        self.seen: set[str] = set()

    def verify(self, headers: dict, body: bytes) -> str | None:
        """None when the delivery is authentic and fresh, else why not."""
        timestamp = headers.get("C2P-Timestamp", "")
        given = headers.get("C2P-Signature", "")
        if not timestamp.isdigit() or not given:
            return "missing C2P-Timestamp or C2P-Signature"
        if abs(self.now() - int(timestamp)) > TOLERANCE_S:
            return "timestamp too old or in the future"
        if not any(hmac.compare_digest(expected_signature(secret, timestamp, body), given)
                   for secret in self.secrets):
            return "bad signature"
        return None

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] != "POST":
            return self._answer(start_response, "405 Method Not Allowed", {"error": "POST"})
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        # HTTP_C2P_EVENT_ID -> C2P-Event-Id
        headers = {key[5:].replace("_", "-").title(): value
                   for key, value in environ.items() if key.startswith("HTTP_")}
        problem = self.verify(headers, body)
        if problem:
            return self._answer(start_response, "401 Unauthorized", {"error": problem})
        try:
            envelope = json.loads(body.decode("utf-8"))
            event_id = envelope["id"]
        except (ValueError, KeyError, TypeError):
            return self._answer(start_response, "400 Bad Request",
                                {"error": "not a C2P event envelope"})
        if event_id != headers.get("C2P-Event-Id", event_id):
            return self._answer(start_response, "400 Bad Request",
                                {"error": "C2P-Event-Id does not match the body"})
        if event_id not in self.seen:
            self.seen.add(event_id)
            self.events.append(envelope)
        return self._answer(start_response, "204 No Content", None)

    @staticmethod
    def _answer(start_response, status, payload):
        body = b"" if payload is None else json.dumps(payload).encode("utf-8")
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(body)))])
        return [body]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    secrets = os.environ.get("C2P_WEBHOOK_SECRET", "").split(",")
    if not any(secrets):
        print("set C2P_WEBHOOK_SECRET (comma-separated during a rotation)", file=sys.stderr)
        return 2
    receiver = Receiver(secrets)
    with make_server("0.0.0.0", args.port, receiver) as server:
        print(f"listening on :{args.port}")
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
