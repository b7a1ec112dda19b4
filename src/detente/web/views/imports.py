"""Uploading a scan report and reading what an import did."""

from __future__ import annotations

from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from detente.core.errors import DetenteError, InputError
from detente.findings.importer import ImportOptions
from detente.findings.services import upload_import
from detente.inventory.selectors import service_by_slug, services_list
from detente.reports.scoping import visible_imports
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page


@signed_in
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if request.method == "GET":
        return render_page(
            request,
            "upload.html",
            {
                "services": services_list(),
                "recent": visible_imports(actor(request))[:10],
            },
        )
    person = actor(request)
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
    scan = visible_imports(actor(request)).filter(pk=import_id).first()
    if scan is None:
        return render_page(
            request, "error.html", {"message": f"Import {import_id} does not exist."}, 404
        )
    return render_page(request, "import.html", {"scan": scan})
