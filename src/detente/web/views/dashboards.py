"""The leaders' homes, each person's own work and the trends."""

from __future__ import annotations

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from detente.acceptances.selectors import (
    requested_by,
)
from detente.audit.selectors import audit_recent
from detente.core import clock
from detente.findings.models import SeverityLevel
from detente.findings.selectors import (
    visible_findings,
)
from detente.incidents.selectors import incidents_of
from detente.people.models import Person, Role
from detente.reports.charts import bar_chart, stacked_bar_chart
from detente.reports.dashboards import (
    SeriesPoint,
    cio_view,
    ciso_view,
    home_for,
    plan_summary_for_cio,
)
from detente.reports.needs import Needs, needs_for
from detente.reports.trends import cached_trends
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico: point them at the icon among the static files."""
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


@signed_in
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(reverse(f"web:{home_for(actor(request))}"))


def _needs(person: Person, role: str) -> Needs | None:
    """The "needs you now" block, on the viewer's own home only."""
    return needs_for(person) if person.role == role else None  # the primary role's home


@signed_in
@require_GET
def ciso(request: HttpRequest) -> HttpResponse:
    person = actor(request)
    view = ciso_view(person)
    chart = bar_chart(view.compliance, title="Deadline compliance by week", unit="%", maximum=100)
    return render_page(
        request,
        "ciso.html",
        {"view": view, "chart": mark_safe(chart), "needs": _needs(person, Role.CISO)},  # noqa: S308 - escaped SVG
    )


@signed_in
@require_GET
def cio(request: HttpRequest) -> HttpResponse:
    person = actor(request)
    return render_page(
        request,
        "cio.html",
        {
            "view": cio_view(person),
            "patch_plan": plan_summary_for_cio(),
            "needs": _needs(person, Role.CIO),
        },
    )


SEVERITY_COLOURS = {
    "critical": "#a51d2d", "high": "#d9480f", "medium": "#b08800", "low": "#3b5bdb",
    "info": "#868e96",
}  # fmt: skip


@signed_in
@require_GET
def trends(request: HttpRequest) -> HttpResponse:
    """Twelve months of trends (``reports.trends``), each chart with its table."""
    t = cached_trends(actor(request))
    labels = [m.label for m in t.months]
    severity = stacked_bar_chart(
        labels,
        [
            (SeverityLevel(s).label, SEVERITY_COLOURS[s], [r.counts[s] for r in t.open_by_severity])
            for s in t.severities
        ],
        title="Open findings by severity at each month's end",
        tick_chars=7,
    )
    points = [SeriesPoint(r.label, r.mean_days) for r in t.remediation_by_severity]
    services = [SeriesPoint(r.label, r.mean_days) for r in t.remediation_by_service]
    charts = {
        "severity": severity,
        "ttr_severity": bar_chart(
            [SeriesPoint(SeverityLevel(p.label).label, p.value) for p in points],
            title="Mean days to remediate by severity",
            unit=" d",
            tick_chars=8,
        ),
        "ttr_service": bar_chart(
            services, title="Mean days to remediate by service", unit=" d", tick_chars=10
        ),
        "compliance": bar_chart(
            t.compliance,
            title="Deadline compliance at each month's end",
            unit="%",
            maximum=100,
            tick_chars=7,
        ),
        "deferrals": bar_chart(
            t.deferral_exposure,
            title="Exposure-days of signed deferrals by month",
            unit=" d",
            tick_chars=7,
        ),
    }
    rows = [
        {
            "month": m,
            "severity": r,
            "compliance": c.value,
            "deferral": d.value,
        }
        for m, r, c, d in zip(
            t.months, t.open_by_severity, t.compliance, t.deferral_exposure, strict=True
        )
    ]
    return render_page(
        request,
        "trends.html",
        {
            "t": t,
            "rows": rows,
            "charts": {k: mark_safe(v) for k, v in charts.items()},  # noqa: S308 - escaped SVG
            "severity_labels": [SeverityLevel(s).label for s in t.severities],
        },
    )


@signed_in
@require_GET
def mywork(request: HttpRequest) -> HttpResponse:
    """Staff's home: what needs them now, their requests, their incidents, their overdue work."""
    person = actor(request)
    overdue = (
        visible_findings(person)
        .filter(status="open", deadline__lt=clock.now())
        .select_related("asset", "asset__service")
        .order_by("priority", "deadline", "id")[:10]
    )
    return render_page(
        request,
        "mywork.html",
        {
            "needs": needs_for(person),
            "requests": requested_by(person, limit=10),
            "incidents": incidents_of(person),
            "overdue": list(overdue) if not person.has_role(Role.AUDITOR) else [],
            "recent": audit_recent(limit=10) if person.has_role(Role.AUDITOR) else [],
        },
    )
