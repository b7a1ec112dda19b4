"""Window recurrence: wall-clock time in the window's zone, across daylight-saving changes."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.core.errors import InputError
from detente.planning.occurrences import BlackoutSpec, WindowSpec, blocked, expand, parse_rule

UTC = dt.UTC


def _window(rule: str, at: dt.time, *, minutes: int = 120, tz: str = "Europe/Paris") -> WindowSpec:
    return WindowSpec(
        id=1, service_id=1, name="sat", rrule=rule, starts_on=dt.date(2026, 10, 1),
        start_time=at, timezone=tz, duration_minutes=minutes, capacity=4, in_slots=True,
    )  # fmt: skip


def test_saturday_0200_paris_keeps_its_wall_clock_time_across_the_october_change() -> None:
    # Given a weekly Saturday 02:00 window in Paris; summer time ends on Sunday 2026-10-25.
    window = _window("FREQ=WEEKLY;BYDAY=SA", dt.time(2, 0))
    # When it is expanded over the change
    found = expand(
        window,
        start=dt.datetime(2026, 10, 15, tzinfo=UTC),
        end=dt.datetime(2026, 11, 10, tzinfo=UTC),
    )
    # Then it is 02:00 in Paris every time, and its UTC instant moves by one hour
    assert [o.starts_at.strftime("%Y-%m-%d %H:%M %Z") for o in found] == [
        "2026-10-17 02:00 CEST",
        "2026-10-24 02:00 CEST",
        "2026-10-31 02:00 CET",
        "2026-11-07 02:00 CET",
    ]
    assert [o.starts_at.astimezone(UTC).hour for o in found] == [0, 0, 1, 1]
    assert all(o.ends_at - o.starts_at == dt.timedelta(hours=2) for o in found)


def test_an_ambiguous_start_is_the_first_of_the_two_and_the_length_is_elapsed_time() -> None:
    # Sunday 2026-10-25 02:00 happens twice in Paris; RFC 5545 takes the first (CEST).
    window = _window("FREQ=WEEKLY;BYDAY=SU", dt.time(2, 0), minutes=120)
    (first,) = expand(
        window,
        start=dt.datetime(2026, 10, 24, tzinfo=UTC),
        end=dt.datetime(2026, 10, 26, tzinfo=UTC),
    )
    assert first.starts_at.astimezone(UTC) == dt.datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    # Two elapsed hours: ends at 02:00 UTC = 03:00 CET.
    assert first.ends_at.astimezone(UTC) == dt.datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    assert first.ends_at.strftime("%H:%M %Z") == "03:00 CET"


def test_a_start_in_the_spring_gap_takes_the_offset_before_the_change() -> None:
    # 2027-03-28 02:30 does not exist in Paris (02:00 → 03:00).
    window = _window("FREQ=WEEKLY;BYDAY=SU", dt.time(2, 30))
    (gap,) = expand(
        window,
        start=dt.datetime(2027, 3, 27, tzinfo=UTC),
        end=dt.datetime(2027, 3, 29, tzinfo=UTC),
    )
    assert gap.starts_at.astimezone(UTC) == dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


def test_a_new_york_window_moves_with_its_own_zone_not_europes() -> None:
    window = _window("FREQ=WEEKLY;BYDAY=SA", dt.time(22, 0), tz="America/New_York")
    found = expand(
        window,
        start=dt.datetime(2026, 10, 30, tzinfo=UTC),
        end=dt.datetime(2026, 11, 9, tzinfo=UTC),
    )
    # US summer time ends on 2026-11-01: EDT (UTC-4) then EST (UTC-5).
    assert [o.starts_at.astimezone(UTC).strftime("%m-%d %H:%M") for o in found] == [
        "11-01 02:00",
        "11-08 03:00",
    ]


def test_count_and_until_limit_the_occurrences() -> None:
    window = _window("FREQ=DAILY;COUNT=3", dt.time(1, 0))
    found = expand(
        window, start=dt.datetime(2026, 9, 1, tzinfo=UTC), end=dt.datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert len(found) == 3


@pytest.mark.parametrize(
    "rule", ["", "FREQ=SOMETIMES", "DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "BYDAY=XX"]
)
def test_a_bad_rule_is_refused_with_the_field(rule: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_rule(rule, starts_on=dt.date(2026, 1, 1), start_time=dt.time(2, 0))
    assert caught.value.field == "rrule"


def test_blackouts_block_overlapping_occurrences_of_their_service_or_all() -> None:
    window = _window("FREQ=WEEKLY;BYDAY=SA", dt.time(2, 0))
    (occurrence,) = expand(
        window,
        start=dt.datetime(2026, 10, 23, tzinfo=UTC),
        end=dt.datetime(2026, 10, 25, tzinfo=UTC),
    )
    touching = dt.datetime(2026, 10, 24, 2, 0, tzinfo=UTC)  # the window ends 02:00 UTC
    other = BlackoutSpec(touching - dt.timedelta(days=1), touching, service_id=2)
    after = BlackoutSpec(touching, touching + dt.timedelta(days=1), service_id=None)
    overlap = BlackoutSpec(touching - dt.timedelta(minutes=1), touching, service_id=None)
    own = BlackoutSpec(touching - dt.timedelta(days=1), touching, service_id=1)
    assert blocked(occurrence, [other, after]) is None
    assert blocked(occurrence, [overlap]) is overlap
    assert blocked(occurrence, [other, own]) is own
