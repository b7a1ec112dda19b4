"""``{% apis_waiting %}``: the API register's block on both leaders' views (one line each)."""

from __future__ import annotations

from typing import Any

from django import template

from detente.api_register.selectors import apis_waiting as waiting_rows

register = template.Library()


@register.inclusion_tag("web/api_register/_waiting.html")
def apis_waiting() -> dict[str, Any]:
    return {"apis_waiting": waiting_rows()}
