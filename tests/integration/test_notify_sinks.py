"""A real local SMTP server (aiosmtpd) and a real local SMS/WhatsApp HTTP provider
(http.server) for the notify tests, in a subprocess of their own.

They run outside the test process because it is greened by eventlet, which
does not mix with aiosmtpd's asyncio loop. Run as a script it serves both;
`Sinks` starts it and reads what it received through its HTTP control API:

- `GET /_mail`: the e-mails received (to, subject, body, language);
- `GET /_messages`: the SMS/WhatsApp messages accepted; `GET /_attempts`: every
  request, failed ones included;
- `POST /_script {"to": phone, "fail": n, "status": 503}`: answer that status
  (503 unless told) to the next n messages to that number (-1: always).

The test in this module checks the sinks themselves, with smtplib and requests.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.abspath(__file__)
TOKEN = "test-provider-token"


def serve(smtp_port: int, http_port: int) -> None:
    from email import message_from_bytes, policy
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from aiosmtpd.controller import Controller

    lock = threading.Lock()
    mail, messages, attempts, failures, statuses = [], [], [], {}, {}

    class Mailbox:
        async def handle_DATA(self, server, session, envelope):
            parsed = message_from_bytes(envelope.content, policy=policy.default)
            with lock:
                mail.append({"to": envelope.rcpt_tos, "from": envelope.mail_from,
                             "subject": parsed["Subject"],
                             "language": parsed["Content-Language"],
                             "message_id": parsed["Message-ID"],
                             "body": parsed.get_content()})
            return "250 Message accepted for delivery"

    controller = Controller(Mailbox(), hostname="127.0.0.1", port=smtp_port)
    controller.start()

    class Provider(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, payload):
            body = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with lock:
                found = {"/_mail": mail, "/_messages": messages,
                         "/_attempts": attempts}.get(self.path)
                self.reply(200 if found is not None else 404, list(found or []))

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/_script":
                with lock:
                    failures[body["to"]] = body["fail"]
                    statuses[body["to"]] = body.get("status", 503)
                return self.reply(200, {})
            if self.path != "/messages":
                return self.reply(404, {"error": "no such path"})
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self.reply(401, {"error": "bad token"})
            with lock:
                attempts.append(body)
                left = failures.get(body.get("to"), 0)
                if left:
                    failures[body["to"]] = left - 1 if left > 0 else left
                    return self.reply(statuses.get(body["to"], 503),
                                      {"error": "scripted failure"})
                messages.append({**body, "idempotency_key": self.headers.get(
                    "Idempotency-Key")})
            self.reply(200, {"id": body.get("reference")})

    server = ThreadingHTTPServer(("127.0.0.1", http_port), Provider)
    try:
        server.serve_forever()
    finally:
        controller.stop()


class Sinks:
    """The SMTP server and HTTP provider of one test, in a subprocess."""

    def __init__(self):
        from support import free_port
        self.smtp_port, self.http_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.process = subprocess.Popen(
            [sys.executable, HERE, str(self.smtp_port), str(self.http_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        import requests
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{self.url}/_mail", timeout=1)
                break
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("sinks did not start: "
                                       + self.process.stderr.read().decode()[-2000:])
                time.sleep(0.1)

    def env(self) -> dict:
        """Settings pointing notify at these sinks."""
        return {"C2P_SMTP_HOST": "127.0.0.1", "C2P_SMTP_PORT": str(self.smtp_port),
                "C2P_SMTP_FROM": "C2P <alertes@c2p.test>",
                "C2P_SMS_PROVIDER_URL": self.url, "C2P_SMS_PROVIDER_TOKEN": TOKEN,
                "C2P_NOTIFY_LINK_BASE": "https://c2p.test"}

    def _get(self, path):
        import requests
        return requests.get(f"{self.url}{path}", timeout=5).json()

    def mail(self, to=None):
        return [m for m in self._get("/_mail") if to is None or to in m["to"]]

    def texts(self, to=None):
        return [m for m in self._get("/_messages") if to is None or m["to"] == to]

    def attempts(self, to=None):
        return [m for m in self._get("/_attempts") if to is None or m["to"] == to]

    def fail(self, to, times, status=503):
        import requests
        requests.post(f"{self.url}/_script", json={"to": to, "fail": times, "status": status},
                      timeout=5).raise_for_status()

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def test_sinks_receive_mail_and_provider_messages():
    import smtplib
    from email.message import EmailMessage

    import requests
    sinks = Sinks()
    try:
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = "Écart", "a@c2p.test", "b@c2p.test"
        message.set_content("Chaîne du froid")
        with smtplib.SMTP("127.0.0.1", sinks.smtp_port, timeout=5) as smtp:
            smtp.send_message(message)
        assert sinks.mail("b@c2p.test")[0]["subject"] == "Écart"
        assert "Chaîne du froid" in sinks.mail()[0]["body"]

        sinks.fail("+22370000000", 1)
        send = lambda: requests.post(f"{sinks.url}/messages", timeout=5, json={  # noqa: E731
            "channel": "sms", "to": "+22370000000", "text": "été"},
            headers={"Authorization": f"Bearer {TOKEN}"})
        assert send().status_code == 503
        assert send().status_code == 200
        assert [m["text"] for m in sinks.texts("+22370000000")] == ["été"]
        assert len(sinks.attempts("+22370000000")) == 2
        assert requests.post(f"{sinks.url}/messages", json={}, timeout=5).status_code == 401
    finally:
        sinks.stop()


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
