"""The release gate page: DevSecOps coverage per service, recent gate runs, and the overrides
waiting for their second signature (co-sign or reject: one service call each; a refusal comes back
as a message, with nothing changed)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from detente.core.errors import DetenteError
from detente.gates import selectors, services
from detente.gates.selectors import SCAN_KINDS
from detente.policy.services import active_policy
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page


@signed_in
@require_GET
def gate(request: HttpRequest) -> HttpResponse:
    doc, _ = active_policy()
    rows = []
    for cov in selectors.coverage():
        cells = []
        for kind in SCAN_KINDS:
            slot = cov.kinds.get(kind)
            if slot is None:
                cells.append({"kind": kind, "ran": False, "runs": 0, "age": None, "stale": False})
            else:
                age = slot["last_age_hours"]
                cells.append({"kind": kind, "ran": True, "runs": slot["runs"], "age": age,
                              "stale": age is not None and age > doc.gate.fresh_hours})  # fmt: skip
        rows.append({"c": cov, "cells": cells})
    overrides = selectors.overrides_open()
    return render_page(
        request,
        "gates/gate.html",
        {
            "rows": rows,
            "kinds": SCAN_KINDS,
            "runs": selectors.runs(limit=30),
            "overrides": overrides,
            "rules": doc.gate.rules,
            "fresh_hours": doc.gate.fresh_hours,
        },
    )


@signed_in
@require_POST
def gate_override_sign(request: HttpRequest, override_id: int) -> HttpResponse:
    approve = request.POST.get("verdict", "approve") == "approve"
    try:
        done = services.gate_override_sign(
            actor=actor(request),
            override=selectors.override_by_id(override_id),
            approve=approve,
            comment=request.POST.get("comment", ""),
        )
    except DetenteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"GO-{done.pk} {done.status}; decision DR-{done.decision_id}.")
    return HttpResponseRedirect(reverse("web:gate"))
