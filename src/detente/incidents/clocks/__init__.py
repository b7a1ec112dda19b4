"""Regulatory clocks: one module per regime behind one interface. Pure: no Django, no database.

Each regime module (``sec.py``, ``gdpr.py``, ``nis2.py``, ``dora.py``) declares its clocks once
(``ClockSpec``: key, label, what the filing needs), the legal source, the time zone its due times
are shown in, and a ``compute(run)`` returning its clocks in order. ``REGIMES`` below is the
registry: a new regime is one module exposing ``REGIME`` plus one line here (and its tests);
``docs/incidents.md`` explains each reading.
"""

from __future__ import annotations

import datetime as dt

from detente.incidents.clocks import dora, gdpr, nis2, sec
from detente.incidents.clocks.base import (
    Clock,
    ClockFacts,
    ClockSpec,
    ClockState,
    Regime,
    Regimes,
    Run,
    add_business_days,
    add_month,
    eu_working_day,
)
from detente.incidents.clocks.dora import dora_initial_due, dora_move
from detente.incidents.clocks.sec import sec_due, us_business_day

REGIMES: tuple[Regime, ...] = (
    sec.REGIME,
    gdpr.REGIME,
    nis2.REGIME,
    dora.REGIME,
)

CLOCKS: dict[str, ClockSpec] = {spec.key: spec for regime in REGIMES for spec in regime.specs}
BY_NAME: dict[str, Regime] = {regime.name: regime for regime in REGIMES}
if len(CLOCKS) != sum(len(regime.specs) for regime in REGIMES) or len(BY_NAME) != len(REGIMES):
    raise ImportError("two regulatory regimes declare the same clock key or regime name")


def compute_clocks(facts: ClockFacts, regimes: Regimes, now: dt.datetime) -> list[Clock]:
    """Every clock in ``CLOCKS`` order, each with its due time, state and what it needs."""
    run = Run.of(facts, regimes, now)
    out: list[Clock] = []
    for regime in REGIMES:
        computed = regime.compute(run)
        if [c.key for c in computed] != [s.key for s in regime.specs]:
            raise AssertionError(f"{regime.name} computed clocks out of its declared order")
        out += computed
    return out


def display_zone(clock: Clock, regimes: Regimes) -> str:
    """The time zone a clock's due time is shown in (its regime's authority)."""
    return BY_NAME[clock.regime].zone(regimes)


__all__ = [
    "BY_NAME",
    "CLOCKS",
    "REGIMES",
    "Clock",
    "ClockFacts",
    "ClockSpec",
    "ClockState",
    "Regime",
    "Regimes",
    "add_business_days",
    "add_month",
    "compute_clocks",
    "display_zone",
    "dora_initial_due",
    "dora_move",
    "eu_working_day",
    "sec_due",
    "us_business_day",
]
