"""Writes on the outbox: ``notify`` queues messages with the caller's change; ``outbox_deliver``
sends what is due, outside any transaction, and schedules retries with exponential backoff.

Queuing in the caller's transaction is the point: a change that rolls back leaves no message, and
a message is never sent for a change that did not happen. Delivery is at-least-once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from detente.audit.services import audit_record
from detente.core import clock
from detente.core.errors import RuleViolation
from detente.notifications.channels import (
    DeliveryError,
    Mailer,
    SmtpConfig,
    iso,
    one_line,
    post_json,
    redact_url,
    render_email_body,
    render_webhook,
    webhooks_configured,
)
from detente.notifications.models import ALLOWED, Channel, OutboxMessage, OutboxStatus
from detente.people.models import Person

log = logging.getLogger(__name__)

ST = OutboxStatus
MAX_ATTEMPTS = 8


def lease() -> dt.timedelta:
    """How long a claimed message is left to its worker before another may send it
    (``DETENTE_OUTBOX_LEASE_SECONDS``); a worker that dies mid-round gives its claim up then."""
    return dt.timedelta(seconds=settings.DETENTE_OUTBOX_LEASE_SECONDS)


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failure: 1, 2, 4, 8 … minutes."""
    return dt.timedelta(minutes=2 ** (attempts - 1))


def _move(message: OutboxMessage, to: str) -> None:
    if to not in ALLOWED[message.status]:
        raise RuleViolation(f"outbox message #{message.pk} is {message.status}; not {to}")
    message.status = to


def notify(
    *,
    event: str,
    title: str,
    text: str,
    people: Sequence[Person],
    facts: Mapping[str, object],
) -> list[OutboxMessage]:
    """Queue one e-mail per active person with an address, and one post per webhook that wants
    ``event``. Runs inside the caller's transaction; nothing is sent here."""
    hooks = [hook for hook in webhooks_configured() if hook.wants(event)]
    now = clock.now()
    subject = one_line(title)[:300]
    # Facts as pairs: PostgreSQL's jsonb does not keep an object's key order.
    payload = {"title": title, "text": text, "facts": [[k, v] for k, v in facts.items()]}
    rows: list[OutboxMessage] = []
    seen: set[str] = set()
    for person in people:
        address = (person.email or "").strip().lower()
        if not address or not person.active or address in seen:
            continue
        seen.add(address)
        rows.append(
            OutboxMessage(
                event=event, channel=Channel.EMAIL, target=address, subject=subject,
                body=render_email_body(text=text, facts=facts), payload=payload,
                next_attempt_at=now, created_at=now,
            )
        )  # fmt: skip
    rows.extend(
        OutboxMessage(
            event=event, channel=Channel.WEBHOOK, target=hook.url, kind=hook.kind,
            subject=subject, body=text, payload=payload, next_attempt_at=now, created_at=now,
        )
        for hook in hooks
    )  # fmt: skip
    with transaction.atomic():
        created = OutboxMessage.objects.bulk_create(rows)
        audit_record(
            actor=None, verb="notification.queued", subject_type="notification",
            subject_id=event,
            after={"event": event, "title": title, "emails": len(seen), "webhooks": len(hooks)},
        )  # fmt: skip
    return created


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.failed)


def _claim(moment: dt.datetime, limit: int) -> list[OutboxMessage]:
    with transaction.atomic():
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=ST.PENDING, next_attempt_at__lte=moment)
            .order_by("next_attempt_at", "id")[:limit]
        )
        if due:
            OutboxMessage.objects.filter(id__in=[m.pk for m in due]).update(
                next_attempt_at=moment + lease()
            )
    return due


def idempotency_key(message: OutboxMessage) -> str:
    return f"detente-outbox-{message.pk}"


def _send(message: OutboxMessage, mailer: Mailer, moment: dt.datetime) -> None:
    if message.channel == Channel.EMAIL:
        mailer.send(to=message.target, subject=message.subject, body=message.body)
        return
    payload = message.payload
    body = render_webhook(
        kind=message.kind or "generic",
        event=message.event,
        title=str(payload.get("title", message.subject)),
        text=str(payload.get("text", message.body)),
        facts={str(k): v for k, v in payload.get("facts") or []},
        sent_at=iso(moment),
    )
    # The same key on every attempt: delivery is at-least-once (a worker may die between the
    # receiver's answer and marking the message sent), so a receiver drops a repeated key.
    post_json(url=message.target, body=body, headers={"Idempotency-Key": idempotency_key(message)})


def outbox_deliver(*, now: dt.datetime | None = None, limit: int = 100) -> DeliveryReport:
    """Send up to ``limit`` due messages. A failure is retried after 1, 2, 4 … minutes; the
    ``MAX_ATTEMPTS``-th failure marks the message failed."""
    moment = now or clock.now()
    report = DeliveryReport()
    mailer = Mailer(SmtpConfig.from_settings())
    try:
        for message in _claim(moment, limit):
            where = (
                redact_url(message.target) if message.channel == Channel.WEBHOOK
                else message.target
            )  # fmt: skip
            try:
                _send(message, mailer, moment)
            except DeliveryError as exc:
                message.attempts += 1
                message.last_error = str(exc)
                if message.attempts >= MAX_ATTEMPTS:
                    _move(message, ST.FAILED)
                    report.failed.append(message.pk)
                    log.warning(
                        "notification #%s to %s failed for good: %s", message.pk, where, exc
                    )
                else:
                    _move(message, ST.PENDING)
                    message.next_attempt_at = moment + backoff(message.attempts)
                    report.retrying.append(message.pk)
                    log.info("notification #%s to %s will be retried: %s", message.pk, where, exc)
            else:
                message.attempts += 1
                _move(message, ST.SENT)
                message.sent_at = moment
                message.last_error = ""
                report.sent.append(message.pk)
            message.save(
                update_fields=["status", "attempts", "next_attempt_at", "last_error", "sent_at"]
            )
    finally:
        mailer.close()
    if report.attempted:
        audit_record(
            actor=None, verb="notification.delivered", subject_type="outbox",
            subject_id="round",
            after={"sent": len(report.sent), "retrying": len(report.retrying),
                   "failed": report.failed},
        )  # fmt: skip
    return report
