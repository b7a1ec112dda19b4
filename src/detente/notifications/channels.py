"""The two ways out: e-mail (Django's SMTP backend) and webhook POSTs, and the three webhook
payload shapes.

Pure of the ORM: the service hands over plain values, so each sender can be tested on its own.
Secrets (the SMTP password, webhook URLs, whose path or query is often the credential) never
reach a log line or a stored error: use ``redact_url`` and ``scrub``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from detente.core.errors import InputError
from detente.notifications.models import WebhookKind

HTTP_TIMEOUT_SECONDS = 10.0
SMTP_TIMEOUT_SECONDS = 15.0
USER_AGENT = "Detente-Notifications/1"


class DeliveryError(Exception):
    """One attempt failed; the message says why, without secrets."""


# ------------------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class Webhook:
    url: str
    kind: str = WebhookKind.GENERIC
    events: frozenset[str] = field(default_factory=frozenset)  # empty: every event

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


def webhooks_configured(raw: str | Sequence[Mapping[str, Any]] | None = None) -> list[Webhook]:
    """Parse ``DETENTE_WEBHOOKS`` (a JSON list of ``{url, kind, events?}``); refuse bad ones."""
    value: Any = settings.DETENTE_WEBHOOKS if raw is None else raw
    if isinstance(value, str):
        try:
            value = json.loads(value or "[]")
        except json.JSONDecodeError as exc:
            raise InputError(f"not JSON: {exc.msg}", field="DETENTE_WEBHOOKS") from None
    if not isinstance(value, list):
        raise InputError("expected a JSON list of {url, kind, events}", field="DETENTE_WEBHOOKS")
    hooks = []
    for index, entry in enumerate(value):
        record = str(index)
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise InputError("each webhook needs a url", field="DETENTE_WEBHOOKS", record=record)
        url = entry["url"]
        parts = urllib.parse.urlsplit(url)
        # urllib also opens file:// and ftp:// URLs; only HTTP(S) may leave the building.
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                f"{redact_url(url)} is not an http(s) URL", field="DETENTE_WEBHOOKS", record=record
            )
        kind = entry.get("kind", WebhookKind.GENERIC)
        if kind not in WebhookKind.values:
            raise InputError(
                f"unknown kind {kind!r} (one of {', '.join(WebhookKind.values)})",
                field="DETENTE_WEBHOOKS",
                record=record,
            )
        events = entry.get("events") or []
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise InputError(
                "events is a list of event names", field="DETENTE_WEBHOOKS", record=record
            )
        hooks.append(Webhook(url=url, kind=kind, events=frozenset(events)))
    return hooks


def redact_url(url: str) -> str:
    """Scheme and host only: Slack and Teams put the credential in the path, others in the query."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


def scrub(text: str, *secrets: str) -> str:
    """``text`` with every non-empty secret (and each URL's path and query) masked."""
    for secret in secrets:
        if not secret:
            continue
        replacement = redact_url(secret) if "://" in secret else "***"
        text = text.replace(secret, replacement)
    return text[:2000]


# ------------------------------------------------------------------------------ payloads


def _fact_text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return "—" if value is None else str(value)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_webhook(
    *, kind: str, event: str, title: str, text: str, facts: Mapping[str, object], sent_at: str
) -> dict[str, Any]:
    """The JSON body to POST for a webhook of ``kind``."""
    if kind == WebhookKind.SLACK:
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(text)[:3000]}},
        ]
        if facts:
            blocks.append(
                {
                    "type": "section",
                    # Slack allows at most ten fields in a section.
                    "fields": [
                        {
                            "type": "mrkdwn",
                            "text": f"*{_slack_escape(k)}*\n{_slack_escape(_fact_text(v))}",
                        }
                        for k, v in list(facts.items())[:10]
                    ],
                }
            )
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Détente · {event}"}]}
        )
        return {"text": f"{title}: {text}", "blocks": blocks}
    if kind == WebhookKind.TEAMS:
        # Teams Workflows ("Post to a channel when a webhook request is received") takes an
        # Adaptive Card inside a message envelope.
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium",
                 "wrap": True},
                {"type": "TextBlock", "text": text, "wrap": True},
                {"type": "FactSet",
                 "facts": [{"title": k, "value": _fact_text(v)} for k, v in facts.items()]},
            ],
        }  # fmt: skip
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        }
    if kind == WebhookKind.TEAMS_MESSAGECARD:
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": title,
            "title": title,
            "text": text,
            "sections": [
                {"facts": [{"name": k, "value": _fact_text(v)} for k, v in facts.items()]}
            ],
        }
    return {"event": event, "title": title, "text": text, "facts": dict(facts), "sent_at": sent_at}


def render_email_body(*, text: str, facts: Mapping[str, object]) -> str:
    lines = [text, ""]
    lines.extend(f"{k}: {_fact_text(v)}" for k, v in facts.items())
    lines.extend(["", "-- ", "Détente"])
    return "\n".join(lines)


def one_line(text: str) -> str:
    """Header-safe: no CR/LF, so a title cannot inject mail headers."""
    return " ".join(text.split())


# ------------------------------------------------------------------------------ senders


def post_json(
    *,
    url: str,
    body: Mapping[str, Any],
    timeout: float = HTTP_TIMEOUT_SECONDS,
    headers: Mapping[str, str] | None = None,
) -> int:
    """POST ``body`` as JSON; the status code on 2xx, else ``DeliveryError``."""
    data = json.dumps(body, ensure_ascii=False, default=str).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked in webhooks_configured
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} from {redact_url(url)}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        message = scrub(f"{type(exc).__name__}: {reason} ({redact_url(url)})", url)
        raise DeliveryError(message) from None
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status} from {redact_url(url)}")
    return status


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    sender: str
    starttls: bool

    @classmethod
    def from_settings(cls) -> SmtpConfig:
        return cls(
            host=settings.DETENTE_SMTP_HOST,
            port=settings.DETENTE_SMTP_PORT,
            user=settings.DETENTE_SMTP_USER,
            password=settings.DETENTE_SMTP_PASSWORD,
            sender=settings.DETENTE_SMTP_FROM,
            starttls=settings.DETENTE_SMTP_STARTTLS,
        )


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class Mailer:
    """One connection of Django's SMTP e-mail backend, opened on first use and reused for a
    delivery round. The outbox (``services``) keeps the retries; a failed attempt is one
    ``DeliveryError`` whose text names the error, never the password."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._connection: BaseEmailBackend | None = None

    def _connect(self) -> BaseEmailBackend:
        cfg = self.config
        if not cfg.host:
            raise DeliveryError("no SMTP server configured (DETENTE_SMTP_HOST)")
        connection: BaseEmailBackend = get_connection(
            SMTP_BACKEND,
            fail_silently=False,
            host=cfg.host,
            port=cfg.port,
            username=cfg.user or None,
            password=cfg.password or None,
            use_tls=cfg.starttls,
            timeout=SMTP_TIMEOUT_SECONDS,
        )
        connection.open()
        return connection

    def send(self, *, to: str, subject: str, body: str) -> None:
        sender = self.config.sender
        domain = sender.rpartition("@")[2] or "localhost"
        message = EmailMessage(
            subject=one_line(subject),
            body=body,
            from_email=sender,
            to=[to],
            # our own Message-ID: Django's default asks the resolver for this host's name
            headers={"Message-ID": make_msgid(domain=domain)},
        )
        try:
            if self._connection is None:
                self._connection = self._connect()
            message.connection = self._connection
            message.send(fail_silently=False)
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self.close()
            raise DeliveryError(
                scrub(f"SMTP {type(exc).__name__}: {exc}", self.config.password)
            ) from None

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.close()


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
