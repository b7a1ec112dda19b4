"""Trends over the last twelve months, for the trends page both leaders' homes link to.

Four figures, each month by month (the running month is judged as of now, "month to date"):

- **open findings by severity** at each month's end: the board report's "open" rule
  (``dashboards.exposure_trend``: first seen before the edge, not closed by it, not a false
  positive), split by severity, so the severities add up to the board's open count;
- **time to remediate** (days from first sighting to the fix) of the findings fixed or mitigated
  in the twelve months, by severity and by service (mean and count, computed by the database);
- **deadline compliance** at each month's end: ``dashboards.compliance_at``, the board report's
  and the CISO page's function;
- **exposure-days of deferrals** accrued in each month: for every finding a signed acceptance
  covers, the days it stayed open past its deadline while the acceptance was in force (the
  signed risk the organisation carried), summed over the month.

What a person sees is scoped like their other pages (``visible_findings``,
``visible_acceptances``); the figures are cached for a minute under the audit trail's head, like
the dashboards'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from detente.acceptances.models import AcceptanceFinding
from detente.acceptances.selectors import visible_acceptances
from detente.core import clock
from detente.findings.models import Finding, SeverityLevel, Status
from detente.findings.selectors import visible_findings
from detente.people.models import Person
from detente.reports.dashboards import SeriesPoint, _cached, compliance_at

MONTHS = 12
SEVERITIES = tuple(SeverityLevel.values)  # critical, high, medium, low, info
REMEDIATED = (Status.FIXED, Status.MITIGATED)
SERVICES_SHOWN = 10
DAY_S = 86400.0


@dataclass(frozen=True)
class Month:
    """A month of the trend: its label (YYYY-MM) and the edge its figures are taken at (the
    month's end, or now for the running month)."""

    label: str
    edge: dt.datetime
    month_to_date: bool = False


@dataclass(frozen=True)
class SeverityRow:
    label: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Remediation:
    """Findings fixed in the window under one heading (a severity or a service)."""

    label: str
    fixed: int
    mean_days: float


@dataclass
class Trends:
    months: list[Month]
    open_by_severity: list[SeverityRow]
    remediation_by_severity: list[Remediation]
    remediation_by_service: list[Remediation]
    compliance: list[SeriesPoint]
    deferral_exposure: list[SeriesPoint]
    since: dt.datetime
    as_of: dt.datetime
    services_total: int = 0
    severities: tuple[str, ...] = field(default=SEVERITIES)


def month_edges(now: dt.datetime, months: int = MONTHS) -> list[Month]:
    """The last ``months`` calendar months (UTC) ending with the running one."""
    first = dt.datetime(now.year, now.month, 1, tzinfo=dt.UTC)
    starts = [first]
    for _ in range(months - 1):
        prev = starts[0] - dt.timedelta(days=1)
        starts.insert(0, dt.datetime(prev.year, prev.month, 1, tzinfo=dt.UTC))
    out = []
    for n, start in enumerate(starts):
        running = n == len(starts) - 1
        end = now if running else starts[n + 1]
        out.append(Month(f"{start:%Y-%m}", end, running))
    return out


def open_by_severity(findings: QuerySet[Finding], edges: list[Month]) -> list[SeverityRow]:
    """Open findings of each severity at each edge, in one pass (conditional counts)."""
    if not edges:
        return []
    base = findings.exclude(status=Status.FALSE_POSITIVE)
    aggregates: dict[str, Count] = {}
    for n, month in enumerate(edges):
        present = Q(first_seen__lt=month.edge) & ~Q(closed_at__lt=month.edge)
        for s, severity in enumerate(SEVERITIES):
            aggregates[f"e{n}s{s}"] = Count("id", filter=present & Q(severity=severity))
    got = base.aggregate(**aggregates)
    return [
        SeverityRow(
            month.label,
            {severity: got[f"e{n}s{s}"] for s, severity in enumerate(SEVERITIES)},
        )
        for n, month in enumerate(edges)
    ]


def _remediated(
    findings: QuerySet[Finding], since: dt.datetime, until: dt.datetime
) -> QuerySet[Finding]:
    return findings.filter(
        status__in=REMEDIATED,
        closed_at__gte=since,
        closed_at__lt=until,
    ).filter(closed_at__gte=F("first_seen"))


def _rows(groups: list[dict[str, object]], key: str) -> list[Remediation]:
    out = []
    for g in groups:
        took = g["took"]
        days = took.total_seconds() / DAY_S if isinstance(took, dt.timedelta) else 0.0
        out.append(Remediation(str(g[key] or "(no service)"), int(str(g["fixed"])), round(days, 1)))
    return out


_TOOK = ExpressionWrapper(F("closed_at") - F("first_seen"), output_field=DurationField())


def remediation_by_severity(
    findings: QuerySet[Finding], since: dt.datetime, until: dt.datetime
) -> list[Remediation]:
    """Mean days from first sighting to the fix, per severity, of the findings fixed (or
    mitigated) in [since, until); severities with no fix are left out."""
    groups = list(
        _remediated(findings, since, until)
        .values("severity")
        .annotate(fixed=Count("id"), took=Avg(_TOOK))
        .order_by()
    )
    rows = {r.label: r for r in _rows(groups, "severity")}
    return [rows[s] for s in SEVERITIES if s in rows]


def remediation_by_service(
    findings: QuerySet[Finding], since: dt.datetime, until: dt.datetime
) -> list[Remediation]:
    """The same per service, slowest first."""
    groups = list(
        _remediated(findings, since, until)
        .values("asset__service__name")
        .annotate(fixed=Count("id"), took=Avg(_TOOK))
        .order_by()
    )
    return sorted(_rows(groups, "asset__service__name"), key=lambda r: (-r.mean_days, r.label))


def deferral_exposure(person: Person | None, edges: list[Month]) -> list[SeriesPoint]:
    """Exposure-days accrued in each month by findings past their deadline while a signed
    acceptance deferred them (acceptances cover few findings: read in one query, summed here)."""
    acceptances = visible_acceptances(person) if person is not None else None
    rows = AcceptanceFinding.objects.filter(acceptance__approved_at__isnull=False)
    if acceptances is not None:
        rows = rows.filter(acceptance__in=acceptances)
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    for approved, expires, ended, deadline, fixed, status in rows.values_list(
        "acceptance__approved_at",
        "acceptance__expires_at",
        "acceptance__closed_at",
        "finding__deadline",
        "finding__closed_at",
        "finding__status",
    ):
        if approved is None or deadline is None or status == Status.FALSE_POSITIVE:
            continue
        start = max(approved, deadline)
        stop = min(t for t in (expires, ended, fixed) if t is not None)
        if stop > start:
            spans.append((start, stop))
    out = []
    for n, month in enumerate(edges):
        begin = edges[n - 1].edge if n else _month_start(month)
        days = sum(
            max(0.0, (min(stop, month.edge) - max(start, begin)).total_seconds())
            for start, stop in spans
        )
        out.append(SeriesPoint(month.label, round(days / DAY_S, 1)))
    return out


def _month_start(month: Month) -> dt.datetime:
    year, number = (int(part) for part in month.label.split("-"))
    return dt.datetime(year, number, 1, tzinfo=dt.UTC)


def trends(person: Person | None = None, *, now: dt.datetime | None = None) -> Trends:
    """The twelve months' figures of what ``person`` sees (everything for ``None``)."""
    moment = now or clock.now()
    edges = month_edges(moment)
    findings = visible_findings(person) if person is not None else Finding.objects.all()
    since = _month_start(edges[0])
    by_service = remediation_by_service(findings, since, moment)
    return Trends(
        months=edges,
        open_by_severity=open_by_severity(findings, edges),
        remediation_by_severity=remediation_by_severity(findings, since, moment),
        remediation_by_service=by_service[:SERVICES_SHOWN],
        services_total=len(by_service),
        compliance=[
            SeriesPoint(m.label, p.value)
            for m, p in zip(edges, compliance_at(findings, [m.edge for m in edges]), strict=True)
        ],
        deferral_exposure=deferral_exposure(person, edges),
        since=since,
        as_of=moment,
    )


def cached_trends(person: Person) -> Trends:
    """``trends(person)``, kept a minute under the audit trail's head (see ``dashboards``)."""
    now = clock.now()
    return _cached("trends", person, lambda: trends(person, now=now))
