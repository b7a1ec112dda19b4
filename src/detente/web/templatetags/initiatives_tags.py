"""``{% running_initiatives %}``: the running initiatives with their guardrail status, for both
leaders' views (one line in each template; the data comes from the initiatives selector)."""

from __future__ import annotations

from typing import Any

from django import template

from detente.initiatives.selectors import initiative_rows

register = template.Library()


@register.inclusion_tag("web/initiatives/_running.html")
def running_initiatives() -> dict[str, Any]:
    return {"rows": initiative_rows(running_only=True), "running": True}


@register.filter
def g(value: float | None) -> str:
    """A figure as people write it: 97, 9.6, 0.25 (no trailing zeros)."""
    return "" if value is None else f"{value:g}"
