"""Reading decision records."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from detente.core.errors import NotFound
from detente.decisions.models import DecisionRecord


def decision_get(pk: int) -> DecisionRecord:
    found = DecisionRecord.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"decision record {pk} does not exist")
    return found


def decisions_list() -> QuerySet[DecisionRecord]:
    """Every decision record in the model's order (newest first)."""
    return DecisionRecord.objects.all()


def decisions_by_ids(ids: Iterable[int]) -> list[DecisionRecord]:
    """The records named, all of them or ``NotFound``."""
    wanted = set(ids)
    found = list(DecisionRecord.objects.filter(pk__in=wanted))
    if len(found) != len(wanted):
        missing = sorted(wanted - {d.pk for d in found})
        raise NotFound(f"a linked decision record does not exist: {', '.join(map(str, missing))}")
    return found
