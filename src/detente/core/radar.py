"""The contract between the tension radar and the domains that contribute signals to it.

The radar (``detente.tension``) sits above most domains, so a domain below it (planning, gates,
initiatives, the API register …) cannot import it. Such a domain writes ``<app>/signals.py``:

- functions ``(start, end) -> Reading`` over the half-open period ``[start, end)``;
- ``SIGNALS``: the tuple of those functions;
- ``META``: for each function name, a ``SignalMeta`` (what the radar shows: name, tag, sub-index,
  formula, and the kinds of evidence the reading carries).

``tension/contributed.py`` imports each such module by name (an import the layer check sees) and
the registry adapts its functions. A ``Reading``'s evidence is a dict: lists of ids (or of dicts
with an ``id``) are evidence of that kind, plain numbers are facts behind the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

Tag = Literal["overt", "covert", "perception"]
SubIndex = Literal["decision_friction", "risk_debt", "communication", "relationship"]


@dataclass(frozen=True, slots=True)
class Reading:
    """One period's value of a contributed signal, with the evidence behind it."""

    name: str
    value: float | None  # None: no input this period
    evidence: dict[str, Any] = field(default_factory=dict)


class SignalMeta(NamedTuple):
    """What the radar shows for a contributed signal."""

    name: str
    tag: Tag
    sub_index: SubIndex | None
    formula: str
    evidence: tuple[str, ...] = ()  # the kinds of ids its readings carry (e.g. "phases")
