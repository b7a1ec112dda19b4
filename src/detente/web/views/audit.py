"""The audit trail and its verification."""

from __future__ import annotations

from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.views.decorators.http import require_http_methods

from detente.audit.services import audit_verify
from detente.core.errors import InputError
from detente.reports.audit_vouchers import VOUCHERS
from detente.reports.scoping import visible_audit_events
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page


@signed_in
@require_http_methods(["GET", "POST"])
def audit(request: HttpRequest) -> HttpResponse:
    result = audit_verify(vouchers=VOUCHERS) if request.method == "POST" else None
    before = request.GET.get("before")
    events = visible_audit_events(actor(request)).order_by("-seq")
    if before:
        if not (before.isascii() and before.isdigit() and len(before) < 19):
            raise InputError(f"not an event number: {before!r}", field="before")
        events = events.filter(seq__lt=int(before))
    rows = list(events[:100])
    return render_page(
        request,
        "audit.html",
        {"rows": rows, "result": result, "older": rows[-1].seq if len(rows) == 100 else None},
    )
