"""Reading findings: what matters first, with filters."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from detente.core import clock
from detente.core.errors import InputError
from detente.findings.models import Finding, Status
from detente.people.models import Person, Role

OPEN_LIKE = (Status.OPEN,)


@dataclass(frozen=True)
class FindingFilter:
    overdue: bool = False
    exploited: bool = False
    exposed: bool = False
    service: str | None = None
    status: str | None = "open"
    severity: str | None = None
    scanner: str | None = None
    cve: str | None = None


def visible_findings(person: Person | None) -> QuerySet[Finding]:
    """What ``person`` may see: service owners see their own services' findings; every other
    role (auditors included) sees all. ``None`` is the system (CLI without --as)."""
    qs = Finding.objects.all()
    if person is not None and person.role == Role.SERVICE_OWNER:
        qs = qs.filter(asset__service__owner=person)
    return qs


def findings_query(f: FindingFilter, person: Person | None = None) -> QuerySet[Finding]:
    """Findings in priority order: exploited and exposed first, then by deadline and EPSS."""
    qs = visible_findings(person).select_related("asset", "asset__service")
    if f.status:
        qs = qs.filter(status=f.status)
    if f.overdue:
        qs = qs.filter(deadline__lt=clock.now())
    if f.exploited:
        qs = qs.filter(kev=True)
    if f.exposed:
        qs = qs.filter(exposed=True)
    if f.service:
        qs = qs.filter(Q(asset__service__slug=f.service) | Q(asset__service__name=f.service))
    if f.severity:
        qs = qs.filter(severity=f.severity)
    if f.scanner:
        qs = qs.filter(scanner=f.scanner)
    if f.cve:
        qs = qs.filter(cve=f.cve.upper())
    return qs.order_by(
        F("kev").desc(),
        F("exposed").desc(),
        F("deadline").asc(nulls_last=True),
        F("epss").desc(nulls_last=True),
        "id",
    )


def findings_summary() -> dict[str, int]:
    now = clock.now()
    present = Finding.objects.filter(status=Status.OPEN)
    return {
        "open": present.count(),
        "exploited": present.filter(kev=True).count(),
        "exploited_and_exposed": present.filter(kev=True, exposed=True).count(),
        "overdue": present.filter(deadline__lt=now).count(),
        "needs_analyst": present.filter(needs_analyst=True).count(),
        "accepted": Finding.objects.filter(status=Status.ACCEPTED).count(),
        "fixed": Finding.objects.filter(status=Status.FIXED).count(),
    }


# ---------------------------------------------------------------------- keyset pagination


def _encode_cursor(f: Finding) -> str:
    key = [int(f.kev), int(f.exposed), f.deadline.isoformat() if f.deadline else None, f.pk]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[bool, bool, dt.datetime | None, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kev, exposed, deadline, pk = json.loads(base64.urlsafe_b64decode(padded))
        moment = dt.datetime.fromisoformat(deadline) if deadline is not None else None
        return bool(kev), bool(exposed), moment, int(pk)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise InputError("not a cursor this API issued", field="cursor") from None


def findings_page(
    f: FindingFilter, person: Person | None, *, cursor: str | None, limit: int
) -> tuple[list[Finding], str | None]:
    """One page in priority order (KEV, exposed, deadline — none last, id), by keyset: the cost
    of a page does not grow with its depth."""
    qs = findings_query(f, person).order_by(
        F("kev").desc(), F("exposed").desc(), F("deadline").asc(nulls_last=True), "id"
    )
    if cursor:
        kev, exposed, deadline, pk = _decode_cursor(cursor)
        if deadline is None:
            after_deadline = Q(deadline__isnull=True, id__gt=pk)
        else:
            after_deadline = (
                Q(deadline__gt=deadline)
                | Q(deadline__isnull=True)
                | Q(deadline=deadline, id__gt=pk)
            )
        qs = qs.filter(
            Q(kev__lt=kev)
            | Q(kev=kev, exposed__lt=exposed)
            | (Q(kev=kev, exposed=exposed) & after_deadline)
        )
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode_cursor(rows[-1]) if more and rows else None)
