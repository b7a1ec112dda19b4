"""Reads of the trail that other apps' vouch rules share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from detente.audit.models import AuditEvent, AuditHead


def audit_events(
    *, subject_type: str, verb_prefix: str = ""
) -> Iterator[tuple[int, str, str, int | None, Any]]:
    """``(seq, verb, subject_id, actor_id, after)`` of a subject type's events, in order."""
    rows = AuditEvent.objects.filter(subject_type=subject_type)
    if verb_prefix:
        rows = rows.filter(verb__startswith=verb_prefix)
    yield from (
        rows.order_by("seq")
        .values_list("seq", "verb", "subject_id", "actor_id", "after")
        .iterator(chunk_size=2000)
    )


def audit_last_values(*, subject_type: str, key: str) -> dict[str, Any]:
    """The last value each subject's events recorded under ``after[key]``."""
    last: dict[str, Any] = {}
    for _, _, subject_id, _, after in audit_events(subject_type=subject_type):
        if isinstance(after, dict) and key in after:
            last[subject_id] = after[key]
    return last


def audit_head_seq() -> int:
    """The sequence number of the trail's newest event (0 for an empty trail)."""
    head = AuditHead.objects.filter(id=1).first()
    return head.seq if head else 0


def audit_recent(*, limit: int = 10) -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("-seq")[:limit])


def events_about(subject_type: str, subject_ids: Iterable[object]) -> QuerySet[AuditEvent]:
    """The events on these subjects, oldest first."""
    ids = [str(i) for i in subject_ids]
    return AuditEvent.objects.filter(subject_type=subject_type, subject_id__in=ids).order_by("seq")
