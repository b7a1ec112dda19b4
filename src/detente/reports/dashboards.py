"""The figures behind the CISO and CIO views. Pages and the PDF board report both call these, so
a number means the same thing wherever it appears."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.core.cache import cache
from django.db.models import Case, Count, F, Min, Q, QuerySet, Value, When

from detente.acceptances.models import AcceptanceFinding, AcceptanceStatus, RiskAcceptance
from detente.acceptances.selectors import awaiting_signature_of, expiring, visible_acceptances
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.findings.models import Finding, ScanImport, Status
from detente.findings.selectors import visible_findings
from detente.people.models import Person, Role

T = TypeVar("T")


@dataclass(frozen=True)
class SeriesPoint:
    label: str
    value: float


@dataclass(frozen=True)
class ExposurePoint:
    """Findings open at a moment: all of them, the KEV-listed ones, the ones past deadline."""

    label: str
    open: int
    kev: int
    overdue: int


@dataclass(frozen=True)
class ServiceLoad:
    service: str
    due_this_month: int
    overdue: int
    exploited: int
    risk_score: int


@dataclass(frozen=True)
class DeferralCost:
    acceptance: RiskAcceptance
    findings: int
    exposure_days: int  # Σ over covered findings of days deferred beyond each one's deadline
    weighted: float  # the same, weighted by KEV (×3), exposure (×2) and EPSS


@dataclass
class CisoView:
    open: int
    exploited_exposed: list[Finding]
    overdue: int
    overdue_findings: list[Finding]
    needs_analyst: int
    awaiting_my_signature: list[RiskAcceptance]
    awaiting_signatures: int
    expiring: list[RiskAcceptance]
    compliance: list[SeriesPoint] = field(default_factory=list)


@dataclass
class CioView:
    by_service: list[ServiceLoad]
    requested: list[RiskAcceptance]
    expiring: list[RiskAcceptance]
    costs: list[DeferralCost]
    due_this_month: int


def _month_end(now: dt.datetime) -> dt.datetime:
    first_next = (now.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_next.replace(hour=0, minute=0, second=0, microsecond=0)


def exposure_trend(
    edges: list[dt.datetime], findings: QuerySet[Finding] | None = None
) -> list[ExposurePoint]:
    """Open, KEV-listed open and overdue findings at each edge, in one pass over the findings
    (conditional counts, one per edge). Open at an edge: first seen before it, not closed by it,
    not a false positive."""
    if not edges:
        return []
    base = (findings if findings is not None else Finding.objects.all()).exclude(
        status=Status.FALSE_POSITIVE
    )
    aggregates: dict[str, Count] = {}
    for n, edge in enumerate(edges):
        present = Q(first_seen__lt=edge) & ~Q(closed_at__lt=edge)
        aggregates[f"o{n}"] = Count("id", filter=present)
        aggregates[f"k{n}"] = Count("id", filter=present & Q(kev=True))
        aggregates[f"d{n}"] = Count("id", filter=present & Q(deadline__lt=edge))
    got = base.aggregate(**aggregates)
    deferred = _deferred_overdue(edges) if findings is None else [0] * len(edges)
    return [
        ExposurePoint(
            edge.date().isoformat(), got[f"o{n}"], got[f"k{n}"], got[f"d{n}"] - deferred[n]
        )
        for n, edge in enumerate(edges)
    ]


def _deferred_overdue(edges: list[dt.datetime]) -> list[int]:
    """At each edge, the findings past their deadline but deferred by an acceptance approved and
    in force then: signed risk is not overdue (the radar's rule, ``tension.signals``), so the
    board's overdue count is the radar's and the CISO page's. Acceptances cover few findings."""
    rows = list(
        AcceptanceFinding.objects.filter(acceptance__approved_at__isnull=False).values_list(
            "finding_id", "acceptance__approved_at", "acceptance__expires_at",
            "acceptance__closed_at", "finding__first_seen", "finding__closed_at",
            "finding__status", "finding__deadline",
        )
    )  # fmt: skip
    out = []
    for edge in edges:
        ids = {
            finding
            for finding, approved, expires, closed, first_seen, gone, status, deadline in rows
            if approved is not None
            and approved < edge <= expires
            and (closed is None or closed >= edge)
            and first_seen < edge
            and (gone is None or gone >= edge)
            and status != Status.FALSE_POSITIVE
            and deadline is not None
            and deadline < edge
        }
        out.append(len(ids))
    return out


def deadline_compliance(
    findings: QuerySet[Finding], *, weeks: int = 12, until: dt.datetime | None = None
) -> list[SeriesPoint]:
    """For each of the ``weeks`` weeks up to ``until`` (default now): the share (%) of the
    findings due by then that were fixed by their deadline or deferred by a signed acceptance,
    rather than late."""
    now = until if until is not None else clock.now()
    return compliance_at(
        findings, [now - dt.timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    )


def compliance_at(findings: QuerySet[Finding], edges: list[dt.datetime]) -> list[SeriesPoint]:
    """Deadline compliance (%) at each edge (see ``deadline_compliance``), in one pass: findings
    are grouped by the first edge their deadline and their first sighting fall before, and each
    point sums the groups at or before it."""
    if not edges:
        return []
    order = sorted(range(len(edges)), key=edges.__getitem__)
    ordered = [edges[i] for i in order]

    def bucket(column: str) -> Case:
        return Case(
            *(When(**{f"{column}__lte": edge}, then=Value(n)) for n, edge in enumerate(ordered)),
            default=Value(len(ordered)),
        )

    # Late: still open past the deadline, or closed only after it. Accepted risks are deferred
    # by signature, not late.
    late = Q(status=Status.OPEN) | Q(closed_at__isnull=False, closed_at__gt=F("deadline"))
    groups = (
        findings.filter(deadline__lte=ordered[-1], first_seen__lte=ordered[-1])
        .annotate(d=bucket("deadline"), s=bucket("first_seen"))
        .values("d", "s")
        .annotate(total=Count("id"), late=Count("id", filter=late))
        .order_by()
    )
    totals = [0] * len(ordered)
    lates = [0] * len(ordered)
    for g in groups:
        first = max(g["d"], g["s"])  # due by an edge: deadline and first sighting both before it
        if first < len(ordered):
            totals[first] += g["total"]
            lates[first] += g["late"]
    points: dict[int, SeriesPoint] = {}
    total = late_count = 0
    for n, edge in enumerate(ordered):
        total += totals[n]
        late_count += lates[n]
        share = 100.0 if total == 0 else round(100.0 * (total - late_count) / total, 1)
        points[order[n]] = SeriesPoint(edge.date().isoformat(), share)
    return [points[i] for i in range(len(edges))]


# ---------------------------------------------------------------- cached figures
#
# The counts behind the dashboards read every open finding (and, for compliance, every finding
# due in the last twelve weeks): a second or more at a million findings. They are computed in one
# pass and kept in the shared cache for a minute under the audit trail's head: every change that
# moves a figure (import, acceptance, policy, intel, exposure) writes an audit event, so a change
# is seen on the next request; the key also holds the minute, so time moving on is seen within
# a minute (and at once when a test moves the clock).

FIGURES_TTL_S = 60


def _data_version() -> int:
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return head or 0


def _scope(person: Person) -> str:
    return f"owner-{person.pk}" if person.owner_scoped else "all"


def _cached(name: str, person: Person, compute: Callable[[], T]) -> T:
    minute = int(clock.now().timestamp() // FIGURES_TTL_S)
    key = f"detente:{name}:{_scope(person)}:{_data_version()}:{minute}"
    got: T | None = cache.get(key)
    if got is None:
        got = compute()
        cache.set(key, got, FIGURES_TTL_S)
    return got


@dataclass(frozen=True)
class CisoFigures:
    open: int
    overdue: int
    needs_analyst: int
    compliance: list[SeriesPoint]


def _ciso_figures(person: Person, now: dt.datetime) -> CisoFigures:
    counts = (
        visible_findings(person)
        .filter(status=Status.OPEN)
        .aggregate(
            open=Count("id"),
            overdue=Count("id", filter=Q(deadline__lt=now)),
            needs_analyst=Count("id", filter=Q(needs_analyst=True)),
        )
    )
    return CisoFigures(
        open=counts["open"],
        overdue=counts["overdue"],
        needs_analyst=counts["needs_analyst"],
        compliance=deadline_compliance(visible_findings(person), until=now),
    )


def cached_ciso_figures(person: Person) -> CisoFigures:
    """Open, overdue and needs-an-analyst counts (and compliance) of what ``person`` sees."""
    now = clock.now()
    return _cached("ciso", person, lambda: _ciso_figures(person, now))


def ciso_view(person: Person) -> CisoView:
    now = clock.now()
    open_ = (
        visible_findings(person)
        .filter(status=Status.OPEN)
        .select_related("asset", "asset__service")
    )
    figures = _cached("ciso", person, lambda: _ciso_figures(person, now))
    pending = visible_acceptances(person).filter(status=AcceptanceStatus.REQUESTED).count()
    return CisoView(
        open=figures.open,
        # priority 0: KEV-listed and exposed (Finding.priority); the index serves this order.
        exploited_exposed=list(open_.filter(priority=0).order_by("due", "id")[:20]),
        overdue=figures.overdue,
        overdue_findings=list(open_.filter(deadline__lt=now).order_by("deadline", "id")[:10]),
        needs_analyst=figures.needs_analyst,
        awaiting_my_signature=awaiting_signature_of(person),
        awaiting_signatures=pending,
        expiring=expiring(person),
        compliance=figures.compliance,
    )


def deferral_costs(acceptances: QuerySet[RiskAcceptance]) -> list[DeferralCost]:
    costs = []
    for acceptance in acceptances.prefetch_related("items__finding"):
        end = acceptance.expires_at
        days = 0
        weighted = 0.0
        findings = [item.finding for item in acceptance.items.all()]
        for f in findings:
            if f.deadline is None or f.deadline >= end:
                continue
            extra = (end - f.deadline).days
            days += extra
            weight = (3.0 if f.kev else 1.0) * (2.0 if f.exposed else 1.0) * (1.0 + (f.epss or 0))
            weighted += extra * weight
        costs.append(DeferralCost(acceptance, len(findings), days, round(weighted, 1)))
    return sorted(costs, key=lambda c: c.weighted, reverse=True)


def _service_loads(person: Person, now: dt.datetime) -> list[ServiceLoad]:
    month_end = _month_end(now)
    findings = visible_findings(person).filter(status=Status.OPEN)
    rows = (
        findings.values("asset__service__name")
        .annotate(
            due=Count("id", filter=Q(deadline__lt=month_end)),
            overdue=Count("id", filter=Q(deadline__lt=now)),
            exploited=Count("id", filter=Q(kev=True)),
            first=Min("deadline"),
        )
        .order_by("asset__service__name")
    )
    loads = [
        ServiceLoad(
            service=r["asset__service__name"] or "(no service)",
            due_this_month=r["due"],
            overdue=r["overdue"],
            exploited=r["exploited"],
            risk_score=r["overdue"] * 3 + r["exploited"] * 5 + r["due"],
        )
        for r in rows
    ]
    return sorted(loads, key=lambda s: s.risk_score, reverse=True)


def cio_view(person: Person) -> CioView:
    now = clock.now()
    loads = _cached("cio", person, lambda: _service_loads(person, now))
    # A service owner is shown only the acceptances their pages answer for (no link that 404s).
    visible = visible_acceptances(person)
    approved = visible.filter(status=AcceptanceStatus.APPROVED)
    return CioView(
        by_service=loads,
        requested=list(visible.filter(status=AcceptanceStatus.REQUESTED)[:20]),
        expiring=expiring(person),
        costs=deferral_costs(approved)[:20],
        due_this_month=sum(load.due_this_month for load in loads),
    )


def home_for(person: Person) -> str:
    """The leaders land on their view; everyone else on their own work ("My work")."""
    return {Role.CIO: "cio", Role.CISO: "ciso"}.get(Role(person.role), "mywork")


def recent_imports(limit: int = 10) -> list[ScanImport]:
    return list(ScanImport.objects.all()[:limit])


@dataclass(frozen=True)
class PlanSummary:
    plan_id: int
    made_at: dt.datetime
    items: int
    planned: int
    missed: int
    exposure_days: float
    acceptances_needed: int


def plan_summary_for_cio() -> PlanSummary | None:
    """The current patch plan in the CIO's terms: deadlines at risk and what they cost."""
    from detente.planning.selectors import plan_current, plan_items

    plan = plan_current()
    if plan is None:
        return None
    return PlanSummary(
        plan_id=plan.pk,
        made_at=plan.made_at,
        items=plan.items,
        planned=plan.planned,
        missed=plan_items(plan, missed_only=True).count(),
        exposure_days=plan.exposure_days,
        acceptances_needed=int(plan.summary.get("acceptances_needed") or 0),
    )
