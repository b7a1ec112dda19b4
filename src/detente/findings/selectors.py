"""Reading findings: what matters first, with filters."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from detente.core import clock
from detente.findings.models import Finding, Status

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


def findings_query(f: FindingFilter) -> QuerySet[Finding]:
    """Findings in priority order: exploited and exposed first, then by deadline and EPSS."""
    qs = Finding.objects.select_related("asset", "asset__service")
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
