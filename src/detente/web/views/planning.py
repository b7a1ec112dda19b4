"""The patch plan page: the current plan and its misses (each with its cheapest remedy and a button
that asks for a deferral), making a new plan, what-if side by side with the baseline, and the ICS
download. Each form calls one service; a refusal comes back as a message, with nothing changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from detente.core.errors import DetenteError, InputError
from detente.inventory.selectors import services_list
from detente.planning import selectors, services
from detente.planning.ics import plan_ics
from detente.planning.models import PlanItem
from detente.planning.scenarios import compare, parse
from detente.policy.services import active_policy
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page

METRICS = (
    ("exposure_days", "Exposure-days"),
    ("missed", "Deadlines missed (items)"),
    ("missed_findings", "Deadlines missed (findings)"),
    ("acceptances_needed", "Acceptances needed"),
    ("emergency_changes", "Emergency changes"),
    ("extra_windows", "Extra windows"),
    ("planned", "Items planned"),
)


@dataclass(frozen=True)
class MissRow:
    item: PlanItem
    remedy: dict[str, Any] | None


@dataclass(frozen=True)
class MetricRow:
    label: str
    cells: list[str]


def _specs(post: Any) -> list[str]:
    """The what-if form's scenarios as ``detente plan what-if --scenario`` specs."""
    specs = []
    cls, days = post.get("defer_class", "").strip(), post.get("defer_days", "").strip()
    if cls or days:
        if not (days.isdigit() and len(days) <= 4):
            raise InputError("defer: give a number of days (0-9999)", field="defer_days")
        specs.append(f"defer:{cls}:{days}")
    start, end = post.get("freeze_start", "").strip(), post.get("freeze_end", "").strip()
    if start or end:
        specs.append(f"freeze:{start}:{end}")
    service, rule = post.get("window_service", "").strip(), post.get("window_rrule", "").strip()
    if service:
        specs.append(f"add-window:{service}" + (f":{rule}" if rule else ""))
    if not specs:
        raise InputError("fill in at least one scenario", field="defer_class")
    return specs


def _table(results: list[tuple[str, dict[str, Any]]]) -> list[MetricRow]:
    base = results[0][1]
    rows = []
    for key, label in METRICS:
        cells = []
        for name, metrics in results:
            value = metrics[key]
            change = "" if name == "baseline" else f" ({value - base[key]:+g})"
            cells.append(f"{value:g}{change}")
        rows.append(MetricRow(label, cells))
    return rows


def _page(request: HttpRequest, extra: dict[str, Any] | None = None) -> HttpResponse:
    plan = selectors.plan_current()
    misses = []
    if plan is not None:
        for item in selectors.plan_items(plan, missed_only=True).order_by("-weight", "id")[:200]:
            misses.append(MissRow(item, next((r for r in item.remedies if r["feasible"]), None)))
    return render_page(
        request,
        "plan.html",
        {
            "plan": plan,
            "misses": misses,
            "services": services_list(),
            "classes": _classes(),
            "form": request.POST,
        }
        | (extra or {}),
    )


def _classes() -> list[str]:
    return selectors.deadline_classes_planned()


@signed_in
@require_GET
def plan(request: HttpRequest) -> HttpResponse:
    return _page(request)


@signed_in
@require_POST
def plan_make(request: HttpRequest) -> HttpResponse:
    try:
        made = services.plan_make(actor=actor(request))
    except DetenteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Plan {made.pk} made: {made.planned} of {made.items} planned, "
            f"{made.missed} deadline(s) at risk."
        )  # fmt: skip
    return HttpResponseRedirect(reverse("web:plan"))


@signed_in
@require_POST
def plan_defer(request: HttpRequest, item_id: int) -> HttpResponse:
    try:
        done = services.plan_item_defer(
            actor=actor(request),
            item=item_id,
            justification=request.POST.get("justification", ""),
        )
    except DetenteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"RA-{done.pk} requested until {done.requested_until}.")
        return HttpResponseRedirect(reverse("web:acceptance", args=[done.pk]))
    return HttpResponseRedirect(reverse("web:plan"))


@signed_in
@require_POST
def plan_what_if(request: HttpRequest) -> HttpResponse:
    try:
        specs = _specs(request.POST)
        scenarios = [parse(spec, services=selectors.services_by_slug()) for spec in specs]
        doc, _ = active_policy()
        results = compare(selectors.planning_input(doc), scenarios)
    except (DetenteError, ValueError, OverflowError) as exc:
        messages.error(request, str(exc))
        return _page(request)
    return _page(request, {"labels": [label for label, _ in results], "compared": _table(results)})


@signed_in
@require_GET
def plan_download(request: HttpRequest) -> HttpResponse:
    plan = selectors.plan_current()
    if plan is None:
        return render_page(request, "error.html", {"message": "No plan yet: make one first."}, 404)
    response = HttpResponse(plan_ics(plan), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="patch-plan-{plan.pk}.ics"'
    return response
