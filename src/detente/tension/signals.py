"""The radar's public names, in one import: the period, the data loader, the registry.

The work is split by concern: ``period.py`` (the calendar month), ``facts.py`` (the data loader:
what the formulas read, once per run of periods), ``formulas.py`` (the built-in formulas) and
``registry.py`` (every signal declared once: name, tag, sub-index, formula, evidence kinds,
thresholds; the contributing domains listed explicitly). Callers import from here.
"""

from __future__ import annotations

from detente.core.radar import SubIndex, Tag
from detente.tension.facts import EVIDENCE_LIMIT, QUARTER, PeriodContext, RangeFacts
from detente.tension.formulas import SignalValue, escalations, override_rate
from detente.tension.period import Period
from detente.tension.registry import (
    BUILT_IN,
    CONTRIBUTORS,
    SUB_INDICES,
    Signal,
    compute_all,
    register,
    registered,
    tuned,
)

__all__ = [
    "BUILT_IN",
    "CONTRIBUTORS",
    "EVIDENCE_LIMIT",
    "QUARTER",
    "SUB_INDICES",
    "Period",
    "PeriodContext",
    "RangeFacts",
    "Signal",
    "SignalValue",
    "SubIndex",
    "Tag",
    "compute_all",
    "escalations",
    "override_rate",
    "register",
    "registered",
    "tuned",
]
