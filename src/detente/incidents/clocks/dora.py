"""DORA Reg. (EU) 2022/2554 Art. 19 with Delegated Reg. (EU) 2025/301 Art. 5.

Initial notification 4 h after classification as major and no later than 24 h after awareness (a
classification made after those 24 h: 4 h from classification); intermediate 72 h after the
initial; final one month after the latest intermediate. Art. 5(4): a deadline on a weekend or
bank holiday moves to 12:00 of the next working day, except (5(5)) the initial and intermediate
reports of credit institutions, central counterparties, trading venues and NIS2 essential or
important entities. Bank holidays: the authority's member state
(``holidays.country_holidays``) or, with the calendar ``TARGET``, the TARGET2 closing days
(``holidays.financial_holidays("XECB")``).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from detente.incidents.clocks.base import (
    Clock,
    ClockSpec,
    Regime,
    Regimes,
    Run,
    add_month,
    aware_utc,
    eu_working_day,
    not_applicable,
)

INITIAL = ClockSpec(
    "dora_initial",
    "DORA",
    "Initial notification (major ICT-related incident)",
    "General information on the entity and the incident, classification criteria met, "
    "whether a recurring incident, and the impact known so far (RTS/ITS templates).",
)
INTERMEDIATE = ClockSpec(
    "dora_intermediate",
    "DORA",
    "Intermediate report",
    "Detailed information on the incident, its impact and the measures taken; send one "
    "even without change, and an updated one when regular activities are recovered.",
    repeatable=True,
)
FINAL = ClockSpec(
    "dora_final",
    "DORA",
    "Final report",
    "Root cause, lessons learned, costs and losses, and the measures to avoid recurrence.",
)
SPECS = (INITIAL, INTERMEDIATE, FINAL)


def dora_move(moment: dt.datetime, zone: str, calendar_name: str) -> dt.datetime:
    """RTS 2025/301 Art. 5(4): a deadline on a weekend or bank holiday → 12:00 next working day."""
    tz = ZoneInfo(zone)
    local_day = aware_utc(moment).astimezone(tz).date()
    if eu_working_day(local_day, calendar_name):
        return moment.astimezone(dt.UTC)
    day = local_day + dt.timedelta(days=1)
    while not eu_working_day(day, calendar_name):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=tz).astimezone(dt.UTC)


def dora_initial_due(aware_at: dt.datetime, classified_at: dt.datetime) -> dt.datetime:
    """4 h after classification, but no later than 24 h after awareness — unless classification
    itself came after those 24 h, when the 4 h run from classification."""
    four = aware_utc(classified_at) + dt.timedelta(hours=4)
    day = aware_utc(aware_at) + dt.timedelta(hours=24)
    return four if classified_at > day else min(four, day)


def compute(run: Run) -> list[Clock]:
    regimes = run.regimes
    if regimes.dora_entity_type == "none":
        return [not_applicable(s, "not a DORA financial entity") for s in SPECS]
    classified = run.facts.classified_major_at
    if classified is None:
        return [run.waiting(s, "starts when the incident is classified as major") for s in SPECS]
    exempt = regimes.dora_weekend_exempt

    def moved(moment: dt.datetime, can_move: bool) -> tuple[dt.datetime, str]:
        if not can_move:
            return moment, ""
        after = dora_move(moment, regimes.eu_timezone, regimes.eu_calendar)
        return after, ("" if after == moment else "; weekend/holiday → 12:00 next working day")

    initial_due, note = moved(dora_initial_due(run.aware, aware_utc(classified)), not exempt)
    initial = run.clock(
        INITIAL,
        due=initial_due,
        basis="4 h after classification as major, ≤ 24 h after awareness" + note,
    )
    initial_basis = run.first(INITIAL) or initial_due
    intermediate_due, note = moved(initial_basis + dt.timedelta(hours=72), not exempt)
    intermediate = run.clock(
        INTERMEDIATE,
        due=intermediate_due,
        basis="72 hours after the initial notification" + note,
    )
    latest = run.last(INTERMEDIATE) or intermediate_due
    final_due, note = moved(add_month(latest, ZoneInfo(regimes.eu_timezone)), True)
    final = run.clock(
        FINAL,
        due=final_due,
        basis="one month after the latest intermediate report" + note,
    )
    return [initial, intermediate, final]


def _zone(regimes: Regimes) -> str:
    return regimes.eu_timezone


REGIME = Regime(
    name="DORA",
    specs=SPECS,
    compute=compute,
    zone=_zone,
    sources="DORA Reg. (EU) 2022/2554 Art. 19; Delegated Reg. (EU) 2025/301 Art. 5",
)
