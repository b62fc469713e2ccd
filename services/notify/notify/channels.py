"""Sending one message on one channel: e-mail over SMTP, SMS and WhatsApp through
an HTTP provider.

`Senders.send(outgoing)` returns when the message was accepted and raises
`SendError` otherwise; `permanent=True` says retrying cannot help (an address
refused, a request the provider will never accept), so the delivery fails at
once instead of using up its retries.

The HTTP provider adapter speaks a small JSON API, `POST {SMS_PROVIDER_URL}/messages`
with `{"channel": "sms"|"whatsapp", "to", "text", "reference"}` and a bearer
token; `reference` (also sent as `Idempotency-Key`) is the delivery id, so a
provider that deduplicates never sends a retried message twice. A real
provider (Orange SMS API, Twilio, a WhatsApp Business gateway) sits behind a
thin relay speaking this shape, or gets its own adapter here.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

import requests

from notify.templates import short_text


class SendError(Exception):
    def __init__(self, message, permanent=False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery, ready to send (no database object: sent outside any
    transaction)."""
    id: str
    channel: str
    address: str
    language: str
    subject: str
    body: str
    link: str
    attempts: int


class Senders:
    def __init__(self, settings, timeout_s=15):
        self.settings = settings
        self.timeout_s = timeout_s

    def url(self, link):
        return self.settings.notify_link_base.rstrip("/") + link if link else ""

    def send(self, out: Outgoing) -> None:
        if out.channel == "email":
            self.send_email(out)
        elif out.channel in ("sms", "whatsapp"):
            self.send_via_provider(out)
        else:
            raise SendError(f"no sender for channel {out.channel}", permanent=True)

    def send_email(self, out: Outgoing) -> None:
        s = self.settings
        message = EmailMessage()
        message["Subject"] = out.subject
        message["From"] = s.smtp_from
        message["To"] = out.address
        message["Message-ID"] = f"<{out.id}@c2p>"
        url = self.url(out.link)
        message.set_content(out.body + (f"\n\n{url}\n" if url else "\n"))
        message["Content-Language"] = out.language  # after set_content, which clears it
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout_s) as smtp:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"SMTP refused {out.address}: {exc.recipients}",
                            permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"SMTP {s.smtp_host}:{s.smtp_port}: "
                            f"{exc.__class__.__name__}: {exc}") from None

    def send_via_provider(self, out: Outgoing) -> None:
        s = self.settings
        text = short_text(out.subject, out.body, self.url(out.link))
        try:
            response = requests.post(
                s.sms_provider_url.rstrip("/") + "/messages",
                json={"channel": out.channel, "to": out.address, "text": text,
                      "reference": out.id},
                headers={"Authorization": f"Bearer {s.sms_provider_token}",
                         "Idempotency-Key": out.id},
                timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise SendError(f"provider: {exc.__class__.__name__}: {exc}") from None
        if response.status_code >= 300:
            # 4xx other than timeout / rate limit: the same request will fail again.
            permanent = 400 <= response.status_code < 500 and response.status_code not in (
                408, 409, 425, 429)
            raise SendError(f"provider answered {response.status_code}: "
                            f"{response.text[:200]}", permanent=permanent)
