"""The finding list (and its CSV) and one finding with every fact."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import (
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from detente.acceptances.selectors import (
    acceptance_ids_of,
    acceptances_of,
)
from detente.audit.selectors import events_about
from detente.core.errors import InputError, NotFound
from detente.core.text import spreadsheet_safe
from detente.findings.models import SeverityLevel, Status
from detente.findings.selectors import (
    FindingFilter,
    finding_get,
    findings_page,
    vulnerability_of,
)
from detente.inventory.selectors import services_list
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page

PAGE = 50
SEVERITIES = tuple(SeverityLevel.values)


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
        _filter(request), actor(request), cursor=request.GET.get("cursor"), limit=PAGE
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    next_query = None
    if cursor:
        query["cursor"] = cursor
        next_query = query.urlencode()
    return render_page(
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

    query = findings_query(_filter(request), actor(request))

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
        f = finding_get(finding_id, actor(request))
    except NotFound:
        return render_page(
            request, "error.html", {"message": f"Finding {finding_id} does not exist."}, 404
        )
    history = events_about("acceptance", acceptance_ids_of(f))
    return render_page(
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
