"""Small helpers the commands share: database readiness, output formats."""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from detente.core.text import spreadsheet_safe

console = Console()
err_console = Console(stderr=True)


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
    rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: OutputFormat, title: str = ""
) -> None:
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
    table = Table(title=title or None, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)
