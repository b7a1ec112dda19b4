"""``detente audit …``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from detente.cli.common import console, ensure_database
from detente.core.errors import RuleViolation

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; name the first broken link. Exit 1 when broken."""
    ensure_database()
    from detente.audit.services import audit_verify as verify

    result = verify()
    if not result.ok:
        raise RuleViolation(f"audit chain broken at event #{result.broken_at}: {result.reason}")
    console.print(f"audit chain intact: {result.checked} events")


@audit_app.command("export")
def audit_export(
    output: Annotated[
        Path | None, typer.Option(help="File to write (default: standard output).")
    ] = None,
    since: Annotated[int, typer.Option(help="Only events after this sequence number.")] = 0,
) -> None:
    """Write the audit trail as JSON Lines, hashes included, for evidence."""
    ensure_database()
    from detente.audit.services import audit_export as export

    if output is None:
        count = export(sys.stdout, since_seq=since)
    else:
        with output.open("w", encoding="utf-8") as handle:
            count = export(handle, since_seq=since)
        console.print(f"{count} events written to {output}")
