"""Risk acceptances: request, read, sign, reject, renew, revoke."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from detente.acceptances import services as acceptance_services
from detente.acceptances.models import (
    AcceptanceStatus,
    RiskAcceptance,
    ScopeKind,
)
from detente.acceptances.selectors import (
    latest_until,
    roles_to_sign,
    signature_states,
    visible_acceptances,
)
from detente.core.errors import DetenteError, InputError, NotFound
from detente.decisions.selectors import decision_get, decisions_list
from detente.findings.selectors import (
    visible_findings,
)
from detente.people.models import Person, Role
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page


def _acceptances(person: Person) -> Any:
    return visible_acceptances(person)


@signed_in
@require_GET
def acceptances(request: HttpRequest) -> HttpResponse:
    qs = _acceptances(actor(request))
    status = request.GET.get("status")
    if status:
        if status not in AcceptanceStatus.values:
            raise InputError(f"unknown status {status!r}", field="status")
        qs = qs.filter(status=status)
    rows = [(a, [(Role(r).label, state) for r, state in signature_states(a)]) for a in qs[:200]]
    return render_page(request, "acceptances.html", {"rows": rows, "status": status or ""})


@signed_in
@require_http_methods(["GET", "POST"])
def acceptance_new(request: HttpRequest) -> HttpResponse:
    person = actor(request)
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
    return render_page(
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
    a = _acceptances(actor(request)).filter(pk=acceptance_id).first()
    if a is None:
        return render_page(
            request,
            "error.html",
            {"message": f"Risk acceptance {acceptance_id} does not exist."},
            404,
        )
    person = actor(request)
    signed_roles = {s.role for s in a.signatures.all()}
    sign_roles = roles_to_sign(person, a) if a.status == "requested" else []
    return render_page(
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
    person = actor(request)
    a = _acceptances(person).filter(pk=acceptance_id).first()
    if a is None:
        raise_not_found = NotFound(f"risk acceptance {acceptance_id} does not exist")
        return render_page(request, "error.html", {"message": str(raise_not_found)}, 404)
    text = request.POST.get("comment", "")
    try:
        if action == "sign":
            acceptance_services.acceptance_sign(actor=person, acceptance=a, comment=text)
        elif action == "reject":
            acceptance_services.acceptance_reject(actor=person, acceptance=a, reason=text)
        elif action == "revoke":
            acceptance_services.acceptance_revoke(actor=person, acceptance=a, reason=text)
        else:
            return render_page(request, "error.html", {"message": "Unknown action."}, 404)
    except DetenteError as exc:
        messages.error(request, str(exc))
    else:
        a.refresh_from_db()
        messages.success(request, _after_action(a, person, action))
    return HttpResponseRedirect(reverse("web:acceptance", args=[acceptance_id]))


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
