"""Filters that turn stored keys and Python values into what people read: spans ("4 s",
"2 h 5 min"), role names, and one date format."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from detente.api_register.models import Outcome, TesterKind
from detente.audit import labels
from detente.core.text import duration
from detente.findings.models import SeverityLevel
from detente.findings.models import Status as FindingStatus
from detente.initiatives.models import Direction, GuardrailAction, GuardrailState, PhaseStatus, Side
from detente.people.models import Role

register = template.Library()


@register.filter
def span(value: dt.timedelta | float | int | None) -> str:
    """A span as people read it ("4 s", "3 d 4 h"); a number is seconds; empty for None."""
    if value is None:
        return ""
    if isinstance(value, dt.timedelta):
        return duration(value)
    return duration(dt.timedelta(seconds=float(value)))


@register.filter
def role_label(value: str | None) -> str:
    """A role's name ("IT lead") for its key ("it_lead"); other text as it is."""
    if not value:
        return ""
    return str(Role(value).label) if value in Role.values else str(value)


@register.filter
def event_label(verb: str) -> str:
    """An audit event's verb as people read it ("Deferral approved")."""
    return labels.event_label(str(verb))


@register.simple_tag
def subject_label(subject_type: str, subject_id: object) -> str:
    """An audit event's subject ("RA-12", "gate override 3")."""
    return labels.subject_label(str(subject_type), subject_id)


@register.filter
def role_labels(values: list[str] | None) -> str:
    """Role keys joined as names ("CISO, CIO")."""
    return ", ".join(role_label(v) for v in values or [])


@register.filter
def ms_span(value: int | float | None) -> str:
    """Milliseconds as people read them: "850 ms" under a second, else a span ("4 s")."""
    if value is None:
        return ""
    if float(value) < 1000:
        return f"{int(value)} ms"
    return duration(dt.timedelta(milliseconds=float(value)))


REMEDIES = {
    "emergency_change": "Emergency change",
    "extra_window": "Extra change window",
    "deferral": "Deferral (risk acceptance)",
    "none": "None feasible",
}


@register.filter
def remedy_label(kind: str | None) -> str:
    """A patch plan's remedy by name ("Emergency change", not "emergency_change")."""
    if not kind:
        return ""
    return REMEDIES.get(str(kind), str(kind).replace("_", " ").capitalize())


@register.filter
def plan_item_label(item: Any) -> str:
    """A work item by what it does ("Upgrade openssl on web-1"), not by its key."""
    asset = getattr(getattr(item, "asset", None), "name", "") or "an asset"
    kind = getattr(item, "kind", "")
    if kind == "image":
        return f"Rebuild image {asset}"
    if kind == "host":
        return f"Patch host {asset}"
    if kind == "package":
        return f"Upgrade {item.component} on {asset}"
    ids = getattr(item, "finding_ids", None) or []
    return f"Fix finding {ids[0]} on {asset}" if ids else f"Fix {asset}"


CLOCK_STATES = {"pending": "running", "met": "filed", "late": "late", "not_applicable": "n/a"}


@register.filter
def clock_state(state: str | None) -> str:
    """A regulatory clock's state as people read it ("running", "filed", "late")."""
    return CLOCK_STATES.get(str(state or ""), str(state or "").replace("_", " "))


@register.filter
def humanize_key(value: str | None) -> str:
    """A stored key as words ("single_blend" -> "single blend")."""
    return str(value or "").replace("_", " ")


@register.filter
def stamp(value: dt.datetime | dt.date | str | None) -> str:
    """A moment in the site's one format ("2026-12-03 14:05", UTC); a date as "2026-12-03";
    an ISO text (as selectors hand them to pages) is read first; empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            return text
        if len(text) == 10:
            return value.date().isoformat()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _choice_label(choices: Any, value: str | None) -> str:
    if not value:
        return ""
    return str(choices(value).label) if value in choices.values else str(value).replace("_", " ")


@register.filter
def phase_status_label(value: str | None) -> str:
    """An initiative phase's state ("Rolled back", "Cancelled after objection")."""
    return _choice_label(PhaseStatus, value)


@register.filter
def guardrail_state_label(value: str | None) -> str:
    """A guardrail's (or a phase's worst) state ("Breached", "Metric unavailable")."""
    return _choice_label(GuardrailState, value)


@register.filter
def guardrail_label(value: str | None, kind: str = "") -> str:
    """A guardrail's direction or action by name ("breached below the threshold", "Pause the
    phase"); ``kind`` is "direction" or "action"."""
    return _choice_label(Direction if kind == "direction" else GuardrailAction, value)


@register.filter
def side_label(value: str | None) -> str:
    """A sponsor's side ("CIO side")."""
    return _choice_label(Side, value)


@register.filter
def minutes_span(value: int | float | None) -> str:
    """A number of minutes as a span ("1 d", "30 min")."""
    if value is None:
        return ""
    return duration(dt.timedelta(minutes=float(value)))


@register.filter
def hours_span(value: float | int | None) -> str:
    """A number of hours as a span ("1 h 30 min", "2 d 3 h")."""
    if value is None:
        return ""
    return duration(dt.timedelta(hours=float(value)))


@register.filter
def finding_status_label(value: str | None) -> str:
    """A finding's status ("False positive", "Not affected (reviewed VEX)")."""
    return _choice_label(FindingStatus, value)


@register.filter
def severity_label(value: str | None) -> str:
    """A severity level ("Critical")."""
    return _choice_label(SeverityLevel, value)


PENTEST_STATES = {
    "valid": "Valid",
    "stale": "Stale (the spec changed since)",
    "expired": "Expired",
    "none": "None recorded",
}


@register.filter
def pentest_label(value: str | None) -> str:
    """An API's pen-test state ("Stale (the spec changed since)")."""
    return PENTEST_STATES.get(str(value or ""), str(value or "").replace("_", " "))


@register.filter
def stage_label(value: str | None) -> str:
    """An API exposure stage as a word ("Public"); stages are the policy's own words."""
    return str(value or "").replace("_", " ").capitalize()


@register.filter
def promotion_label(value: str | None) -> str:
    """A promotion attempt's outcome ("Forced past the gate")."""
    return _choice_label(Outcome, value)


@register.filter
def tester_label(value: str | None) -> str:
    """Who ran a pen test ("External firm")."""
    return _choice_label(TesterKind, value)


GATE_LEVELS = {"block": "blocks a release", "warn": "warns only"}


@register.filter
def gate_level_label(value: str | None) -> str:
    """A release-gate rule's level ("blocks a release", "warns only")."""
    return GATE_LEVELS.get(str(value or ""), str(value or ""))
