"""Filters that turn stored keys and Python values into what people read: spans ("4 s",
"2 h 5 min"), role names, and one date format."""

from __future__ import annotations

import datetime as dt

from django import template

from detente.core.text import duration
from detente.people.models import Role

register = template.Library()


@register.filter
def span(value: dt.timedelta | float | int | None) -> str:
    """A span as people read it ("4 s", "3 d 4 h"); a number is seconds; empty for None."""
    if value is None or value == "":
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
