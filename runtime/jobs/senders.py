"""Senders: one per channel type (in_app, email, sms, webhook), in one registry.

A sender gets a rendered `Outgoing` message after the outbox's claim has committed. Every
sender passes the message's stable `message_id` on, so a receiver can drop the duplicate that a
crash between sending and marking the message sent can cause: e-mail as its `Message-ID`, SMS
gateways and webhooks as `Idempotency-Key` and `X-Banyan-Message-Id` headers; in-app messages
are written once per id. Raise `SendFailed` to be retried later, `Undeliverable` when retrying
cannot help (no e-mail address, a 4xx answer).

Configuration comes from the environment: `BANYAN_SMTP_URL` (smtp://user:password@host:587,
smtps:// for TLS from the start, `?starttls=1`), `BANYAN_MAIL_FROM` (when the channel names no
`sender`), `BANYAN_SMS_URL` (the SMS gateway's HTTP endpoint, or `file:///path/sms.jsonl`: a file
sink for development, one JSON line per message). Without them, e-mail and SMS are written to the
log instead; `register_sender` replaces any of them."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any, Mapping, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
from sqlalchemy.engine import Engine

from runtime.jobs import notifications
from runtime.storage.db import writing

log = logging.getLogger("banyan.jobs")
TIMEOUT = 10.0


class SendFailed(Exception):
    """The message did not go out this time; the outbox tries again later."""


class Undeliverable(SendFailed):
    """Trying again cannot help (no address, the receiver refused the message)."""


@dataclass(frozen=True)
class Recipient:
    name: str
    display_name: str
    email: str | None = None
    phone: str | None = None
    language: str = "zh"


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    channel: Any                     # the compiled Channel document (name, type, sender, url, …)
    kind: str
    recipient: Recipient | None
    title: str
    body: str
    link: str | None
    source: str | None
    language: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    at: Any = None                   # the delivery time (naive UTC)

    @property
    def id_headers(self) -> dict[str, str]:
        return {"Idempotency-Key": self.message_id, "X-Banyan-Message-Id": self.message_id}


class Sender(Protocol):
    def send(self, message: Outgoing, engine: Engine) -> None:
        """Deliver one message; raise SendFailed (or Undeliverable) when it did not go out."""


class InAppSender:
    def send(self, message: Outgoing, engine: Engine) -> None:
        if message.recipient is None:
            raise Undeliverable("an in-app message needs a recipient")
        with writing(engine) as conn:
            notifications.deliver(conn, message_id=message.message_id, user=message.recipient.name,
                                  kind=message.kind, title=message.title, body=message.body, link=message.link,
                                  source=message.source, at=message.at)


class EmailSender:
    """SMTP with smtplib; the message's id is its Message-ID."""

    def __init__(self, url: str | None = None, smtp: Any = None):
        self.url = url
        self.smtp_class = smtp

    def send(self, message: Outgoing, engine: Engine) -> None:
        to = message.recipient.email if message.recipient else None
        if not to:
            who = message.recipient.name if message.recipient else "the message"
            raise Undeliverable(f"{who} has no e-mail address in the people directory")
        url = self.url or os.environ.get("BANYAN_SMTP_URL")
        sender = message.channel.sender or os.environ.get("BANYAN_MAIL_FROM") or "banyan@localhost"
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = sender
        mail["To"] = formataddr((message.recipient.display_name, to))
        mail["Message-ID"] = f"<{message.message_id}@{sender.rpartition('@')[2] or 'banyan'}>"
        mail["X-Banyan-Message-Id"] = message.message_id
        mail.set_content(message.body + (f"\n\n{message.link}" if message.link and message.link not in message.body
                                         else ""))
        if not url:
            log.info("e-mail (BANYAN_SMTP_URL not set, logged only) %s → %s: %s", mail["Message-ID"], to, message.title)
            return
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise SendFailed("BANYAN_SMTP_URL must look like smtp://user:password@host:587 (or smtps://…)")
        cls = self.smtp_class or (smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP)
        try:
            with cls(parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25), timeout=TIMEOUT) as smtp:
                if parse_qs(parts.query).get("starttls") == ["1"]:
                    smtp.starttls()
                if parts.username:
                    smtp.login(unquote(parts.username), unquote(parts.password or ""))
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise Undeliverable(f"the mail server refused {to}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"the mail server at {parts.hostname} did not take the message ({type(exc).__name__})") from exc


class HttpSender:
    """An HTTP POST of the message as JSON: webhooks (the channel's `url`, signed with the secret
    in `secret_env`) and the SMS gateway (`BANYAN_SMS_URL`)."""

    def __init__(self, kind: str, url: str | None = None, transport: httpx.BaseTransport | None = None):
        self.kind, self.url, self.transport = kind, url, transport

    def send(self, message: Outgoing, engine: Engine) -> None:
        ch = message.channel
        url = (ch.url if self.kind == "webhook" else None) or self.url or (
            os.environ.get("BANYAN_SMS_URL") if self.kind == "sms" else None)
        data = self._data(message)
        if not url:
            log.info("%s (no gateway configured, logged only) %s: %s", self.kind, message.message_id, data["text"])
            return
        if url.startswith("file://"):                 # a development sink: one JSON line per message
            try:
                with open(unquote(urlsplit(url).path), "a", encoding="utf-8") as sink:
                    sink.write(json.dumps(data, ensure_ascii=False) + "\n")
            except OSError as exc:
                raise SendFailed(f"the {self.kind} file sink cannot be written ({type(exc).__name__})") from exc
            return
        body = json.dumps(data, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", **message.id_headers}
        secret = os.environ.get(ch.secret_env) if getattr(ch, "secret_env", None) else None
        if secret:
            headers["X-Banyan-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        try:
            with httpx.Client(transport=self.transport, timeout=TIMEOUT) as client:
                answer = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendFailed(f"{urlsplit(url).netloc} did not answer ({type(exc).__name__})") from exc
        if answer.status_code >= 400:
            retry = answer.status_code >= 500 or answer.status_code in (408, 429)
            raise (SendFailed if retry else Undeliverable)(f"{urlsplit(url).netloc} answered {answer.status_code}")

    def _data(self, m: Outgoing) -> dict:
        r = m.recipient
        text = m.body
        if self.kind == "sms":
            text = (m.channel.sender or "") + text
            text = text[: m.channel.max_length or 70]
            if r is None or not r.phone:
                raise Undeliverable(f"{r.name if r else 'the message'} has no mobile number in the people directory")
        return {"message_id": m.message_id, "channel": m.channel.name, "kind": m.kind, "language": m.language,
                "to": (r.phone if self.kind == "sms" else r.name) if r else None, "title": m.title, "text": text,
                "link": m.link, "source": m.source, "payload": m.payload}


_SENDERS: dict[str, Sender] = {"in_app": InAppSender(), "email": EmailSender(), "sms": HttpSender("sms"),
                               "webhook": HttpSender("webhook")}


def register_sender(channel_type: str, sender: Sender) -> None:
    """Use `sender` for every channel of `channel_type` (in_app, email, sms, webhook, or a new one)."""
    _SENDERS[channel_type] = sender


def sender_for(channel_type: str, overrides: Mapping[str, Sender] | None = None) -> Sender:
    found = (overrides or {}).get(channel_type) or _SENDERS.get(channel_type)
    if found is None:
        raise Undeliverable(f"no sender is registered for channel type `{channel_type}`")
    return found
