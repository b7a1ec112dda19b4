"""The quarterly board report: the figures of one quarter, rendered to HTML and PDF.

``board_figures(quarter)`` assembles the numbers (reads only); ``render_html`` fills the template
``reports/board.html`` (a Django template engine of its own pointed at this package's templates,
so the report needs no web app); ``render_pdf`` prints that HTML with WeasyPrint. The exposure and
compliance series come from ``dashboards`` and the charts from ``charts.bar_chart`` — the same
functions the CISO and CIO pages use, so a number means the same thing in both places.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import Q
from django.template import Context, Engine
from django.utils.safestring import mark_safe

from detente.acceptances.models import AcceptanceStatus, RiskAcceptance
from detente.api_register.selectors import exposed_api_lines
from detente.core import clock
from detente.core.errors import InputError
from detente.core.pdf import html_to_pdf
from detente.decisions.models import DecisionRecord, DecisionStatus
from detente.findings.models import Finding
from detente.gates.selectors import coverage as gate_coverage
from detente.inventory.models import BusinessService
from detente.reports.charts import bar_chart
from detente.reports.dashboards import (
    ExposurePoint,
    SeriesPoint,
    compliance_at,
    exposure_trend,
)
from detente.reports.initiatives import board_initiatives
from detente.tension.selectors import snapshots, top_signals
from detente.tension.signals import Period

TEMPLATES = Path(__file__).resolve().parent / "templates"
EXPIRY_HORIZON = dt.timedelta(days=30)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = re.fullmatch(r"(\d{4})-Q([1-4])", text.strip().upper())
        if match is None:
            raise InputError(f"a quarter is YYYY-Qn (n = 1-4), not {text!r}", field="period")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: dt.datetime) -> Quarter:
        return cls(moment.year, (moment.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def months(self) -> list[Period]:
        first = Period(self.year, 3 * self.number - 2)
        return first.until(Period(self.year, 3 * self.number))

    @property
    def start(self) -> dt.datetime:
        return self.months[0].start

    @property
    def end(self) -> dt.datetime:
        return self.months[-1].end


@dataclass(frozen=True)
class AcceptanceRow:
    id: int
    title: str
    status: str
    expires_at: dt.datetime
    renewals: int
    waiting_for: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DecisionRow:
    id: int
    title: str
    pressure_point: str
    escalation: str
    created_at: dt.datetime
    age_days: int


@dataclass(frozen=True)
class RadarMonth:
    period: str
    index: float
    zone: str
    raw_zone: str


@dataclass
class BoardFigures:
    """Everything the board report shows for one quarter, as of ``as_of`` (the quarter's end, or
    now while the quarter runs)."""

    quarter: str
    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime
    generated_at: dt.datetime
    # Exposure: open / KEV / overdue findings at each week's end of the quarter.
    exposure: list[ExposurePoint]
    # Deadline compliance (%) by week, the same series as the CISO page.
    compliance: list[SeriesPoint]
    # Acceptances.
    requested: int
    renewed: int
    approved: int
    rejected: int
    expired: int
    in_force: int
    expiring: list[AcceptanceRow]  # the first 20
    expiring_total: int
    # The radar.
    radar: list[RadarMonth]
    zone: str  # of the last computed month of the quarter, "not computed" without one
    index: float | None
    triggers: list[dict[str, Any]]
    top_signals: list[dict[str, Any]]
    missing_months: list[str]
    # Decisions needed.
    open_decisions: list[DecisionRow]  # the oldest 30
    open_decisions_total: int
    awaiting_signatures: list[AcceptanceRow]  # the oldest 30
    awaiting_total: int
    # The API register: one line per exposed API (its state now; see docs/api-register.md).
    exposed_apis: list[dict[str, Any]] = field(default_factory=list)
    # The release gate in the quarter: one line per service whose pipelines ran it (see
    # gate_lines), and the active services whose pipelines never did.
    gate: list[dict[str, Any]] = field(default_factory=list)
    gate_missing: list[str] = field(default_factory=list)

    @property
    def last_day(self) -> dt.date:
        """The last day the figures cover (``as_of`` is exclusive)."""
        return (self.as_of - dt.timedelta(microseconds=1)).date()

    @property
    def last_exposure(self) -> ExposurePoint:
        return self.exposure[-1] if self.exposure else ExposurePoint("", 0, 0, 0)

    @property
    def last_compliance(self) -> float | None:
        return self.compliance[-1].value if self.compliance else None


def _week_edges(start: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    """Every seventh day from ``start``, then ``until`` itself (a week ending less than four days
    before ``until`` merges into it: a quarter has 13 points, not 13 and a day)."""
    edges, edge = [], start + dt.timedelta(days=7)
    while edge <= until - dt.timedelta(days=4):
        edges.append(edge)
        edge += dt.timedelta(days=7)
    edges.append(until)
    return edges


def _acceptance_row(a: RiskAcceptance) -> AcceptanceRow:
    signed = {s.role for s in a.signatures.all()}
    waiting = [r for r in a.required_roles if r not in signed]
    return AcceptanceRow(a.pk, a.title, a.status, a.expires_at, a.renewals, waiting)


def gate_lines(start: dt.datetime, until: dt.datetime) -> tuple[list[dict[str, Any]], list[str]]:
    """The release gate in ``[start, until)``: per service that ran it, its runs and how they
    ended (a run overridden after ``until`` counts as blocked), the scan kinds they carried and
    the hours releases waited at the gate; then the active services without a run."""
    rows = [
        {
            "service": c.service.name, "slug": c.service.slug,
            "criticality": c.service.get_criticality_display(), "runs": c.runs,
            "passed": c.passed, "blocked": c.blocked, "overridden": c.overridden,
            "override_rate": round(100 * c.overridden / c.runs) if c.runs else 0,
            "kinds": sorted(c.kinds), "waited": c.waited, "lead_time_hours": c.lead_time_hours,
            "open_overrides": c.pending_overrides,
        }
        for c in gate_coverage(since=start, until=until)
    ]  # fmt: skip
    ran = {r["slug"] for r in rows}
    missing = [
        s.name
        for s in BusinessService.objects.filter(active=True).order_by("name")
        if s.slug not in ran
    ]
    return rows, missing


def board_figures(quarter: Quarter) -> BoardFigures:
    """The quarter's figures. Reads only: months without a radar snapshot are listed as missing
    (``detente report board`` computes them first)."""
    now = clock.now()
    if quarter.start > now:
        raise InputError(f"{quarter.label} has not started yet", field="period")
    start, as_of = quarter.start, min(quarter.end, now)
    weeks = _week_edges(start, as_of)
    within = Q(requested_at__gte=start, requested_at__lt=as_of)
    acceptances = RiskAcceptance.objects.all()
    in_force = acceptances.filter(approved_at__lt=as_of, expires_at__gte=as_of).exclude(
        closed_at__lt=as_of
    )
    expiring = in_force.filter(expires_at__lt=as_of + EXPIRY_HORIZON).order_by("expires_at", "id")
    waiting = (
        acceptances.filter(status=AcceptanceStatus.REQUESTED, requested_at__lt=as_of)
        .prefetch_related("signatures")
        .order_by("requested_at", "id")
    )
    months = [p for p in quarter.months if p.start < as_of]
    shots = snapshots(months[0], months[-1]) if months else []
    computed = {s.period for s in shots}
    last = shots[-1] if shots else None
    decisions = (
        DecisionRecord.objects.filter(created_at__lt=as_of)
        .exclude(status=DecisionStatus.DECIDED, decided_at__lt=as_of)
        .order_by("created_at", "id")
    )
    gate = gate_lines(start, as_of)
    return BoardFigures(
        quarter=quarter.label,
        start=start,
        end=quarter.end,
        as_of=as_of,
        generated_at=now,
        exposure=exposure_trend(weeks),
        compliance=compliance_at(Finding.objects.all(), weeks),
        requested=acceptances.filter(within, renewal_of__isnull=True).count(),
        renewed=acceptances.filter(within, renewal_of__isnull=False).count(),
        approved=acceptances.filter(approved_at__gte=start, approved_at__lt=as_of).count(),
        rejected=acceptances.filter(
            status=AcceptanceStatus.REJECTED, closed_at__gte=start, closed_at__lt=as_of
        ).count(),
        expired=acceptances.filter(
            status=AcceptanceStatus.EXPIRED, closed_at__gte=start, closed_at__lt=as_of
        ).count(),
        in_force=in_force.count(),
        expiring=[_acceptance_row(a) for a in expiring.prefetch_related("signatures")[:20]],
        expiring_total=expiring.count(),
        radar=[RadarMonth(s.period, s.index, s.zone, s.raw_zone) for s in shots],
        zone=last.zone if last else "not computed",
        index=last.index if last else None,
        triggers=list(last.triggers) if last else [],
        top_signals=top_signals(last) if last else [],
        missing_months=[p.label for p in months if p.label not in computed],
        open_decisions=[
            DecisionRow(
                d.pk,
                d.title,
                d.get_pressure_point_display(),
                d.get_escalation_level_display(),
                d.created_at,
                (as_of - d.created_at).days,
            )
            for d in decisions[:30]
        ],
        open_decisions_total=decisions.count(),
        awaiting_signatures=[_acceptance_row(a) for a in waiting[:30]],
        awaiting_total=waiting.count(),
        exposed_apis=exposed_api_lines(),
        gate=gate[0],
        gate_missing=gate[1],
    )


# ----------------------------------------------------------------------------- rendering


def _engine() -> Engine:
    return Engine(dirs=[str(TEMPLATES)], autoescape=True)


def charts(figures: BoardFigures) -> dict[str, str]:
    """The report's charts, drawn by the same function as the pages' charts."""
    points = figures.exposure

    def series(attr: str) -> list[SeriesPoint]:
        return [SeriesPoint(p.label, float(getattr(p, attr))) for p in points]

    radar = [
        SeriesPoint(Period.parse(m.period).start.strftime("%b"), round(m.index, 1))
        for m in figures.radar
    ]
    size = 17  # the charts are printed half a page wide
    return {
        "open": bar_chart(series("open"), title="Open findings by week", font_size=size),
        "kev": bar_chart(
            series("kev"), title="Known-exploited (KEV) open findings by week", font_size=size
        ),
        "overdue": bar_chart(series("overdue"), title="Overdue findings by week", font_size=size),
        "compliance": bar_chart(
            figures.compliance,
            title="Deadline compliance by week",
            unit="%",
            maximum=100,
            font_size=size,
        ),
        "radar": bar_chart(
            radar, title="Tension index by month (0-100)", maximum=100, font_size=size
        ),
    }


def render_html(figures: BoardFigures) -> str:
    template = _engine().get_template("reports/board.html")
    drawn = {k: mark_safe(v) for k, v in charts(figures).items()}  # noqa: S308 - escaped SVG
    sections = {"initiatives": board_initiatives()}  # customer-facing rollouts (initiatives)
    return template.render(Context({"f": figures, "charts": drawn} | sections))


def render_pdf(html: str) -> bytes:
    return html_to_pdf(html, base_url=TEMPLATES)


def write_board_report(figures: BoardFigures, folder: Path) -> tuple[Path, Path]:
    """Write ``board-<quarter>.html`` and ``board-<quarter>.pdf`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    html = render_html(figures)
    html_path = folder / f"board-{figures.quarter}.html"
    pdf_path = folder / f"board-{figures.quarter}.pdf"
    html_path.write_text(html, encoding="utf-8")
    pdf_path.write_bytes(render_pdf(html))
    return html_path, pdf_path
