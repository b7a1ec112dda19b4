"""What every regime's clocks share: the types, the calendars and the one way to make a clock.

Pure: no Django, no database. A regime module (``sec.py``, ``gdpr.py`` …) declares its clocks
(``ClockSpec``) and a ``compute`` function over a ``Run``; ``clocks/__init__.py`` lists the regimes.

Hour-based deadlines are elapsed time (UTC arithmetic), so a 24-hour clock across a DST change
ends at a different local wall-clock hour; month-based deadlines are calendar months in the
authority's time zone.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from zoneinfo import ZoneInfo

import holidays


class ClockState(enum.StrEnum):
    PENDING = "pending"
    MET = "met"
    LATE = "late"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class ClockSpec:
    key: str
    regime: str
    label: str
    needs: str
    repeatable: bool = False


# Financial-entity types whose DORA initial and intermediate reports never move off a weekend
# (RTS 2025/301 Art. 5(5)); here because ``Regimes.dora_weekend_exempt`` reads it.
DORA_EXEMPT_TYPES = frozenset({"credit_institution", "ccp", "trading_venue"})


@dataclass(frozen=True)
class Regimes:
    """The organisation's regime profile, as the clocks read it (``RegimeProfile`` in the model)."""

    sec_registrant: bool = False
    gdpr_role: str = "none"  # none | controller | processor
    nis2_entity: str = "none"  # none | essential | important
    dora_entity_type: str = "none"  # none, or a financial-entity type
    eu_timezone: str = "Europe/Paris"
    eu_calendar: str = "FR"  # ISO country code or "TARGET"
    us_timezone: str = "America/New_York"

    @property
    def dora_weekend_exempt(self) -> bool:
        """RTS Art. 5(5): no weekend move for the initial and intermediate reports."""
        return self.dora_entity_type in DORA_EXEMPT_TYPES or self.nis2_entity != "none"


@dataclass(frozen=True)
class ClockFacts:
    aware_at: dt.datetime
    classified_major_at: dt.datetime | None = None
    material_determined_at: dt.datetime | None = None
    sec_details_available_at: dt.datetime | None = None
    personal_data: bool = False
    high_risk_to_subjects: bool = False
    nis2_significant: bool = False
    handled_at: dt.datetime | None = None  # None while the incident is still being handled
    filings: Mapping[str, Sequence[dt.datetime]] = field(default_factory=dict)


@dataclass(frozen=True)
class Clock:
    key: str
    regime: str
    label: str
    state: ClockState
    due: dt.datetime | None  # None: not applicable, or its start event has not happened yet
    filed_at: dt.datetime | None
    needs: str
    basis: str  # how the due time was reached, in words
    asap: bool = False  # "without undue delay": due from the moment it starts

    @property
    def waiting(self) -> bool:
        return self.state == ClockState.PENDING and self.due is None


def aware_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC. Python adds a timedelta to a zoned datetime in wall-clock time, so hour
    arithmetic is done in UTC to count elapsed hours across DST changes."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("clock computations need timezone-aware datetimes")
    return moment.astimezone(dt.UTC)


# ----------------------------------------------------------------------------- calendars


@cache
def _eu_holidays(calendar_name: str, year: int) -> frozenset[dt.date]:
    if calendar_name.upper() == "TARGET":
        return frozenset(holidays.financial_holidays("XECB", years=year))
    return frozenset(holidays.country_holidays(calendar_name.upper(), years=year))


def eu_working_day(day: dt.date, calendar_name: str = "FR") -> bool:
    """Not a weekend or a bank holiday of the member state (or TARGET2 closing day)."""
    return day.weekday() < 5 and day not in _eu_holidays(calendar_name, day.year)


def add_business_days(day: dt.date, count: int, is_business: Callable[[dt.date], bool]) -> dt.date:
    """The ``count``-th business day after ``day`` (``day`` itself never counts)."""
    current = day
    left = count
    while left > 0:
        current += dt.timedelta(days=1)
        if is_business(current):
            left -= 1
    return current


def add_month(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """One calendar month later at the same local wall-clock time (day clamped to month end)."""
    local = aware_utc(moment).astimezone(zone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    naive = local.replace(tzinfo=None, year=year, month=month, day=day)
    return naive.replace(tzinfo=zone).astimezone(dt.UTC)


# ----------------------------------------------------------------------------- one computation


def _state(due: dt.datetime | None, filed: dt.datetime | None, now: dt.datetime) -> ClockState:
    if filed is not None:
        return ClockState.MET if due is None or filed <= due else ClockState.LATE
    if due is not None and now > due:
        return ClockState.LATE
    return ClockState.PENDING


@dataclass(frozen=True)
class Run:
    """One computation's inputs, handed to every regime: the incident's facts, the profile, the
    moment, and the filings sorted per clock key."""

    facts: ClockFacts
    regimes: Regimes
    now: dt.datetime
    filings: Mapping[str, Sequence[dt.datetime]]

    @classmethod
    def of(cls, facts: ClockFacts, regimes: Regimes, now: dt.datetime) -> Run:
        aware_utc(now)
        filings = {key: sorted(map(aware_utc, times)) for key, times in facts.filings.items()}
        return cls(facts=facts, regimes=regimes, now=now, filings=filings)

    @property
    def aware(self) -> dt.datetime:
        return aware_utc(self.facts.aware_at)

    def first(self, spec: ClockSpec) -> dt.datetime | None:
        times = self.filings.get(spec.key)
        return times[0] if times else None

    def last(self, spec: ClockSpec) -> dt.datetime | None:
        times = self.filings.get(spec.key)
        return times[-1] if times else None

    def clock(
        self,
        spec: ClockSpec,
        *,
        due: dt.datetime | None,
        basis: str,
        asap: bool = False,
        label: str | None = None,
    ) -> Clock:
        """A running clock: its state from ``due`` against its first filing and now."""
        filed = self.first(spec)
        return Clock(
            key=spec.key,
            regime=spec.regime,
            label=label or spec.label,
            state=_state(None if asap else due, filed, self.now),
            due=due.astimezone(dt.UTC) if due is not None else None,
            filed_at=filed,
            needs=spec.needs,
            basis=basis,
            asap=asap,
        )

    def waiting(self, spec: ClockSpec, basis: str) -> Clock:
        """A clock whose start event has not happened yet: pending, no due time."""
        return self.clock(spec, due=None, basis=basis)


def not_applicable(spec: ClockSpec, reason: str) -> Clock:
    return Clock(
        key=spec.key,
        regime=spec.regime,
        label=spec.label,
        state=ClockState.NOT_APPLICABLE,
        due=None,
        filed_at=None,
        needs=spec.needs,
        basis=reason,
    )


@dataclass(frozen=True)
class Regime:
    """One regulatory regime: its clocks in display order, how they are computed, and the time
    zone its due times are shown in."""

    name: str
    specs: tuple[ClockSpec, ...]
    compute: Callable[[Run], list[Clock]]
    zone: Callable[[Regimes], str]
    sources: str  # the legal texts, one line each, for docs and the reference page

    def __post_init__(self) -> None:
        wrong = [s.key for s in self.specs if s.regime != self.name]
        if wrong:
            raise ValueError(f"{self.name}: clocks {wrong} declare another regime")
