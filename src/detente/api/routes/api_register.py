"""/api routes of api_register: the register, versions and diff, audit, pen tests, promotion.

Specs travel as text in JSON bodies (``spec``), bounded by the same loader limits as files.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from detente.api.auth import actor, require_write
from detente.api.schemas import ERRORS, In
from detente.api_register import pentest_reports, selectors, services
from detente.api_register.rules import Result
from detente.api_register.sarif import sarif_document
from detente.core.errors import InputError
from detente.inventory.selectors import service_by_slug
from detente.people.selectors import person_by_email

router = Router(tags=["api_register"])


class ApiRowOut(Schema):
    name: str
    service: str
    stage: str
    exposed: bool
    version: int | None
    digest: str
    openapi: str
    operations: int
    test: str
    last_test: dt.date | None
    owners: str
    security_contact: str
    critical: int
    high: int
    medium: int
    low: int
    info: int


class ApiDetailOut(Schema):
    name: str
    service: str
    stage: str
    exposed: bool
    asset: str
    owners: list[str]
    security_contact: str | None
    test: dict[str, str]
    versions: list[dict[str, Any]]
    pentests: list[dict[str, Any]]
    promotions: list[dict[str, Any]]
    findings: list[dict[str, Any]]


class ApiIn(In):
    name: str = Field(max_length=120)
    service: str = Field(max_length=80)
    spec: str
    file_name: str = Field(default="openapi", max_length=500)
    owners: list[str] = Field(default_factory=list, max_length=50)
    security_contact: str | None = None


class VersionIn(In):
    spec: str
    file_name: str = Field(default="openapi", max_length=500)


class VersionOut(Schema):
    number: int
    digest: str
    openapi: str
    operations: int
    changed: bool
    audit: dict[str, int]
    problems: list[dict[str, str]]


class ResultOut(Schema):
    rule: str
    owasp: str
    cwe: int | None
    severity: str
    where: str
    message: str


class PenTestIn(In):
    version: int | None = Field(default=None, ge=1)
    started_on: dt.date
    ended_on: dt.date
    tester: str = Field(max_length=200)
    tester_kind: str = "firm"
    method: str = Field(default="", max_length=200)
    scope: list[str] = Field(default_factory=list, max_length=1000)


class PromoteIn(In):
    to: str = Field(max_length=40)
    force: bool = False
    reason: str = Field(default="", max_length=2000)


class PromotionOut(Schema):
    outcome: str
    from_stage: str
    to_stage: str
    missing: list[str]


def _version_out(version: Any, changed: bool) -> dict[str, Any]:
    return {
        "number": version.number, "digest": version.digest, "openapi": version.openapi_version,
        "operations": version.operations, "changed": changed, "audit": version.audit_counts,
        "problems": version.problems,
    }  # fmt: skip


def _results(results: list[Result]) -> list[dict[str, Any]]:
    return [
        {
            "rule": r.rule.id, "owasp": r.rule.category, "cwe": r.rule.cwe,
            "severity": r.severity, "where": r.hit.pointer, "message": r.hit.message,
        }
        for r in results
    ]  # fmt: skip


@router.get("/apis", response={200: list[ApiRowOut], **ERRORS}, summary="The API register")
def list_apis(request: HttpRequest, stage: str | None = None) -> list[dict[str, Any]]:
    actor(request)
    return selectors.api_rows(stage=stage)


@router.post("/apis", response={201: ApiDetailOut, **ERRORS}, summary="Register an API")
def add_api(request: HttpRequest, body: ApiIn) -> tuple[int, dict[str, Any]]:
    person = require_write(request)
    api = services.api_add(
        actor=person,
        name=body.name,
        service=service_by_slug(body.service),
        spec=body.spec.encode(),
        file_name=body.file_name,
        owners=[person_by_email(e) for e in body.owners],
        security_contact=person_by_email(body.security_contact) if body.security_contact else None,
    )
    return 201, selectors.api_detail(selectors.api_by_name(api.name))


@router.get("/apis/{name}", response={200: ApiDetailOut, **ERRORS}, summary="One API")
def get_api(request: HttpRequest, name: str) -> dict[str, Any]:
    actor(request)
    return selectors.api_detail(selectors.api_by_name(name))


@router.post(
    "/apis/{name}/versions", response={200: VersionOut, **ERRORS}, summary="Upload a new spec"
)
def add_version(request: HttpRequest, name: str, body: VersionIn) -> dict[str, Any]:
    version, changed = services.api_update(
        actor=require_write(request), api=selectors.api_by_name(name),
        spec=body.spec.encode(), file_name=body.file_name,
    )  # fmt: skip
    return _version_out(version, changed)


@router.get("/apis/{name}/diff", response={200: dict[str, Any], **ERRORS}, summary="Spec drift")
def diff_api(
    request: HttpRequest, name: str, old: int | None = None, new: int | None = None
) -> dict[str, Any]:
    actor(request)
    api = selectors.api_by_name(name)
    after = selectors.version_of(api, new)
    if old is None and after.number == 1:
        raise InputError(f"{name} has one version only; nothing to compare", field="old")
    before = selectors.version_of(api, old if old is not None else after.number - 1)
    return {
        "from": before.number,
        "to": after.number,
        **selectors.versions_diff(before, after).as_dict(),
    }


@router.post(
    "/apis/{name}/audit", response={200: list[ResultOut], **ERRORS}, summary="Re-audit the spec"
)
def audit_api(request: HttpRequest, name: str) -> list[dict[str, Any]]:
    outcome = services.api_audit(actor=require_write(request), api=selectors.api_by_name(name))
    return _results(outcome.results)


@router.get(
    "/apis/{name}/sarif", response={200: dict[str, Any], **ERRORS}, summary="Audit as SARIF"
)
def audit_sarif(request: HttpRequest, name: str) -> dict[str, Any]:
    """The current version's audit as SARIF 2.1.0 (computed, nothing written)."""
    actor(request)
    from detente.api_register.rules import audit_spec

    api = selectors.api_by_name(name)
    version = selectors.version_of(api)
    policy = selectors.api_policy()
    results = audit_spec(
        selectors.load_version(version),
        severity=policy.severity,
        disabled=frozenset(policy.disabled_rules),
    )
    return sarif_document(results, artifact_uri=version.file_name, version=str(version.number))


@router.post(
    "/apis/{name}/pentests", response={201: dict[str, Any], **ERRORS}, summary="Record a pen test"
)
def add_pentest(request: HttpRequest, name: str, body: PenTestIn) -> tuple[int, dict[str, Any]]:
    person = require_write(request)
    api = selectors.api_by_name(name)
    test = services.pentest_record(
        actor=person, api=api, version=selectors.version_of(api, body.version),
        started_on=body.started_on, ended_on=body.ended_on, tester=body.tester,
        tester_kind=body.tester_kind, method=body.method, scope=body.scope,
    )  # fmt: skip
    return 201, {"id": test.pk, "version": test.version.number, "digest": test.spec_digest}


class PenTestOut(Schema):
    id: int
    version: int
    digest: str
    report: str
    report_sha256: str


@router.post(
    "/apis/{name}/pentests/{pentest_id}/report",
    response={200: PenTestOut, **ERRORS},
    summary="Attach the pen test's report file (multipart; replaces an earlier one)",
)
def attach_report(
    request: HttpRequest, name: str, pentest_id: int, file: File[UploadedFile]
) -> dict[str, Any]:
    """The report is kept under the data directory by its SHA-256; over
    ``DETENTE_MAX_REPORT_BYTES`` it is refused (422) and nothing is kept."""
    person = require_write(request)
    test = selectors.pentest_of(selectors.api_by_name(name), pentest_id)
    test = pentest_reports.pentest_report_attach(
        actor=person, test=test, name=file.name or "report", chunks=file.chunks()
    )
    return {
        "id": test.pk, "version": test.version.number, "digest": test.spec_digest,
        "report": test.report_name, "report_sha256": test.report_sha256,
    }  # fmt: skip


class PenTestFindingsOut(Schema):
    id: int
    scan: int
    parsed: int
    new: int
    closed: int


@router.post(
    "/apis/{name}/pentests/{pentest_id}/findings",
    response={200: PenTestFindingsOut, **ERRORS},
    summary="Import the pen test's findings file (multipart; any format the import reads)",
)
def import_pentest_findings(
    request: HttpRequest,
    name: str,
    pentest_id: int,
    file: File[UploadedFile],
    format: Form[str] = "",
) -> dict[str, Any]:
    """The findings land on the API's asset like the audit's; the import becomes the test's. A
    file the import refuses leaves the test as it was (422 naming the file)."""
    person = require_write(request)
    test = selectors.pentest_of(selectors.api_by_name(name), pentest_id)
    limit: int = settings.DETENTE_MAX_IMPORT_BYTES
    if file.size is not None and file.size > limit:
        raise InputError(f"file is over the {limit} byte import limit", file=file.name)
    file_name = Path(file.name or "findings").name or "findings"
    with tempfile.TemporaryDirectory(prefix="detente-pentest-") as folder:
        path = Path(folder) / file_name
        with path.open("wb") as out:
            for chunk in file.chunks():
                out.write(chunk)
        try:
            test = services.pentest_findings_import(
                actor=person, test=test, findings_file=path, findings_format=format or None
            )
        except InputError as exc:
            raise InputError(
                exc.message, file=file_name, record=exc.record, field=exc.field
            ) from None
    scan = test.scan
    assert scan is not None
    return {
        "id": test.pk, "scan": scan.pk, "parsed": scan.parsed, "new": scan.new,
        "closed": scan.closed,
    }  # fmt: skip


@router.get(
    "/apis/{name}/pentests/{pentest_id}/report",
    response={200: None, **ERRORS},
    summary="Download the pen test's report (the CISO side, the CIO, auditors, the API's owners "
    "and security contact)",
)
def download_report(request: HttpRequest, name: str, pentest_id: int) -> FileResponse:
    test = selectors.pentest_of(selectors.api_by_name(name), pentest_id)
    file_name, path = pentest_reports.pentest_report_open(actor=actor(request), test=test)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=file_name,
        content_type="application/pdf" if path.suffix == ".pdf" else "application/octet-stream",
    )


@router.post(
    "/apis/{name}/promote",
    response={200: PromotionOut, **ERRORS},
    summary="Change the exposure stage (409 with what is missing when the gate refuses)",
)
def promote_api(request: HttpRequest, name: str, body: PromoteIn) -> dict[str, Any]:
    result = services.api_promote(
        actor=require_write(request), api=selectors.api_by_name(name), to_stage=body.to,
        force=body.force, reason=body.reason,
    )  # fmt: skip
    promotion = result.promotion
    return {
        "outcome": promotion.outcome,
        "from_stage": promotion.from_stage,
        "to_stage": promotion.to_stage,
        "missing": promotion.missing,
    }
