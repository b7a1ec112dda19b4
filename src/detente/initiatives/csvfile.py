"""Reading a metrics CSV. Pure: bytes in, checked points out, or an error naming line and column.

The shape is what dashboards export: a ``timestamp`` column (ISO 8601; without an offset it is
UTC) and one column per metric, named by its key (``login_success_rate``, ``drop_off_rate`` …)::

    timestamp,login_success_rate,drop_off_rate
    2026-10-01T00:00:00Z,98.7,4.1

Refused: an empty cell (every row gives every column's metric: a metric on another cadence goes
in a file of its own), a value that is not a finite number, the same timestamp twice, rows out of
time order, an unknown column, and a **gap in time**: the file's cadence is the median interval
between consecutive rows, and a row more than ``GAP_FACTOR`` times that after the one before it is
refused with both lines named (fill the missing rows, or upload each side of the gap as its own
file: the missing stretch then shows as "metric unavailable", never as healthy).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
import statistics
from collections.abc import Collection
from dataclasses import dataclass

from detente.core.errors import InputError

MAX_BYTES = 64 * 1024 * 1024
# A row further than this many cadences after the previous one leaves a gap (1.5: an hourly file
# tolerates jitter of half an hour, and one missing hour is already a gap).
GAP_FACTOR = 1.5


@dataclass(frozen=True)
class Point:
    metric: str
    at: dt.datetime
    value: float


def parse_time(text: str, *, record: str, field: str) -> dt.datetime:
    value = text.strip()
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"not an ISO 8601 time: {value!r}", record=record, field=field) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def parse_value(text: str, *, record: str, field: str) -> float:
    value = text.strip()
    if not value:
        raise InputError(
            "no value; every row gives every column's metric (a metric on another cadence goes "
            "in a file of its own)", record=record, field=field,
        )  # fmt: skip
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"not a number: {value!r}", record=record, field=field) from None
    if not math.isfinite(number):
        raise InputError(f"not a finite number: {value!r}", record=record, field=field)
    return number


def _row_time(
    row: list[str], *, line: int, columns: int, seen: dict[dt.datetime, int]
) -> dt.datetime:
    record = f"line {line}"
    if len(row) != columns + 1:
        raise InputError(f"{len(row)} cells, the header has {columns + 1}", record=record)
    at = parse_time(row[0], record=record, field="timestamp")
    if at in seen:
        raise InputError(f"timestamp {row[0].strip()} also on line {seen[at]}", record=record,
                         field="timestamp")  # fmt: skip
    # Rows arrive in time order (anything else is refused), so the last one seen is the latest:
    # O(1) a row, where max() over every earlier row made a 20,000-row file take a minute.
    if seen and at < next(reversed(seen)):
        raise InputError("rows are in time order", record=record, field="timestamp")
    return at


def read_metrics_csv(data: bytes, *, metrics: Collection[str], source: str) -> list[Point]:
    """Points of ``data``; ``metrics`` are the keys the initiative guards."""
    if len(data) > MAX_BYTES:
        raise InputError(f"larger than {MAX_BYTES // 2**20} MiB; split it", file=source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=source) from None
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header or header[0].strip().lower() != "timestamp":
        raise InputError("the first column is 'timestamp'", file=source, record="line 1")
    columns = [h.strip() for h in header[1:]]
    if not columns:
        raise InputError("no metric column", file=source, record="line 1")
    for name in columns:
        if name not in metrics:
            raise InputError(
                f"unknown metric {name!r}; this initiative guards {', '.join(sorted(metrics))}",
                file=source, record="line 1", field=name,
            )  # fmt: skip
    if len(set(columns)) != len(columns):
        raise InputError("a metric column appears twice", file=source, record="line 1")
    points: list[Point] = []
    seen: dict[dt.datetime, int] = {}
    try:
        for line, row in enumerate(rows, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            at = _row_time(row, line=line, columns=len(columns), seen=seen)
            seen[at] = line
            record = f"line {line}"
            for name, cell in zip(columns, row[1:], strict=True):
                points.append(Point(name, at, parse_value(cell, record=record, field=name)))
    except InputError as exc:
        raise exc.with_file(source) from None
    except csv.Error as exc:
        raise InputError(f"not CSV ({exc})", file=source) from None
    if not points:
        raise InputError("no rows", file=source)
    _refuse_gaps(seen, source=source)
    return points


def _duration(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _refuse_gaps(seen: dict[dt.datetime, int], *, source: str) -> None:
    """Rows are in time order (checked); a step longer than ``GAP_FACTOR`` cadences is a gap."""
    rows = list(seen.items())
    steps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(rows)]
    if len(steps) < 2:  # one interval sets the cadence; it cannot be a gap
        return
    cadence = statistics.median_low(steps)
    for ((before, before_line), (_, line)), step in zip(
        itertools.pairwise(rows), steps, strict=True
    ):
        if step > cadence * GAP_FACTOR:
            raise InputError(
                f"a gap in time: {_duration(step)} after line {before_line} "
                f"({before.isoformat()}); this file's rows are {_duration(cadence)} apart. Fill "
                "the missing rows, or upload each side of the gap as a file of its own (the "
                "missing time then shows as metric unavailable)",
                file=source, record=f"line {line}", field="timestamp",
            )  # fmt: skip
