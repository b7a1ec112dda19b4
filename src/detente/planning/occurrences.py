"""Change-window recurrence: RFC 5545 RRULEs expanded in the window's own time zone (pure).

A window's start is wall-clock time in its zone, so "Saturday 02:00 Europe/Paris" stays 02:00 in
Paris across daylight-saving changes (its UTC instant moves by an hour). Times that do not exist
(the spring-forward gap) are read with the offset before the change; times that exist twice (the
autumn fall-back) are the first of the two (``fold=0``), as RFC 5545 prescribes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from detente.core.errors import InputError


@dataclass(frozen=True, slots=True)
class WindowSpec:
    id: int
    service_id: int
    name: str
    rrule: str
    starts_on: dt.date
    start_time: dt.time
    timezone: str
    duration_minutes: int
    capacity: float
    in_slots: bool


@dataclass(frozen=True, slots=True)
class BlackoutSpec:
    starts_at: dt.datetime
    ends_at: dt.datetime
    service_id: int | None  # None: every service
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Occurrence:
    window: WindowSpec
    starts_at: dt.datetime  # aware, in the window's zone
    ends_at: dt.datetime


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {name!r}", field="timezone") from None


def parse_rule(rule: str, *, starts_on: dt.date, start_time: dt.time) -> rrule:
    """Validate an RRULE (without the ``RRULE:`` prefix or a DTSTART) against its anchor."""
    text = rule.strip().removeprefix("RRULE:")
    if not text or "DTSTART" in text.upper() or "\n" in text:
        raise InputError("give one RRULE line, e.g. FREQ=WEEKLY;BYDAY=SA", field="rrule")
    anchor = dt.datetime.combine(starts_on, start_time)
    try:
        parsed = rrulestr(f"RRULE:{text}", dtstart=anchor)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a valid RRULE ({exc})", field="rrule") from None
    if not isinstance(parsed, rrule):
        raise InputError("give a single RRULE", field="rrule")
    return parsed


def expand(window: WindowSpec, *, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
    """Occurrences of ``window`` that begin in ``[start, end)`` (aware bounds)."""
    tz = zone(window.timezone)
    rule = parse_rule(window.rrule, starts_on=window.starts_on, start_time=window.start_time)
    # Search in naive local time with a day's margin, then compare as aware instants.
    lo = start.astimezone(tz).replace(tzinfo=None) - dt.timedelta(days=1)
    hi = end.astimezone(tz).replace(tzinfo=None) + dt.timedelta(days=1)
    length = dt.timedelta(minutes=window.duration_minutes)
    found = []
    for local in rule.between(lo, hi, inc=True):
        begins = local.replace(tzinfo=tz)
        if start <= begins < end:
            # Durations are elapsed time: added in UTC, a window spanning a change keeps its length.
            ends = (begins.astimezone(dt.UTC) + length).astimezone(tz)
            found.append(Occurrence(window=window, starts_at=begins, ends_at=ends))
    return found


def blocked(occurrence: Occurrence, blackouts: list[BlackoutSpec]) -> BlackoutSpec | None:
    """The first blackout that overlaps ``occurrence`` for its service (or globally), if any."""
    for blackout in blackouts:
        if blackout.service_id is not None and blackout.service_id != occurrence.window.service_id:
            continue
        if occurrence.starts_at < blackout.ends_at and blackout.starts_at < occurrence.ends_at:
            return blackout
    return None
