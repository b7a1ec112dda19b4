"""Append-only audit events, each carrying the hash of the one before it."""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One state change: who did what to which subject, with before/after and the chain hash.

    ``hash`` = sha256 over the canonical JSON of this event's fields and ``prev_hash``. Editing,
    deleting, inserting or reordering any row breaks the chain at that point (``audit verify``).
    """

    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    verb = models.CharField(max_length=80)
    subject_type = models.CharField(max_length=80)
    subject_id = models.CharField(max_length=80)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ("seq",)
        indexes = (models.Index(fields=("subject_type", "subject_id")),)

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_label} {self.verb} {self.subject_type}:{self.subject_id}"


class AuditHead(models.Model):
    """Single row: the last sequence number and hash. Locked to serialise appends; lets verify
    notice a deleted tail."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"
