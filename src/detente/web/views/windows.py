"""Change windows and blackouts on the web: list, add, edit (the planning services decide who may:
CIO, IT lead, change manager, and a service owner for their own services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from detente.core.errors import DetenteError, InputError
from detente.inventory.selectors import service_or_none, services_list
from detente.planning import services
from detente.planning.models import CapacityUnit
from detente.planning.selectors import blackouts_recent, windows_all
from detente.planning.services import PLANNERS
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page


def _int(post: Any, key: str) -> int:
    try:
        return int(post.get(key, ""))
    except ValueError:
        raise InputError("a whole number, please", field=key) from None


def _float(post: Any, key: str) -> float:
    try:
        return float(post.get(key, ""))
    except ValueError:
        raise InputError("a number, please", field=key) from None


def _time(post: Any, key: str) -> dt.time:
    try:
        return dt.time.fromisoformat(post.get(key, ""))
    except ValueError:
        raise InputError("a time as HH:MM", field=key) from None


def _utc(post: Any, key: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(post.get(key, "")).replace(tzinfo=dt.UTC)
    except ValueError:
        raise InputError("a date and time (UTC)", field=key) from None


@signed_in
@require_GET
def windows(request: HttpRequest) -> HttpResponse:
    person = actor(request)
    return render_page(
        request,
        "windows.html",
        {
            "windows": windows_all(),
            "blackouts": blackouts_recent(limit=50),
            "services": services_list(),
            "units": CapacityUnit.choices,
            "may_plan": person.has_any_role(PLANNERS),
        },
    )


def _back(request: HttpRequest, done: str | None, exc: DetenteError | None) -> HttpResponse:
    if exc is not None:
        messages.error(request, str(exc))
    elif done:
        messages.success(request, done)
    return HttpResponseRedirect(reverse("web:windows"))


@signed_in
@require_POST
def window_save(request: HttpRequest, window_id: int | None = None) -> HttpResponse:
    post, person = request.POST, actor(request)
    try:
        values: dict[str, Any] = {
            "name": post.get("name", ""), "rrule": post.get("rrule", ""),
            "start_time": _time(post, "start_time"),
            "duration_minutes": _int(post, "duration_minutes"),
            "capacity": _float(post, "capacity"),
            "capacity_unit": post.get("capacity_unit", CapacityUnit.SLOTS),
        }  # fmt: skip
        if window_id is None:
            service = service_or_none(post.get("service", ""))
            if service is None:
                raise InputError("choose a service", field="service")
            saved = services.window_add(actor=person, service=service, **values)
            done = f"Window “{saved.name}” added for {service.name}; the next plan uses it."
        else:
            saved = services.window_update(actor=person, window=window_id, **values)
            done = f"Window “{saved.name}” saved; the next plan uses it."
    except DetenteError as exc:
        return _back(request, None, exc)
    return _back(request, done, None)


@signed_in
@require_POST
def blackout_save(request: HttpRequest, blackout_id: int | None = None) -> HttpResponse:
    post, person = request.POST, actor(request)
    try:
        starts, ends = _utc(post, "starts_at"), _utc(post, "ends_at")
        reason = post.get("reason", "")
        if blackout_id is None:
            slug = post.get("service", "")
            service = service_or_none(slug)
            if slug and service is None:
                raise InputError("unknown service", field="service")
            services.blackout_add(
                actor=person, starts_at=starts, ends_at=ends, reason=reason, service=service
            )
            done = "Blackout added: no change is planned inside it."
        else:
            services.blackout_update(
                actor=person, blackout=blackout_id, starts_at=starts, ends_at=ends, reason=reason
            )
            done = "Blackout saved."
    except DetenteError as exc:
        return _back(request, None, exc)
    return _back(request, done, None)
