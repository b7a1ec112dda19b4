"""Judging one guardrail from the points of its window. Pure: no database, no clock.

The rule (also in docs/initiatives.md): a guardrail looks at the points received in its window,
the ``window`` before the evaluation time (``now - window < at <= now``).

- fewer than ``min_points`` points there: **unavailable** (never healthy: silence is not success);
- every one of them on the wrong side of the threshold: **breached** (a single bad point between
  good ones is noise; a window of bad ones is a trend);
- otherwise **healthy**.

A value exactly at the threshold is not a breach.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

HEALTHY = "healthy"
BREACHED = "breached"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Verdict:
    state: str
    detail: str
    points: int
    worst: float | None
    latest: float | None


def violates(value: float, *, direction: str, threshold: float) -> bool:
    return value < threshold if direction == "below" else value > threshold


def judge(
    values: Sequence[float],
    *,
    direction: str,
    threshold: float,
    min_points: int,
    window: dt.timedelta,
    unit: str = "",
) -> Verdict:
    """``values``: the window's points in time order."""
    count = len(values)
    hours = window.total_seconds() / 3600
    span = f"{hours:g} h" if hours >= 1 else f"{window.total_seconds() / 60:g} min"
    if count < min_points:
        return Verdict(
            UNAVAILABLE, f"{count} point(s) in the last {span}; {min_points} needed", count,
            None, values[-1] if values else None,
        )  # fmt: skip
    worst = min(values) if direction == "below" else max(values)
    latest = values[-1]
    suffix = f" {unit}" if unit else ""
    if all(violates(v, direction=direction, threshold=threshold) for v in values):
        return Verdict(
            BREACHED,
            f"all {count} points of the last {span} {direction} {threshold:g}{suffix} "
            f"(worst {worst:g}{suffix})",
            count, worst, latest,
        )  # fmt: skip
    return Verdict(
        HEALTHY, f"{count} points; latest {latest:g}{suffix}, threshold {threshold:g}{suffix}",
        count, worst, latest,
    )  # fmt: skip
