"""/api/findings and /api/imports."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from pydantic import Field

from detente.acceptances.selectors import acceptance_ids_of
from detente.api.auth import actor, require_write
from detente.api.schemas import (
    CURSOR,
    ERRORS,
    FindingDetailOut,
    FindingPage,
    ImportOut,
    In,
    Limit,
    Offset,
    PathId,
)
from detente.core.errors import InputError, NotFound
from detente.findings.models import Finding, ScanImport
from detente.findings.selectors import (
    FindingFilter,
    finding_get,
    findings_page_values,
    vulnerability_of,
)
from detente.reports.scoping import visible_imports

router = Router(tags=["findings"])
imports = Router(tags=["imports"])


class FindingQuery(In):
    in_query = True

    status: str | None = "open"
    exploited: bool = False
    exposed: bool = False
    overdue: bool = False
    service: str | None = None
    severity: str | None = None
    scanner: str | None = None
    cve: str | None = None
    limit: int = Field(50, ge=1, le=500)
    cursor: (
        Annotated[
            str,
            Field(
                description="next_cursor of the previous page (opaque: only what the API issued)",
                json_schema_extra={"pattern": CURSOR},
            ),
        ]
        | None
    ) = None


def finding_out(f: Finding) -> dict[str, Any]:
    return {
        "id": f.pk, "vuln_id": f.vuln_id, "cve": f.cve, "title": f.title, "severity": f.severity,
        "scanner": f.scanner, "scanner_severity": f.scanner_severity, "status": f.status,
        "kev": f.kev, "epss": f.epss, "epss_percentile": f.epss_percentile, "exposed": f.exposed,
        "cvss_vector": f.cvss_vector, "cvss_score": f.cvss_score, "component": f.component,
        "component_version": f.component_version, "fixed_in": f.fixed_in,
        "file_path": f.file_path, "line": f.line, "endpoint": f.endpoint,
        "asset": f.asset.identifier, "asset_id": f.asset_id,
        "service": f.asset.service.slug if f.asset.service else None,
        "deadline": f.deadline, "deadline_class": f.deadline_class,
        "needs_analyst": f.needs_analyst, "first_seen": f.first_seen,
    }  # fmt: skip


# The list's columns, read as values (no model instances) and encoded by msgspec: the busiest
# route skips per-field pydantic validation of its own output. Its shape is FindingPage's; a test
# validates the output against that schema and schemathesis checks it against the document.
LIST_FIELDS = {
    "id": "id", "vuln_id": "vuln_id", "cve": "cve", "title": "title", "severity": "severity",
    "scanner": "scanner", "scanner_severity": "scanner_severity", "status": "status",
    "kev": "kev", "epss": "epss", "epss_percentile": "epss_percentile", "exposed": "exposed",
    "cvss_vector": "cvss_vector", "cvss_score": "cvss_score", "component": "component",
    "component_version": "component_version", "fixed_in": "fixed_in",
    "file_path": "file_path", "line": "line", "endpoint": "endpoint",
    "asset": "asset__identifier", "asset_id": "asset_id", "service": "asset__service__slug",
    "deadline": "deadline", "deadline_class": "deadline_class",
    "needs_analyst": "needs_analyst", "first_seen": "first_seen",
}  # fmt: skip
INSTANTS = ("deadline", "first_seen")
_JSON = DjangoJSONEncoder()


@router.get(
    "/findings", response={200: FindingPage, **ERRORS}, summary="Findings in priority order"
)
def list_findings(request: HttpRequest, q: Query[FindingQuery]) -> HttpResponse:
    if not 1 <= q.limit <= 500:
        raise InputError("limit must be between 1 and 500", field="limit")
    rows, cursor = findings_page_values(
        FindingFilter(
            overdue=q.overdue, exploited=q.exploited, exposed=q.exposed, service=q.service,
            status=None if q.status in (None, "any") else q.status, severity=q.severity,
            scanner=q.scanner, cve=q.cve,
        ),
        actor(request),
        cursor=q.cursor,
        limit=q.limit,
        fields=list(LIST_FIELDS.values()),
    )  # fmt: skip
    items = [{name: row[column] for name, column in LIST_FIELDS.items()} for row in rows]
    for item in items:  # instants as every other route writes them (DjangoJSONEncoder: ms, Z)
        for name in INSTANTS:
            if item[name] is not None:
                item[name] = _JSON.default(item[name])
    body = msgspec.json.encode({"items": items, "next_cursor": cursor})
    return HttpResponse(body, content_type="application/json")


@router.get(
    "/findings/{finding_id}",
    response={200: FindingDetailOut, **ERRORS},
    summary="Every fact of a finding",
)
def get_finding(request: HttpRequest, finding_id: PathId) -> dict[str, Any]:
    f = finding_get(finding_id, actor(request))
    vuln = vulnerability_of(f)
    return finding_out(f) | {
        "aliases": list(f.aliases or []),
        "reason": f.reason,
        "description": vuln.description if vuln else None,
        "references": list(vuln.references) if vuln else [],
        "acceptances": acceptance_ids_of(f),
    }


def import_out(s: ScanImport) -> dict[str, Any]:
    return {
        "id": s.pk, "file_name": s.file_name, "format": s.format, "scanner": s.scanner,
        "started_at": s.started_at, "duration_ms": s.duration_ms, "parsed": s.parsed,
        "duplicates": s.duplicates, "new": s.new, "unchanged": s.unchanged,
        "refreshed": s.refreshed, "reopened": s.reopened, "closed": s.closed,
        "skipped": s.skipped, "notes": s.notes, "metadata": s.metadata,
    }  # fmt: skip


@imports.post("/imports", response={201: ImportOut, **ERRORS}, summary="Upload one scanner file")
def upload(
    request: HttpRequest,
    file: File[UploadedFile],
    format: Form[str | None] = None,
    service: Form[str | None] = None,
    asset: Form[str | None] = None,
    asset_kind: Form[str] = "application",
    strict: Form[bool] = False,
) -> Status[dict[str, Any]]:
    from detente.findings.importer import ImportOptions
    from detente.findings.services import upload_import
    from detente.inventory.selectors import service_by_slug

    options = ImportOptions(
        fmt=format or None,
        service=service_by_slug(service) if service else None,
        asset_name=asset or None,
        asset_kind=asset_kind,
        strict=strict,
    )
    scan = upload_import(
        chunks=file.chunks(), name=file.name, size=file.size, actor=require_write(request),
        options=options,
    )  # fmt: skip
    return Status(201, import_out(scan))


@imports.get("/imports", response={200: list[ImportOut], **ERRORS}, summary="Recent imports")
def list_imports(
    request: HttpRequest, limit: Limit = 50, offset: Offset = 0
) -> list[dict[str, Any]]:
    if not 1 <= limit <= 500 or not 0 <= offset <= 10**9:
        raise InputError("limit 1..500, offset 0..10^9", field="limit")
    scans = visible_imports(actor(request))[offset : offset + limit]
    return [import_out(s) for s in scans]


@imports.get(
    "/imports/{import_id}", response={200: ImportOut, **ERRORS}, summary="One import's summary"
)
def get_import(request: HttpRequest, import_id: PathId) -> dict[str, Any]:
    scan = visible_imports(actor(request)).filter(pk=import_id).first()
    if scan is None:
        raise NotFound(f"import {import_id} does not exist")
    return import_out(scan)
