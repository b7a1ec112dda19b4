"""Initiative pages: the list (with guardrail status), one initiative (risk reduced beside the
customer cost: guardrail charts with thresholds and phase bands, current phase, next decision,
history) and its actions. Each form calls one service; a refusal comes back as a message, with
nothing changed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from detente.core.errors import DetenteError, InputError, NotFound
from detente.initiatives import selectors, services
from detente.initiatives.csvfile import read_metrics_csv
from detente.initiatives.document import parse_initiative
from detente.initiatives.models import ENDED, Initiative
from detente.people.models import Person, Role
from detente.reports.initiatives import initiative_charts
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page


@signed_in
@require_GET
def initiatives(request: HttpRequest) -> HttpResponse:
    running = request.GET.get("running") == "1"
    return render_page(
        request, "initiatives/list.html",
        {"rows": selectors.initiative_rows(running_only=running), "running": running},
    )  # fmt: skip


@signed_in
@require_POST
def initiative_new(request: HttpRequest) -> HttpResponse:
    """Create from the pasted initiative file (the same YAML the CLI and the API read)."""
    try:
        spec = parse_initiative(str(request.POST.get("yaml", "")), source="the form")
        created = services.initiative_create(actor=actor(request), spec=spec, source="web")
    except DetenteError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("web:initiatives"))
    messages.success(request, f"IN-{created.pk} created.")
    return HttpResponseRedirect(reverse("web:initiative", args=[created.pk]))


@signed_in
@require_GET
def initiative_detail(request: HttpRequest, initiative_id: int) -> HttpResponse:
    try:
        initiative = selectors.initiative_get(initiative_id)
    except NotFound as exc:
        return render_page(request, "error.html", {"message": str(exc)}, 404)
    detail = selectors.initiative_detail(initiative)
    person = actor(request)
    side = services.side_of(person, initiative)
    # Who may object and cancel: the sponsors, the CIO and the CISO.
    may_object = side is not None or person.has_any_role((Role.CIO, Role.CISO))
    open_phase = next((p["number"] for p in detail["phases"] if p["status"] not in ENDED), None)
    return render_page(
        request, "initiatives/detail.html",
        {"i": detail, "charts": initiative_charts(initiative), "sponsor_side": side,
         "object_from": open_phase if may_object else None},
    )  # fmt: skip


def _act(  # noqa: PLR0911 - one return per form action (issue 21 moves views)
    action: str, person: Person, initiative: Initiative, post: Any, files: Any = None
) -> str | None:
    number = post.get("phase")
    if number is not None and not str(number).isdigit():
        raise InputError("a phase number", field="phase")
    phase = selectors.phase_get(initiative, int(number) if number else None)
    reason = str(post.get("reason", ""))
    if action == "sign":
        services.guardrails_sign(actor=person, phase=phase)
        return f"You signed the guardrails of phase {phase.number}."
    if action == "start":
        services.phase_start(actor=person, phase=phase)
        return f"Phase {phase.number} is running."
    if action == "pause":
        services.phase_pause(actor=person, phase=phase, reason=reason)
        return f"Phase {phase.number} paused; a go/no-go decision is open."
    if action == "resume":
        services.phase_resume(actor=person, phase=phase)
        return f"Phase {phase.number} resumed."
    if action == "rollback":
        services.phase_rollback(actor=person, phase=phase, reason=reason)
        return f"Phase {phase.number} rolled back."
    if action == "done":
        services.phase_complete(actor=person, phase=phase)
        return f"Phase {phase.number} done."
    if action == "cancel":
        services.phase_cancel(actor=person, phase=phase, reason=reason)
        return f"IN-{initiative.pk} cancelled after your objection, from phase {phase.number} on."
    if action == "metrics":
        upload = files.get("file") if files is not None else None
        if upload is None:
            raise InputError("choose a CSV file", field="file")
        name = str(upload.name or "metrics.csv")
        points = read_metrics_csv(
            upload.read(), metrics=services.guarded_metrics(initiative), source=name
        )
        count = services.metrics_record(
            actor=person, initiative=initiative, points=points, source=name
        )
        return f"{count} point(s) recorded from {name}."
    if action == "comms":
        item = str(post.get("item", ""))
        if not item.isdigit():
            raise InputError("a checklist item number", field="item")
        services.comms_complete(actor=person, phase=phase, item=int(item))
        return f"Communication item {item} of phase {phase.number} done."
    return None


@signed_in
@require_POST
def initiative_act(request: HttpRequest, initiative_id: int, action: str) -> HttpResponse:
    try:
        initiative = selectors.initiative_get(initiative_id)
    except NotFound:
        return render_page(request, "error.html", {"message": "No such initiative."}, 404)
    try:
        done = _act(action, actor(request), initiative, request.POST, request.FILES)
    except DetenteError as exc:
        messages.error(request, str(exc))
    else:
        if done is None:
            return render_page(request, "error.html", {"message": "Unknown action."}, 404)
        messages.success(request, done)
    return HttpResponseRedirect(reverse("web:initiative", args=[initiative_id]))
