"""The worker keeps the radar current: this month as of now, last month closed once it ended."""

from __future__ import annotations

import datetime as dt

from detente.core import clock
from detente.tension.models import TensionSnapshot
from detente.tension.services import radar_compute, radar_refresh
from detente.tension.signals import Period


def test_refresh_recomputes_this_month_hourly_and_closes_the_last_one(db: None) -> None:
    # given: November judged month to date on the 20th
    clock.set_now(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    radar_compute(period=Period(2026, 11))
    # when: the worker runs half an hour later, then on 1 December, then ten minutes after
    clock.set_now(dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC))
    early = radar_refresh()
    clock.set_now(dt.datetime(2026, 12, 1, 0, 5, tzinfo=dt.UTC))
    closing = radar_refresh()
    clock.set_now(dt.datetime(2026, 12, 1, 0, 15, tzinfo=dt.UTC))
    again = radar_refresh()
    # then: nothing within the hour; November closed at its end and December begun; then quiet
    assert early == []
    assert [(s.period, s.month_to_date) for s in closing] == [("2026-11", False), ("2026-12", True)]
    assert again == []
    november = TensionSnapshot.objects.get(period="2026-11")
    assert november.as_of == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
