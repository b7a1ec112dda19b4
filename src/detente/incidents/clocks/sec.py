"""SEC Form 8-K Item 1.05 (Release 33-11216).

4 business days after the materiality determination; 8-K/A within 4 business days after missing
details become available. A business day is any day but Saturday, Sunday or a US federal holiday
(``holidays.US``); the due time is 17:30 New York time, EDGAR's cut-off for a same-day filing date.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from detente.incidents.clocks.base import (
    Clock,
    ClockSpec,
    Regime,
    Regimes,
    Run,
    add_business_days,
    aware_utc,
    not_applicable,
)

SEC_CUTOFF = dt.time(17, 30)

FORM_8K = ClockSpec(
    "sec_8k",
    "SEC",
    "Form 8-K Item 1.05",
    "Material aspects of the nature, scope and timing of the incident and its material "
    "impact or reasonably likely material impact on the registrant, including its "
    "financial condition and results of operations. Say which required information is "
    "not yet determined or available.",
)
FORM_8K_A = ClockSpec(
    "sec_8k_a",
    "SEC",
    "Form 8-K/A (Item 1.05 amendment)",
    "The Item 1.05 information that was not determined or was unavailable when the "
    "original 8-K was filed.",
)


@cache
def _us_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("US", years=year))


def us_business_day(day: dt.date) -> bool:
    """SEC business day: not Saturday, Sunday or a US federal holiday."""
    return day.weekday() < 5 and day not in _us_holidays(day.year)


def sec_due(determined_at: dt.datetime, zone: str = "America/New_York") -> dt.datetime:
    """4 business days after the determination, at EDGAR's 17:30 cut-off (New York time)."""
    tz = ZoneInfo(zone)
    local_day = aware_utc(determined_at).astimezone(tz).date()
    day = add_business_days(local_day, 4, us_business_day)
    return dt.datetime.combine(day, SEC_CUTOFF, tzinfo=tz).astimezone(dt.UTC)


def compute(run: Run) -> list[Clock]:
    regimes, facts = run.regimes, run.facts
    if not regimes.sec_registrant:
        return [not_applicable(s, "not an SEC registrant") for s in (FORM_8K, FORM_8K_A)]
    determined = facts.material_determined_at
    if determined is None:
        report = run.waiting(FORM_8K, "starts when the incident is determined material")
    else:
        report = run.clock(
            FORM_8K,
            due=sec_due(determined, regimes.us_timezone),
            basis="4 business days after the materiality determination",
        )
    available = facts.sec_details_available_at
    if available is None:
        amendment = not_applicable(FORM_8K_A, "no missing Item 1.05 details have come in")
    else:
        amendment = run.clock(
            FORM_8K_A,
            due=sec_due(available, regimes.us_timezone),
            basis="4 business days after the missing details became available",
        )
    return [report, amendment]


def _zone(regimes: Regimes) -> str:
    return regimes.us_timezone


REGIME = Regime(
    name="SEC",
    specs=(FORM_8K, FORM_8K_A),
    compute=compute,
    zone=_zone,
    sources="SEC Form 8-K Item 1.05 (Release 33-11216)",
)
