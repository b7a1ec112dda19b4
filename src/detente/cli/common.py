"""Small helpers the commands share: database readiness, output formats."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import enum
import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from detente.core.text import spreadsheet_safe

console = Console()
err_console = Console(stderr=True)

MAX_LIMIT = 100_000
# --limit and --offset of every list command
Limit = Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="At most this many rows.")]
Offset = Annotated[int, typer.Option(min=0, help="Skip this many (the next page).")]


def check_choice(value: str | None, choices: Sequence[str], *, field: str) -> None:
    """An unknown filter value is bad input naming the valid ones (never an empty list)."""
    from detente.core.errors import InputError

    if value is not None and value not in choices:
        raise InputError(
            f"unknown {field.replace('_', ' ')} {value!r}; one of {', '.join(choices)}",
            field=field,
        )


def page_of(rows: Any, *, limit: int, offset: int) -> tuple[list[Any], int]:
    """One page of ``rows`` (a list, or a query: it reads the page and one row more), and how
    many rows come after it."""
    page = list(rows[offset : offset + limit + 1])
    if len(page) <= limit:
        return page, 0
    total = len(rows) if isinstance(rows, list) else rows.count()
    return page[:limit], total - offset - limit


def say_more(more: int, *, limit: int, offset: int) -> None:
    """Under a list cut at its limit: how many more, and how to page."""
    if more > 0:
        err_console.print(
            f"{more} more; next page: --offset {offset + limit} (--limit up to {MAX_LIMIT})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def ensure_database() -> None:
    """Create or upgrade the schema when needed (cheap when it is current)."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        call_command("migrate", interactive=False, verbosity=0)


def emit(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: OutputFormat,
    title: str = "",
    *,
    optional: Sequence[str] = (),
) -> None:
    """Rows as a table, JSON or CSV. A table fits the terminal: ``optional`` columns (least
    valuable first) are dropped while it is too wide; ids and dates are never cut; other cells
    wrap rather than end in "…"."""
    if fmt is OutputFormat.JSON:
        console.print_json(json.dumps(list(rows), default=str))
        return
    if fmt is OutputFormat.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: spreadsheet_safe(row.get(k)) for k in columns})
        print(buffer.getvalue(), end="")
        return
    cells = [
        {c: "" if row.get(c) is None else readable(row.get(c)) for c in columns} for row in rows
    ]
    natural = {c: max([len(c), *(len(cell[c]) for cell in cells)]) for c in columns}
    whole = {c: _whole(c, [cell[c] for cell in cells]) for c in columns}
    # the narrowest a column may become: ids, references and dates never wrap; other text
    # wraps, but not narrower than its header or a dozen characters
    narrowest = {c: natural[c] if whole[c] else min(natural[c], max(len(c), 12)) for c in columns}

    def fits(names: Sequence[str], widths: Mapping[str, int] = natural) -> bool:
        return sum(widths[c] + 3 for c in names) + 1 <= console.width

    shown = list(columns)
    dropped: list[str] = []
    for column in optional:
        if fits(shown):
            break
        if column in shown:
            shown.remove(column)
            dropped.append(column)
    for column in reversed(dropped):  # the most valuable first, if it fits after all
        candidate = [c for c in columns if c in shown or c == column]
        if fits(candidate):
            shown = candidate
    # Still too wide even with text wrapped: the rightmost columns go (never the first), rather
    # than an id or a date being cut
    while len(shown) > 1 and not fits(shown, narrowest):
        shown.pop()
    table = Table(title=title or None, show_lines=False)
    for column in shown:
        table.add_column(
            column,
            no_wrap=whole[column],
            min_width=narrowest[column],
            overflow="fold",
        )
    for cell in cells:
        table.add_row(*(Text(cell[c]) for c in shown))
    console.print(table)
    hidden = [c for c in columns if c not in shown]
    if hidden:
        err_console.print(
            f"({len(hidden)} column{'s' if len(hidden) > 1 else ''} left out to fit "
            f"{console.width} columns: {', '.join(hidden)}; --format json or csv has them all)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


# a date, or a moment, as the whole value (a list of dates wraps between them instead)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?( ?(UTC|Z|[+-]\d{2}:?\d{2}))?)?$")
# a number, or a record's reference as people quote it: RA-35, DR-30, INC-3, CVE-2024-1234
_REFERENCE = re.compile(r"^(\d+|[A-Z][A-Z0-9]*-[\w.-]+)$")


def _whole(column: str, values: Sequence[str]) -> bool:
    """Ids, references and dates are never cut or wrapped."""
    if column == "id" or column.endswith("_id") or column.endswith("id"):
        return True
    shown = [value for value in values if value]
    if shown and all(_REFERENCE.match(value) for value in shown):
        return True
    return any(_DATE.match(value) for value in values)


_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def readable(value: Any) -> str:  # noqa: PLR0911 - a dispatch on the value's type, one return per type
    """A value as a person reads it: no Python reprs, no microseconds, control characters
    escaped (``\\x1b``), times in UTC to the minute, nested records as ``key: value; …``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo is None else value.astimezone(dt.UTC)
        return moment.strftime("%Y-%m-%d %H:%M") + (" UTC" if value.tzinfo else "")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        minutes = int(value.total_seconds() // 60)
        days, rest = divmod(minutes, 24 * 60)
        hours, mins = divmod(rest, 60)
        parts = [f"{days} d"] if days else []
        return " ".join([*parts, f"{hours} h {mins:02d} min"])
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return "; ".join(
            f"{key}: {readable(item)}" for key, item in value.items() if item not in (None, "")
        )
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(readable(item) for item in value)
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        with contextlib.suppress(ValueError):  # a stored fact's timestamp, as text
            return readable(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def print_details(detail: Mapping[str, Any]) -> None:
    """One record's facts, a line each: the key, then its value wrapped in its own column (a list
    of records gets a line per record). Empty values are left out."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in detail.items():
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            grid.add_row(key, Text(f"{len(value)}:"))
            for entry in value:
                grid.add_row("", Text("- " + readable(entry)))
        elif isinstance(value, list) and value:
            grid.add_row(key, Text(readable(value[0])))
            for entry in value[1:]:
                grid.add_row("", Text(readable(entry)))
        elif value not in (None, "", [], {}):
            grid.add_row(key, Text(readable(value)))
    console.print(grid)
