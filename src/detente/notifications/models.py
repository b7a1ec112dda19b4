"""The outbox: one row per message to send, written in the transaction of the change it reports."""

from __future__ import annotations

from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class WebhookKind(models.TextChoices):
    GENERIC = "generic", "Generic JSON"
    SLACK = "slack", "Slack-compatible"
    TEAMS = "teams", "Microsoft Teams (Adaptive Card, Workflows)"
    TEAMS_MESSAGECARD = "teams_messagecard", "Microsoft Teams (legacy MessageCard connector)"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


ST = OutboxStatus

# The only legal moves; a failed attempt that may be retried stays pending (attempts + 1).
ALLOWED: dict[str, frozenset[str]] = {
    ST.PENDING: frozenset({ST.PENDING, ST.SENT, ST.FAILED}),
    ST.SENT: frozenset(),
    ST.FAILED: frozenset(),
}


class OutboxMessage(models.Model):
    event = models.CharField(max_length=64)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # An e-mail address or a webhook URL. A webhook URL is often a secret in itself (Slack, Teams):
    # it is stored because it must be, and never logged (see ``channels.redact_url``).
    target = models.CharField(max_length=2000)
    kind = models.CharField(max_length=20, choices=WebhookKind.choices, blank=True)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    # {"title", "text", "facts": [[name, value], …]}, rendered into each kind at delivery.
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=OutboxStatus.choices, default=ST.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = (models.Index(fields=("status", "next_attempt_at"), name="outbox_due"),)

    def __str__(self) -> str:
        return f"#{self.pk} {self.event} by {self.channel} ({self.status})"
