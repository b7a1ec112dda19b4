"""The five principles a record still lacks, for the pages that prompt people: an open decision
record (``record|lacking``), a risk acceptance request (``acceptance|request_lacking``). The rule
is ``decisions.principles`` (pure); the acceptance's facts come from its selector."""

from __future__ import annotations

from typing import Any

from django import template

from detente.acceptances.models import RiskAcceptance
from detente.acceptances.selectors import principles_lacking
from detente.decisions.principles import PRINCIPLES, Principle, missing_of

register = template.Library()


@register.filter
def lacking(record: Any) -> list[Principle]:
    """A decision record's blank principles (all five when there is no record)."""
    return list(PRINCIPLES) if record is None else missing_of(record)


@register.filter
def request_lacking(acceptance: RiskAcceptance) -> list[Principle]:
    return principles_lacking(acceptance)
