"""API register pages: the register (APIs by exposure and test status, and the form that adds
one) and one API's page (versions, diff, findings, pen tests, promotion history, and the forms
that upload a spec version, record a pen test, attach its report and change the stage).

Each form calls one service. Who sees a form is ``selectors.api_actions`` (the rules the
services enforce); a service's refusal comes back onto the form, nothing written."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from detente.api_register import pentest_reports, selectors, services
from detente.api_register.models import Api
from detente.core.errors import DetenteError, InputError, NotFound, PermissionDenied
from detente.web.auth import signed_in
from detente.web.forms_api_register import ApiAddForm, PenTestForm, ReportForm, VersionForm
from detente.web.shortcuts import actor, render_page


def _status(exc: DetenteError) -> int:
    # a page's bad input is a bad request, as web/errors.py answers it
    return 400 if isinstance(exc, InputError) else exc.http_status


def _refused(request: HttpRequest, form: forms.Form, exc: DetenteError) -> None:
    """Put a service's refusal on the field it names, else on the whole form; a person the
    rules do not let act sees no form, so theirs is a message on the page."""
    field = getattr(exc, "field", None)
    if isinstance(exc, PermissionDenied):
        messages.error(request, str(exc))
    elif isinstance(field, str) and field in form.fields:
        form.add_error(field, str(exc))
    else:
        form.add_error(None, str(exc))


def _spec_bytes(file: UploadedFile) -> bytes:
    return b"".join(file.chunks())


@signed_in
@require_http_methods(["GET", "POST"])
def api_register(request: HttpRequest) -> HttpResponse:
    person = actor(request)
    status = 200
    form = ApiAddForm()
    if request.method == "POST":
        form = ApiAddForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                api = services.api_add(
                    actor=person,
                    name=data["name"],
                    service=data["service"],
                    spec=_spec_bytes(data["spec"]),
                    file_name=data["spec"].name or "openapi",
                    owners=list(data["owners"]),
                    security_contact=data["security_contact"],
                )
            except DetenteError as exc:
                _refused(request, form, exc)
                status = _status(exc)
            else:
                messages.success(request, f"{api.name} registered at {api.stage}")
                return HttpResponseRedirect(reverse("web:api", args=[api.name]))
        else:
            status = 400
    policy = selectors.api_policy()
    rows = selectors.api_rows()
    by_stage: list[tuple[str, list[dict[str, Any]]]] = [
        (stage, [r for r in rows if r["stage"] == stage]) for stage in reversed(policy.stages)
    ]
    context = {
        "by_stage": by_stage,
        "waiting": [r for r in rows if r["test"] != "valid"],
        "actions": selectors.api_actions(person),
        "form": form,
    }
    return render_page(request, "api_register/register.html", context, status=status)


def _api(name: str) -> Api:
    try:
        return selectors.api_by_name(name)
    except NotFound as exc:
        raise Http404(str(exc)) from None


def _api_page(
    request: HttpRequest,
    api: Api,
    *,
    version_form: VersionForm | None = None,
    pentest_form: PenTestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    detail = selectors.api_detail(api)
    versions = list(api.versions.order_by("-number")[:2])
    diff = (
        selectors.versions_diff(versions[1], versions[0]).as_dict() if len(versions) == 2 else None
    )
    policy = selectors.api_policy()
    later = (
        policy.stages[policy.stages.index(api.stage) + 1 :] if api.stage in policy.stages else []
    )
    checks = [selectors.promotion_check(api, stage) for stage in later]
    return render_page(
        request,
        "api_register/api.html",
        {
            "api": detail,
            "diff": diff,
            "checks": checks,
            "stages": policy.stages,
            "actions": selectors.api_actions(actor(request), api),
            "version_form": version_form or VersionForm(),
            "pentest_form": pentest_form or PenTestForm(api=api),
            "report_form": ReportForm(),
        },
        status=status,
    )


@signed_in
@require_GET
def api_page(request: HttpRequest, name: str) -> HttpResponse:
    return _api_page(request, _api(name))


@signed_in
@require_POST
def api_version_add(request: HttpRequest, name: str) -> HttpResponse:
    api = _api(name)
    form = VersionForm(request.POST, request.FILES)
    if not form.is_valid():
        return _api_page(request, api, version_form=form, status=400)
    file = form.cleaned_data["spec"]
    try:
        version, changed = services.api_update(
            actor=actor(request),
            api=api,
            spec=_spec_bytes(file),
            file_name=file.name or "openapi",
        )
    except DetenteError as exc:
        _refused(request, form, exc)
        return _api_page(request, api, version_form=form, status=_status(exc))
    if changed:
        counts = ", ".join(f"{n} {s}" for s, n in version.audit_counts.items()) or "clean"
        messages.success(request, f"v{version.number} uploaded and audited: {counts}")
    else:
        messages.info(request, f"unchanged (same sha256 as v{version.number}); nothing stored")
    return HttpResponseRedirect(reverse("web:api", args=[api.name]))


def _saved_findings(upload: UploadedFile, folder: Path) -> Path:
    """The pen test's findings upload as a file for the import (same limit as the upload page)."""
    limit: int = settings.DETENTE_MAX_IMPORT_BYTES
    if upload.size is not None and upload.size > limit:
        raise InputError(f"file is over the {limit} byte import limit", field="findings")
    path = folder / (Path(upload.name or "findings").name or "findings")
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


@signed_in
@require_POST
def api_pentest_add(request: HttpRequest, name: str) -> HttpResponse:
    api = _api(name)
    form = PenTestForm(request.POST, request.FILES, api=api)
    if not form.is_valid():
        return _api_page(request, api, pentest_form=form, status=400)
    data = form.cleaned_data
    report: UploadedFile | None = data["report"]
    findings: UploadedFile | None = data["findings"]
    try:
        with tempfile.TemporaryDirectory(prefix="detente-pentest-") as folder:
            findings_file = _saved_findings(findings, Path(folder)) if findings else None
            test = services.pentest_record(
                actor=actor(request),
                api=api,
                version=selectors.version_of(api, data["version"]),
                started_on=data["started_on"],
                ended_on=data["ended_on"],
                tester=data["tester"],
                tester_kind=data["tester_kind"],
                method=data["method"],
                scope=data["scope"],
                report_upload=(report.name or "report", report.chunks()) if report else None,
                findings_file=findings_file,
            )
    except DetenteError as exc:
        _refused(request, form, exc)
        return _api_page(request, api, pentest_form=form, status=_status(exc))
    messages.success(request, f"pen test {test.pk} of v{test.version.number} recorded")
    return HttpResponseRedirect(reverse("web:api", args=[api.name]))


@signed_in
@require_POST
def api_pentest_report_attach(request: HttpRequest, name: str, pentest_id: int) -> HttpResponse:
    api = _api(name)
    test = selectors.pentest_of(api, pentest_id)
    form = ReportForm(request.POST, request.FILES)
    if form.is_valid():
        file = form.cleaned_data["report"]
        try:
            pentest_reports.pentest_report_attach(
                actor=actor(request), test=test, name=file.name or "report",
                chunks=file.chunks(),
            )  # fmt: skip
            messages.success(request, f"report attached to pen test {test.pk}")
        except DetenteError as exc:
            messages.error(request, str(exc))
    else:
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, "; ".join(problems))
    return HttpResponseRedirect(reverse("web:api", args=[api.name]))


@signed_in
@require_GET
def api_pentest_report(request: HttpRequest, name: str, pentest_id: int) -> FileResponse:
    test = selectors.pentest_of(_api(name), pentest_id)
    file_name, path = pentest_reports.pentest_report_open(actor=actor(request), test=test)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=file_name,
        content_type="application/pdf" if path.suffix == ".pdf" else "application/octet-stream",
    )


@signed_in
@require_POST
def api_promote(request: HttpRequest, name: str) -> HttpResponse:
    api = _api(name)
    try:
        result = services.api_promote(
            actor=actor(request),
            api=api,
            to_stage=request.POST.get("to", ""),
            force=request.POST.get("force") == "1",
            reason=request.POST.get("reason", ""),
        )
        messages.success(
            request, f"{api.name}: {result.promotion.from_stage} → {result.promotion.to_stage}"
        )
    except DetenteError as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(reverse("web:api", args=[api.name]))
