"""Regulatory clocks: pure, timezone-aware deadline arithmetic. No Django, no database.

Sources (see docs/incidents.md for the reading of each):

- SEC Form 8-K Item 1.05 (Release 33-11216): 4 business days after the materiality determination;
  8-K/A within 4 business days after missing details become available. A business day is any day
  but Saturday, Sunday or a US federal holiday (``holidays.US``); the due time is 17:30 New York
  time, EDGAR's cut-off for a same-day filing date.
- GDPR Art. 33(1): the supervisory authority within 72 hours of awareness (controller); Art. 33(2):
  a processor tells the controller without undue delay; Art. 34(1): data subjects without undue
  delay when the breach is likely to result in a high risk.
- NIS2 Dir. (EU) 2022/2555 Art. 23(4): early warning 24 h and notification 72 h after awareness
  of a significant incident; final report one month after the notification, or a progress report
  then if the incident is still being handled, and the final report one month after handling.
- DORA Reg. (EU) 2022/2554 Art. 19 with Delegated Reg. (EU) 2025/301 Art. 5: initial notification
  4 h after classification as major and no later than 24 h after awareness (a classification made
  after those 24 h: 4 h from classification); intermediate 72 h after the initial; final one month
  after the latest intermediate. Art. 5(4): a deadline on a weekend or bank holiday moves to 12:00
  of the next working day, except (5(5)) the initial and intermediate reports of credit
  institutions, central counterparties, trading venues and NIS2 essential or important entities.
  Bank holidays: the authority's member state (``holidays.country_holidays``) or, with the
  calendar ``TARGET``, the TARGET2 closing days (``holidays.financial_holidays("XECB")``).

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


CLOCKS: dict[str, ClockSpec] = {
    spec.key: spec
    for spec in (
        ClockSpec(
            "sec_8k",
            "SEC",
            "Form 8-K Item 1.05",
            "Material aspects of the nature, scope and timing of the incident and its material "
            "impact or reasonably likely material impact on the registrant, including its "
            "financial condition and results of operations. Say which required information is "
            "not yet determined or available.",
        ),
        ClockSpec(
            "sec_8k_a",
            "SEC",
            "Form 8-K/A (Item 1.05 amendment)",
            "The Item 1.05 information that was not determined or was unavailable when the "
            "original 8-K was filed.",
        ),
        ClockSpec(
            "gdpr_33",
            "GDPR",
            "Art. 33 notification to the supervisory authority",
            "Nature of the breach, categories and approximate numbers of data subjects and "
            "records; DPO contact; likely consequences; measures taken or proposed. Information "
            "may be provided in phases; give the reasons for any delay beyond 72 hours.",
        ),
        ClockSpec(
            "gdpr_33_processor",
            "GDPR",
            "Art. 33(2) processor → controller",
            "Tell the controller of the personal-data breach without undue delay.",
        ),
        ClockSpec(
            "gdpr_34",
            "GDPR",
            "Art. 34 communication to data subjects",
            "In clear and plain language: nature of the breach, DPO contact, likely consequences, "
            "measures taken or proposed (including what subjects can do).",
        ),
        ClockSpec(
            "nis2_early_warning",
            "NIS2",
            "Art. 23(4)(a) early warning",
            "Whether the significant incident is suspected of being caused by unlawful or "
            "malicious acts, and whether it could have a cross-border impact.",
        ),
        ClockSpec(
            "nis2_notification",
            "NIS2",
            "Art. 23(4)(b) incident notification",
            "Update of the early warning; initial assessment of severity and impact; indicators "
            "of compromise where available.",
        ),
        ClockSpec(
            "nis2_final",
            "NIS2",
            "Art. 23(4)(d) final report (progress report if ongoing)",
            "Detailed description (severity, impact); type of threat or root cause; mitigation "
            "applied and ongoing; cross-border impact. If the incident is still being handled, a "
            "progress report now and the final report one month after handling.",
        ),
        ClockSpec(
            "nis2_final_after_handling",
            "NIS2",
            "Art. 23(4)(e) final report after handling",
            "The final report, one month after the incident has been handled.",
        ),
        ClockSpec(
            "dora_initial",
            "DORA",
            "Initial notification (major ICT-related incident)",
            "General information on the entity and the incident, classification criteria met, "
            "whether a recurring incident, and the impact known so far (RTS/ITS templates).",
        ),
        ClockSpec(
            "dora_intermediate",
            "DORA",
            "Intermediate report",
            "Detailed information on the incident, its impact and the measures taken; send one "
            "even without change, and an updated one when regular activities are recovered.",
            repeatable=True,
        ),
        ClockSpec(
            "dora_final",
            "DORA",
            "Final report",
            "Root cause, lessons learned, costs and losses, and the measures to avoid recurrence.",
        ),
    )
}

SEC_CUTOFF = dt.time(17, 30)
DORA_EXEMPT_TYPES = frozenset({"credit_institution", "ccp", "trading_venue"})


@dataclass(frozen=True)
class Regimes:
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


def _aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC. Python adds a timedelta to a zoned datetime in wall-clock time, so hour
    arithmetic is done in UTC to count elapsed hours across DST changes."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("clock computations need timezone-aware datetimes")
    return moment.astimezone(dt.UTC)


# ----------------------------------------------------------------------------- calendars


@cache
def _us_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("US", years=year))


@cache
def _eu_holidays(calendar_name: str, year: int) -> frozenset[dt.date]:
    if calendar_name.upper() == "TARGET":
        return frozenset(holidays.financial_holidays("XECB", years=year))
    return frozenset(holidays.country_holidays(calendar_name.upper(), years=year))


def us_business_day(day: dt.date) -> bool:
    """SEC business day: not Saturday, Sunday or a US federal holiday."""
    return day.weekday() < 5 and day not in _us_holidays(day.year)


def eu_working_day(day: dt.date, calendar_name: str = "FR") -> bool:
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
    local = _aware(moment).astimezone(zone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    naive = local.replace(tzinfo=None, year=year, month=month, day=day)
    return naive.replace(tzinfo=zone).astimezone(dt.UTC)


def sec_due(determined_at: dt.datetime, zone: str = "America/New_York") -> dt.datetime:
    """4 business days after the determination, at EDGAR's 17:30 cut-off (New York time)."""
    tz = ZoneInfo(zone)
    local_day = _aware(determined_at).astimezone(tz).date()
    day = add_business_days(local_day, 4, us_business_day)
    return dt.datetime.combine(day, SEC_CUTOFF, tzinfo=tz).astimezone(dt.UTC)


def dora_move(moment: dt.datetime, zone: str, calendar_name: str) -> dt.datetime:
    """RTS 2025/301 Art. 5(4): a deadline on a weekend or bank holiday → 12:00 next working day."""
    tz = ZoneInfo(zone)
    local_day = _aware(moment).astimezone(tz).date()
    if eu_working_day(local_day, calendar_name):
        return moment.astimezone(dt.UTC)
    day = local_day + dt.timedelta(days=1)
    while not eu_working_day(day, calendar_name):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=tz).astimezone(dt.UTC)


def dora_initial_due(aware_at: dt.datetime, classified_at: dt.datetime) -> dt.datetime:
    """4 h after classification, but no later than 24 h after awareness — unless classification
    itself came after those 24 h, when the 4 h run from classification."""
    four = _aware(classified_at) + dt.timedelta(hours=4)
    day = _aware(aware_at) + dt.timedelta(hours=24)
    return four if classified_at > day else min(four, day)


# ----------------------------------------------------------------------------- clocks


def _state(due: dt.datetime | None, filed: dt.datetime | None, now: dt.datetime) -> ClockState:
    if filed is not None:
        return ClockState.MET if due is None or filed <= due else ClockState.LATE
    if due is not None and now > due:
        return ClockState.LATE
    return ClockState.PENDING


def _make(
    key: str,
    *,
    due: dt.datetime | None,
    filed: dt.datetime | None,
    now: dt.datetime,
    basis: str,
    asap: bool = False,
    label: str | None = None,
) -> Clock:
    spec = CLOCKS[key]
    state = _state(None if asap else due, filed, now)
    return Clock(
        key=key,
        regime=spec.regime,
        label=label or spec.label,
        state=state,
        due=due.astimezone(dt.UTC) if due is not None else None,
        filed_at=filed,
        needs=spec.needs,
        basis=basis,
        asap=asap,
    )


def _not_applicable(key: str, reason: str) -> Clock:
    spec = CLOCKS[key]
    return Clock(
        key=key,
        regime=spec.regime,
        label=spec.label,
        state=ClockState.NOT_APPLICABLE,
        due=None,
        filed_at=None,
        needs=spec.needs,
        basis=reason,
    )


def compute_clocks(facts: ClockFacts, regimes: Regimes, now: dt.datetime) -> list[Clock]:
    """Every clock in ``CLOCKS`` order, each with its due time, state and what it needs."""
    _aware(now)
    aware = _aware(facts.aware_at)
    filings = {key: sorted(map(_aware, times)) for key, times in facts.filings.items()}

    def first(key: str) -> dt.datetime | None:
        return filings[key][0] if filings.get(key) else None

    def last(key: str) -> dt.datetime | None:
        return filings[key][-1] if filings.get(key) else None

    out: list[Clock] = []
    eu = ZoneInfo(regimes.eu_timezone)

    # SEC
    if not regimes.sec_registrant:
        out += [_not_applicable(k, "not an SEC registrant") for k in ("sec_8k", "sec_8k_a")]
    else:
        determined = facts.material_determined_at
        if determined is None:
            out.append(
                _make(
                    "sec_8k",
                    due=None,
                    filed=first("sec_8k"),
                    now=now,
                    basis="starts when the incident is determined material",
                )
            )
        else:
            out.append(
                _make(
                    "sec_8k",
                    due=sec_due(determined, regimes.us_timezone),
                    filed=first("sec_8k"),
                    now=now,
                    basis="4 business days after the materiality determination",
                )
            )
        available = facts.sec_details_available_at
        if available is None:
            out.append(_not_applicable("sec_8k_a", "no missing Item 1.05 details have come in"))
        else:
            out.append(
                _make(
                    "sec_8k_a",
                    due=sec_due(available, regimes.us_timezone),
                    filed=first("sec_8k_a"),
                    now=now,
                    basis="4 business days after the missing details became available",
                )
            )

    # GDPR
    gdpr_keys = ("gdpr_33", "gdpr_33_processor", "gdpr_34")
    if regimes.gdpr_role == "none" or not facts.personal_data:
        reason = "GDPR not configured" if regimes.gdpr_role == "none" else "no personal data"
        out += [_not_applicable(k, reason) for k in gdpr_keys]
    elif regimes.gdpr_role == "processor":
        out.append(_not_applicable("gdpr_33", "a processor: the controller notifies"))
        out.append(
            _make(
                "gdpr_33_processor",
                due=aware,
                filed=first("gdpr_33_processor"),
                now=now,
                basis="without undue delay after awareness",
                asap=True,
            )
        )
        out.append(_not_applicable("gdpr_34", "a processor: the controller informs subjects"))
    else:
        out.append(
            _make(
                "gdpr_33",
                due=aware + dt.timedelta(hours=72),
                filed=first("gdpr_33"),
                now=now,
                basis="72 hours after awareness",
            )
        )
        out.append(_not_applicable("gdpr_33_processor", "a controller"))
        if facts.high_risk_to_subjects:
            out.append(
                _make(
                    "gdpr_34",
                    due=aware,
                    filed=first("gdpr_34"),
                    now=now,
                    basis="without undue delay (high risk to data subjects)",
                    asap=True,
                )
            )
        else:
            out.append(_not_applicable("gdpr_34", "no high risk to data subjects assessed"))

    # NIS2
    nis2_keys = (
        "nis2_early_warning",
        "nis2_notification",
        "nis2_final",
        "nis2_final_after_handling",
    )
    if regimes.nis2_entity == "none" or not facts.nis2_significant:
        reason = "not a NIS2 entity" if regimes.nis2_entity == "none" else "not significant"
        out += [_not_applicable(k, reason) for k in nis2_keys]
    else:
        out.append(
            _make(
                "nis2_early_warning",
                due=aware + dt.timedelta(hours=24),
                filed=first("nis2_early_warning"),
                now=now,
                basis="24 hours after awareness",
            )
        )
        notification_due = aware + dt.timedelta(hours=72)
        out.append(
            _make(
                "nis2_notification",
                due=notification_due,
                filed=first("nis2_notification"),
                now=now,
                basis="72 hours after awareness",
            )
        )
        notified = first("nis2_notification")
        final_due = add_month(notified or notification_due, eu)
        handled = facts.handled_at
        ongoing = handled is None or handled > final_due
        label = CLOCKS["nis2_final"].label
        if ongoing:
            label = "Art. 23(4)(e) progress report (incident still being handled)"
        out.append(
            _make(
                "nis2_final",
                due=final_due,
                filed=first("nis2_final"),
                now=now,
                label=label,
                basis="one month after the incident notification"
                + ("" if notified else " (its due time: not filed yet)"),
            )
        )
        if not ongoing:
            out.append(_not_applicable("nis2_final_after_handling", "handled within the month"))
        elif handled is None:
            out.append(
                _make(
                    "nis2_final_after_handling",
                    due=None,
                    filed=first("nis2_final_after_handling"),
                    now=now,
                    basis="starts when the incident has been handled",
                )
            )
        else:
            out.append(
                _make(
                    "nis2_final_after_handling",
                    due=add_month(handled, eu),
                    filed=first("nis2_final_after_handling"),
                    now=now,
                    basis="one month after the incident was handled",
                )
            )

    # DORA
    dora_keys = ("dora_initial", "dora_intermediate", "dora_final")
    if regimes.dora_entity_type == "none":
        out += [_not_applicable(k, "not a DORA financial entity") for k in dora_keys]
    elif facts.classified_major_at is None:
        out += [
            _make(
                k,
                due=None,
                filed=first(k),
                now=now,
                basis="starts when the incident is classified as major",
            )
            for k in dora_keys
        ]
    else:
        exempt = regimes.dora_weekend_exempt

        def moved(moment: dt.datetime, can_move: bool) -> tuple[dt.datetime, str]:
            if not can_move:
                return moment, ""
            after = dora_move(moment, regimes.eu_timezone, regimes.eu_calendar)
            return after, ("" if after == moment else "; weekend/holiday → 12:00 next working day")

        raw_initial = dora_initial_due(aware, _aware(facts.classified_major_at))
        initial_due, note = moved(raw_initial, not exempt)
        out.append(
            _make(
                "dora_initial",
                due=initial_due,
                filed=first("dora_initial"),
                now=now,
                basis="4 h after classification as major, ≤ 24 h after awareness" + note,
            )
        )
        initial_basis = first("dora_initial") or initial_due
        intermediate_due, note = moved(initial_basis + dt.timedelta(hours=72), not exempt)
        out.append(
            _make(
                "dora_intermediate",
                due=intermediate_due,
                filed=first("dora_intermediate"),
                now=now,
                basis="72 hours after the initial notification" + note,
            )
        )
        latest = last("dora_intermediate") or intermediate_due
        final_due, note = moved(add_month(latest, eu), True)
        out.append(
            _make(
                "dora_final",
                due=final_due,
                filed=first("dora_final"),
                now=now,
                basis="one month after the latest intermediate report" + note,
            )
        )
    return out
