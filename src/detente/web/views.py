"""The pages. Each view parses input, calls one service or selector, and renders; refusals from a
service come back as a message on the same page, with nothing changed."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from detente.acceptances import services as acceptance_services
from detente.acceptances.models import (
    AcceptanceStatus,
    RiskAcceptance,
    ScopeKind,
)
from detente.acceptances.selectors import (
    acceptance_ids_of,
    acceptances_of,
    latest_until,
    requested_by,
    roles_to_sign,
    signature_states,
    visible_acceptances,
)
from detente.audit.selectors import audit_recent, events_about
from detente.audit.services import audit_verify
from detente.core import clock
from detente.core.errors import DetenteError, InputError, NotFound
from detente.core.text import spreadsheet_safe
from detente.decisions.models import EscalationLevel, PressurePoint
from detente.decisions.principles import missing_of
from detente.decisions.selectors import decision_get, decisions_list
from detente.decisions.services import decision_create, decision_decide
from detente.findings.importer import ImportOptions
from detente.findings.models import SeverityLevel, Status
from detente.findings.selectors import (
    FindingFilter,
    finding_get,
    findings_page,
    visible_findings,
    vulnerability_of,
)
from detente.findings.services import upload_import
from detente.incidents.selectors import incidents_of
from detente.inventory.selectors import service_by_slug, services_list
from detente.people.models import Person, Role
from detente.reports.audit_vouchers import VOUCHERS
from detente.reports.charts import bar_chart, stacked_bar_chart
from detente.reports.dashboards import (
    SeriesPoint,
    cio_view,
    ciso_view,
    home_for,
    plan_summary_for_cio,
)
from detente.reports.needs import Needs, needs_count, needs_for
from detente.reports.scoping import visible_audit_events, visible_imports
from detente.reports.trends import cached_trends
from detente.tension.selectors import radar_readable_by
from detente.web.auth import signed_in

PAGE = 50
SEVERITIES = tuple(SeverityLevel.values)


def _person(request: HttpRequest) -> Person:
    person: Person = request.person  # type: ignore[attr-defined]
    return person


# Which navigation entry a page belongs to (marked aria-current="page"), by URL name prefix.
_SECTIONS = (
    ("ciso", "ciso"), ("cio", "cio"), ("mywork", "home"), ("finding", "findings"),
    ("upload", "upload"), ("import", "upload"), ("acceptance", "acceptances"),
    ("decision", "decisions"), ("incident", "incidents"), ("briefing", "incidents"),
    ("plan", "plan"), ("window", "plan"), ("blackout", "plan"), ("radar", "radar"),
    ("profile", "radar"), ("pairing", "radar"), ("pulse", "radar"), ("audit", "audit"),
    ("account", "account"), ("token", "account"), ("totp", "account"), ("api", "apis"),
    ("initiative", "initiatives"), ("gate", "gate"), ("org_", "org"), ("meeting", "meetings"),
    ("reset", "meetings"), ("trends", "radar"),
)  # fmt: skip


def _section(request: HttpRequest, person: Person) -> str:
    name = request.resolver_match.url_name if request.resolver_match else None
    if not name:
        return ""
    if home_for(person) == name:
        return "home"
    return next((section for prefix, section in _SECTIONS if name.startswith(prefix)), "")


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    person = _person(request)
    base = {
        "me": person,
        "can_write": not person.has_role(Role.AUDITOR),
        "now": clock.now(),
        # the home already knows its needs: count them, do not ask twice
        "needs_count": context["needs"].count if context.get("needs") else needs_count(person),
        "section": _section(request, person),
        "radar_visible": radar_readable_by(person),
    }
    return render(request, f"web/{template}", base | context, status=status)


# ---------------------------------------------------------------- dashboards


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico: point them at the icon among the static files."""
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


@signed_in
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(reverse(f"web:{home_for(_person(request))}"))


def _needs(person: Person, role: str) -> Needs | None:
    """The "needs you now" block, on the viewer's own home only."""
    return needs_for(person) if person.role == role else None  # the primary role's home


@signed_in
@require_GET
def ciso(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    view = ciso_view(person)
    chart = bar_chart(view.compliance, title="Deadline compliance by week", unit="%", maximum=100)
    return _render(
        request,
        "ciso.html",
        {"view": view, "chart": mark_safe(chart), "needs": _needs(person, Role.CISO)},  # noqa: S308 - escaped SVG
    )


@signed_in
@require_GET
def cio(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    return _render(
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
    t = cached_trends(_person(request))
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
    return _render(
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
    person = _person(request)
    overdue = (
        visible_findings(person)
        .filter(status="open", deadline__lt=clock.now())
        .select_related("asset", "asset__service")
        .order_by("priority", "deadline", "id")[:10]
    )
    return _render(
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


# ---------------------------------------------------------------- findings


def _filter(request: HttpRequest) -> FindingFilter:
    get = request.GET
    status = get.get("status", "open")
    if status != "any" and status not in Status.values:
        raise InputError(f"unknown status {status!r}", field="status")
    severity = get.get("severity") or None
    if severity is not None and severity not in SEVERITIES:
        raise InputError(f"unknown severity {severity!r}", field="severity")
    return FindingFilter(
        overdue=get.get("overdue") == "1",
        exploited=get.get("exploited") == "1",
        exposed=get.get("exposed") == "1",
        service=get.get("service") or None,
        status=None if status == "any" else status,
        severity=get.get("severity") or None,
        cve=get.get("cve") or None,
    )


@signed_in
@require_GET
def findings(request: HttpRequest) -> HttpResponse:
    rows, cursor = findings_page(
        _filter(request), _person(request), cursor=request.GET.get("cursor"), limit=PAGE
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    next_query = None
    if cursor:
        query["cursor"] = cursor
        next_query = query.urlencode()
    return _render(
        request,
        "findings.html",
        {
            "rows": rows,
            "next_query": next_query,
            "filters": request.GET,
            "services": services_list(),
            "severities": list(SEVERITIES),
            "statuses": [
                (key, Status(key).label if key != "any" else "Any")
                for key in ("open", "accepted", "fixed", "false_positive", "mitigated", "any")
            ],
            "csv_query": request.GET.urlencode(),
        },
    )


@signed_in
@require_GET
def findings_csv(request: HttpRequest) -> HttpResponseBase:
    from detente.findings.selectors import findings_query

    query = findings_query(_filter(request), _person(request))

    class Echo:
        def write(self, value: str) -> str:
            return value

    def lines() -> Iterator[str]:
        writer = csv.writer(Echo())
        yield writer.writerow(
            ["id", "severity", "vuln_id", "kev", "epss", "exposed", "asset", "service",
             "component", "version", "fixed_in", "deadline", "deadline_class", "status"]
        )  # fmt: skip
        for f in query.iterator(chunk_size=2000):
            yield writer.writerow(
                [spreadsheet_safe(v) for v in (
                    f.pk, f.severity, f.vuln_id, f.kev, f.epss, f.exposed, f.asset.identifier,
                    f.asset.service.slug if f.asset.service else "", f.component,
                    f.component_version, f.fixed_in,
                    f.deadline.isoformat() if f.deadline else "", f.deadline_class, f.status,
                )]
            )  # fmt: skip

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="findings.csv"'
    return response


@signed_in
@require_GET
def finding_detail(request: HttpRequest, finding_id: int) -> HttpResponse:
    try:
        f = finding_get(finding_id, _person(request))
    except NotFound:
        return _render(
            request, "error.html", {"message": f"Finding {finding_id} does not exist."}, 404
        )
    history = events_about("acceptance", acceptance_ids_of(f))
    return _render(
        request,
        "finding.html",
        {
            "f": f,
            "reason": f.reason,
            "vuln": vulnerability_of(f),
            "acceptances": acceptances_of(f),
            "history": history,
        },
    )


# ---------------------------------------------------------------- imports


@signed_in
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if request.method == "GET":
        return _render(
            request,
            "upload.html",
            {
                "services": services_list(),
                "recent": visible_imports(_person(request))[:10],
            },
        )
    person = _person(request)
    file = request.FILES.get("file")
    try:
        if file is None:
            raise InputError("choose a scanner file to upload", field="file")
        service = request.POST.get("service") or None
        options = ImportOptions(
            fmt=request.POST.get("format") or None,
            service=service_by_slug(service) if service else None,
            asset_name=request.POST.get("asset") or None,
            asset_kind=request.POST.get("asset_kind") or "application",
        )
        scan = upload_import(
            chunks=file.chunks(), name=file.name, size=file.size, actor=person, options=options
        )
    except DetenteError as exc:
        if wants_json:
            return JsonResponse(
                {"error": {"code": exc.code, "message": str(exc)}}, status=exc.http_status
            )
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("web:upload"))
    url = reverse("web:import", args=[scan.pk])
    if wants_json:
        return JsonResponse(
            {"id": scan.pk, "url": url, "file": scan.file_name, "format": scan.format,
             "parsed": scan.parsed, "new": scan.new, "unchanged": scan.unchanged,
             "reopened": scan.reopened, "closed": scan.closed, "duration_ms": scan.duration_ms,
             "duplicates": scan.duplicates, "skipped": scan.skipped, "notes": scan.notes},
            status=201,
        )  # fmt: skip
    return HttpResponseRedirect(url)


@signed_in
@require_GET
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    scan = visible_imports(_person(request)).filter(pk=import_id).first()
    if scan is None:
        return _render(
            request, "error.html", {"message": f"Import {import_id} does not exist."}, 404
        )
    return _render(request, "import.html", {"scan": scan})


# ---------------------------------------------------------------- acceptances


def _acceptances(person: Person) -> Any:
    return visible_acceptances(person)


@signed_in
@require_GET
def acceptances(request: HttpRequest) -> HttpResponse:
    qs = _acceptances(_person(request))
    status = request.GET.get("status")
    if status:
        if status not in AcceptanceStatus.values:
            raise InputError(f"unknown status {status!r}", field="status")
        qs = qs.filter(status=status)
    rows = [(a, [(Role(r).label, state) for r, state in signature_states(a)]) for a in qs[:200]]
    return _render(request, "acceptances.html", {"rows": rows, "status": status or ""})


@signed_in
@require_http_methods(["GET", "POST"])
def acceptance_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    ids = [
        int(i)
        for i in request.POST.getlist("finding") or request.GET.getlist("finding")
        if i.isascii() and i.isdigit() and len(i) < 19
    ]
    chosen = list(visible_findings(person).filter(pk__in=ids).select_related("asset"))
    if request.method == "POST" and request.POST.get("justification") is not None:
        try:
            until = dt.date.fromisoformat(request.POST.get("until", ""))
        except ValueError:
            messages.error(request, "Give the end date as YYYY-MM-DD.")
        else:
            try:
                decision_id = request.POST.get("decision") or None
                created = acceptance_services.acceptance_request(
                    actor=person,
                    title=request.POST.get("title", ""),
                    scope=ScopeKind.FINDINGS,
                    finding_ids=[f.pk for f in chosen],
                    justification=request.POST.get("justification", ""),
                    compensating_controls=request.POST.get("controls", ""),
                    until=until,
                    decision=decision_get(int(decision_id))
                    if decision_id and decision_id.isdigit()
                    else None,
                )
            except DetenteError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    f"RA-{created.pk} requested; it needs {', '.join(created.required_roles)}.",
                )
                return HttpResponseRedirect(reverse("web:acceptance", args=[created.pk]))
    return _render(
        request,
        "acceptance_new.html",
        {
            "chosen": chosen,
            "decisions": decisions_list()[:50],
            "form": request.POST,
            "latest": latest_until(chosen),
        },
    )


@signed_in
@require_GET
def acceptance_detail(request: HttpRequest, acceptance_id: int) -> HttpResponse:
    a = _acceptances(_person(request)).filter(pk=acceptance_id).first()
    if a is None:
        return _render(
            request,
            "error.html",
            {"message": f"Risk acceptance {acceptance_id} does not exist."},
            404,
        )
    person = _person(request)
    signed_roles = {s.role for s in a.signatures.all()}
    sign_roles = roles_to_sign(person, a) if a.status == "requested" else []
    return _render(
        request,
        "acceptance.html",
        {
            "a": a,
            # several roles held: the service signs as the first still needed (one signature)
            "sign_as": Role(sign_roles[0]).label if sign_roles else "",
            "items": a.items.select_related("finding", "finding__asset"),
            "signatures": a.signatures.select_related("signer"),
            "can_sign": bool(sign_roles),
            "can_revoke": (
                a.status == "approved"
                and person.has_any_role({*a.required_roles, Role.CISO, Role.CIO})
            )
            or (
                a.status in ("draft", "requested")
                and (person.pk == a.requester_id or person.has_any_role((Role.CISO, Role.CIO)))
            ),
            "missing": [r for r in a.required_roles if r not in signed_roles],
        },
    )


@signed_in
@require_POST
def acceptance_act(request: HttpRequest, acceptance_id: int, action: str) -> HttpResponse:
    person = _person(request)
    a = _acceptances(person).filter(pk=acceptance_id).first()
    if a is None:
        raise_not_found = NotFound(f"risk acceptance {acceptance_id} does not exist")
        return _render(request, "error.html", {"message": str(raise_not_found)}, 404)
    text = request.POST.get("comment", "")
    try:
        if action == "sign":
            acceptance_services.acceptance_sign(actor=person, acceptance=a, comment=text)
        elif action == "reject":
            acceptance_services.acceptance_reject(actor=person, acceptance=a, reason=text)
        elif action == "revoke":
            acceptance_services.acceptance_revoke(actor=person, acceptance=a, reason=text)
        else:
            return _render(request, "error.html", {"message": "Unknown action."}, 404)
    except DetenteError as exc:
        messages.error(request, str(exc))
    else:
        a.refresh_from_db()
        messages.success(request, _after_action(a, person, action))
    return HttpResponseRedirect(reverse("web:acceptance", args=[acceptance_id]))


def _option_index(text: str | None) -> int | None:
    if not text:
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise InputError("the chosen option is a number from 1", field="chosen_option")
    return int(text) - 1


def _after_action(a: RiskAcceptance, person: Person, action: str) -> str:
    """What happened and what is next, in words (after a signature, a rejection, a revocation)."""
    status = a.get_status_display().lower()
    if action != "sign":
        return f"RA-{a.pk} is now {status}."
    mine = next((s for s in a.signatures.all() if s.signer_id == person.pk), None)
    role = Role(mine.role).label if mine else Role(person.role).label
    left = [Role(r).label for r, state in signature_states(a) if state == "pending"]
    if a.status == "approved":
        return (
            f"Your {role} approval is recorded; RA-{a.pk} is approved: its findings are "
            f"deferred until {a.expires_at:%Y-%m-%d}."
        )
    if left:
        return f"Your {role} approval is recorded; waiting for the {' and the '.join(left)}."
    return f"Your {role} signature is recorded; RA-{a.pk} is now {status}."


# ---------------------------------------------------------------- decisions


@signed_in
@require_GET
def decisions(request: HttpRequest) -> HttpResponse:
    return _render(request, "decisions.html", {"rows": decisions_list()[:200]})


@signed_in
@require_http_methods(["GET", "POST"])
def decision_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        post = request.POST
        options = [
            {
                "title": t,
                "business_benefit": b,
                "facts": [x.strip() for x in f.splitlines() if x.strip()],
            }
            for t, b, f in zip(
                post.getlist("option_title"),
                post.getlist("option_benefit"),
                post.getlist("option_facts"),
                strict=False,
            )
            if t.strip() or b.strip()
        ]
        try:
            review = dt.date.fromisoformat(post["review_date"]) if post.get("review_date") else None
            record = decision_create(
                actor=_person(request),
                title=post.get("title", ""),
                pressure_point=post.get("pressure_point", ""),
                question=post.get("question", ""),
                options=options,
                company_first=post.get("company_first", ""),
                cio_position=post.get("cio_position", ""),
                ciso_position=post.get("ciso_position", ""),
                informed=[x.strip() for x in post.get("informed", "").split(",") if x.strip()],
                win_win=post.get("win_win", ""),
                review_date=review,
                escalation_level=post.get("escalation_level", "team"),
            )
        except (DetenteError, ValueError) as exc:
            messages.error(request, str(exc))
        else:
            return HttpResponseRedirect(reverse("web:decision", args=[record.pk]))
    return _render(
        request,
        "decision_new.html",
        {
            "points": PressurePoint.choices,
            "levels": EscalationLevel.choices,
            "form": request.POST,
            "slots": range(3),
        },
    )


@signed_in
@require_http_methods(["GET", "POST"])
def decision_detail(request: HttpRequest, decision_id: int) -> HttpResponse:
    try:
        d = decision_get(decision_id)
    except NotFound:
        return _render(
            request,
            "error.html",
            {"message": f"Decision record {decision_id} does not exist."},
            404,
        )
    if request.method == "POST":
        followed = request.POST.get("ciso_followed")
        option = request.POST.get("chosen_option")
        try:
            decision_decide(
                actor=_person(request),
                record=d,
                decision=request.POST.get("decision", ""),
                # people number options from 1; the record stores the index from 0
                chosen_option=_option_index(option),
                ciso_recommendation_followed=None if followed in (None, "") else followed == "yes",
                why_blank=request.POST.get("why_blank", ""),
            )
        except DetenteError as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("web:decision", args=[decision_id]))
    can_decide = d.status == "open" and _person(request).has_any_role((Role.CIO, Role.CISO))
    return _render(
        request,
        "decision.html",
        {
            "d": d,
            "acceptances": d.acceptances.all(),
            "can_decide": can_decide,
            "missing": missing_of(d),
        },
    )


# ---------------------------------------------------------------- audit


@signed_in
@require_http_methods(["GET", "POST"])
def audit(request: HttpRequest) -> HttpResponse:
    result = audit_verify(vouchers=VOUCHERS) if request.method == "POST" else None
    before = request.GET.get("before")
    events = visible_audit_events(_person(request)).order_by("-seq")
    if before:
        if not (before.isascii() and before.isdigit() and len(before) < 19):
            raise InputError(f"not an event number: {before!r}", field="before")
        events = events.filter(seq__lt=int(before))
    rows = list(events[:100])
    return _render(
        request,
        "audit.html",
        {"rows": rows, "result": result, "older": rows[-1].seq if len(rows) == 100 else None},
    )
