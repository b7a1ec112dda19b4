"""Pages of the organisation: people, services and assets (list, edit a service, deactivate).

Who may change what is decided by ``detente.org.services`` (CIO, CISO, IT lead); the pages show
the buttons to those roles and report the service's refusal to anyone else.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from detente.core.errors import DetenteError
from detente.inventory.models import Criticality, DataClassification
from detente.org import selectors as org_selectors
from detente.org.document import parse_document
from detente.org.services import ORG_WRITERS, org_apply, org_deactivate
from detente.people.models import Person, Role
from detente.people.selectors import people_by_name
from detente.web.auth import signed_in
from detente.web.shortcuts import render_page

PAGE = 200
_LISTS = {"person": "web:org_people", "service": "web:org_services", "asset": "web:org_assets"}


def _person(request: HttpRequest) -> Person:
    person: Person = request.person  # type: ignore[attr-defined]
    return person


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The site's page frame (navigation, its current section, the needs count) and who may
    change the organisation."""
    me = _person(request)
    frame = {"can_change_org": me.has_any_role(ORG_WRITERS)}
    return render_page(request, f"org/{template}", frame | context)


def _page(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() and len(raw) < 7 else 1


@signed_in
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    rows = org_selectors.people_listed()
    return _render(request, "people.html", {"rows": rows[:PAGE]})


@signed_in
@require_GET
def services(request: HttpRequest) -> HttpResponse:
    rows = org_selectors.services_listed()
    return _render(request, "services.html", {"rows": rows[:PAGE]})


@signed_in
@require_GET
def assets(request: HttpRequest) -> HttpResponse:
    page = _page(request)
    rows = org_selectors.assets_listed()
    chunk = list(rows[(page - 1) * PAGE : page * PAGE + 1])
    return _render(
        request,
        "assets.html",
        {"rows": chunk[:PAGE], "page": page, "more": len(chunk) > PAGE},
    )


@signed_in
@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, slug: str) -> HttpResponse:
    service = org_selectors.service_for_edit(slug)
    if service is None:
        return render(request, "web/error.html", {"message": f"No service {slug!r}."}, status=404)
    if request.method == "POST":
        entry = {
            "slug": service.slug,
            "name": request.POST.get("name", service.name),
            "owner": request.POST.get("owner") or None,
            "team": service.team.slug if service.team else None,
            "criticality": request.POST.get("criticality", service.criticality),
            "data_classification": request.POST.get(
                "data_classification", service.data_classification
            ),
            "internet_facing": request.POST.get("internet_facing") == "on",
            "customer_facing": request.POST.get("customer_facing") == "on",
        }
        try:
            document = parse_document({"version": 1, "services": [entry]}, file="form")
            plan = org_apply(
                document=document, actor=_person(request), keep_missing=True, file="form"
            )
            if plan.applied and plan.moves_deadlines:
                from detente.findings.services import findings_reevaluate

                findings_reevaluate(actor=_person(request))
        except DetenteError as exc:
            messages.error(request, str(exc))
        else:
            lines = "; ".join(c.line() for c in plan.changes) or "no change"
            messages.success(request, f"{service.name}: {lines}")
            return HttpResponseRedirect(reverse("web:org_services"))
    return _render(
        request,
        "service_edit.html",
        {
            "service": service,
            "criticalities": Criticality.choices,
            "classifications": DataClassification.choices,
            "owners": people_by_name(),
        },
    )


@signed_in
@require_http_methods(["GET", "POST"])
def person_roles(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's roles: ticked roles, one of them primary; saved through ``org_apply`` (one
    entry, nothing else touched), so the same rules, diff and audit as the organisation file."""
    person = org_selectors.person_or_none(pk)
    if person is None:
        return render(request, "web/error.html", {"message": f"No person {pk}."}, status=404)
    if request.method == "POST":
        ticked = [r for r in Role.values if r in request.POST.getlist("roles")]
        primary = request.POST.get("primary") or (ticked[0] if ticked else "")
        entry = {"name": person.name, "email": person.email, "role": primary, "roles": ticked}
        try:
            document = parse_document({"version": 1, "people": [entry]}, file="form")
            plan = org_apply(
                document=document, actor=_person(request), keep_missing=True, file="form"
            )
        except DetenteError as exc:
            messages.error(request, str(exc))
        else:
            lines = "; ".join(c.line() for c in plan.changes) or "no change"
            messages.success(request, f"{person.name}: {lines}")
            return HttpResponseRedirect(reverse("web:org_people"))
    return _render(
        request, "person_roles.html", {"person": person, "choices": Role.choices},
    )  # fmt: skip


@signed_in
@require_POST
def deactivate(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in _LISTS:
        return render(request, "web/error.html", {"message": "Unknown kind."}, status=404)
    try:
        org_deactivate(actor=_person(request), kind=kind, pk=pk)
        if kind in ("service", "asset"):
            from detente.findings.services import findings_reevaluate

            findings_reevaluate(actor=_person(request))
    except DetenteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The {kind} is now inactive (kept for history).")
    return HttpResponseRedirect(reverse(_LISTS[kind]))
