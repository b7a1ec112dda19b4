"""Reading a metrics CSV. Pure: bytes in, checked points out, or an error naming line and column.

The shape is what dashboards export: a ``timestamp`` column (ISO 8601; without an offset it is
UTC) and one column per metric, named by its key (``login_success_rate``, ``drop_off_rate`` …)::

    timestamp,login_success_rate,drop_off_rate
    2026-10-01T00:00:00Z,98.7,4.1

Refused: an empty cell (a gap: leave the row out instead; missing time shows as "metric
unavailable" when it empties a window), a value that is not a finite number, the same timestamp
twice, rows out of time order, an unknown column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Collection
from dataclasses import dataclass

from detente.core.errors import InputError

MAX_BYTES = 64 * 1024 * 1024


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
        raise InputError("no value (a gap); leave the row out instead", record=record,
                         field=field)  # fmt: skip
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
    if seen and at < max(seen):
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
    return points
