"""One clock for the whole product: timezone-aware, and movable by tests.

Every service asks ``clock.now()``; nothing calls ``datetime.now()`` directly, so a test can freeze
or advance time (``with clock.frozen_at(...)``) and deadlines, expiries and cadences follow.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, always timezone-aware (UTC)."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    return now().date()


def set_now(moment: dt.datetime | None) -> None:
    """Freeze the clock at ``moment`` (aware), or unfreeze it with ``None``."""
    global _frozen  # noqa: PLW0603 - the clock is deliberately a process-wide singleton
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock only holds timezone-aware datetimes")
    _frozen = moment


def advance(delta: dt.timedelta) -> dt.datetime:
    """Move a frozen clock forward (freezing it at the current time first if needed)."""
    set_now(now() + delta)
    return now()


@contextlib.contextmanager
def frozen_at(moment: dt.datetime) -> Iterator[None]:
    previous = _frozen
    set_now(moment)
    try:
        yield
    finally:
        set_now(previous)
