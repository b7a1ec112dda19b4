"""``{% zone_follow_through snapshot %}``: beside the radar's index, what became of the zone's
action (meeting held, decisions taken, actions done; the reset), from ``meetings.selectors``."""

from __future__ import annotations

from typing import Any

from django import template

from detente.meetings.selectors import action_state
from detente.tension.models import TensionSnapshot

register = template.Library()


@register.inclusion_tag("web/meetings/_follow_through.html")
def zone_follow_through(snapshot: TensionSnapshot) -> dict[str, Any]:
    return {"state": action_state(snapshot), "period": snapshot.period}
