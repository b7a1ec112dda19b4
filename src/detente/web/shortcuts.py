"""What every page shares: the signed-in person (``actor``, the name the API uses too) and
the page frame (``render_page``: navigation, its current section, the needs count)."""

from __future__ import annotations

from typing import Any

from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import render

from detente.core import clock
from detente.people.models import Person, Role
from detente.reports.dashboards import (
    home_for,
)
from detente.reports.needs import needs_count
from detente.tension.selectors import radar_readable_by


def actor(request: HttpRequest) -> Person:
    person: Person = request.person  # type: ignore[attr-defined]
    return person


# Which navigation entry a page belongs to (marked aria-current="page"), by URL name prefix.
SECTIONS = (
    ("ciso", "ciso"), ("cio", "cio"), ("mywork", "home"), ("finding", "findings"),
    ("upload", "upload"), ("import", "upload"), ("acceptance", "acceptances"),
    ("decision", "decisions"), ("incident", "incidents"), ("briefing", "incidents"),
    ("plan", "plan"), ("window", "plan"), ("blackout", "plan"), ("radar", "radar"),
    ("profile", "radar"), ("pairing", "radar"), ("pulse", "radar"), ("audit", "audit"),
    ("account", "account"), ("token", "account"), ("totp", "account"), ("api", "apis"),
    ("initiative", "initiatives"), ("gate", "gate"), ("org_", "org"), ("meeting", "meetings"),
    ("reset", "meetings"), ("trends", "radar"),
)  # fmt: skip


def _section(request: HttpRequest, person: Person) -> str:
    name = request.resolver_match.url_name if request.resolver_match else None
    if not name:
        return ""
    if home_for(person) == name:
        return "home"
    return next((section for prefix, section in SECTIONS if name.startswith(prefix)), "")


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    person = actor(request)
    base = {
        "me": person,
        "can_write": not person.has_role(Role.AUDITOR),
        "now": clock.now(),
        # the home already knows its needs: count them, do not ask twice
        "needs_count": context["needs"].count if context.get("needs") else needs_count(person),
        "section": _section(request, person),
        "radar_visible": radar_readable_by(person),
    }
    return render(request, f"web/{template}", base | context, status=status)
