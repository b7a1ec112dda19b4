"""Small text helpers shared by the shells."""

from __future__ import annotations

import datetime as dt
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Neutralise spreadsheet formula injection in an exported CSV cell (OWASP's advice: prefix
    cells that a spreadsheet would evaluate with a single quote)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def duration(span: dt.timedelta) -> str:
    """A span as people read it: "4 s", "12 min", "2 h 5 min", "3 d 4 h" (two units at most,
    rounded down; negative spans read as their size)."""
    seconds = int(abs(span.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")
