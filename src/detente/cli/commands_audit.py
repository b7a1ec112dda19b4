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
    """Recompute the keyed chain, compare it with the witness and check the signatures and
    states it vouches for; name the first broken link. Exit 1 when broken."""
    ensure_database()
    from detente.audit.services import audit_verify as verify
    from detente.reports.audit_vouchers import VOUCHERS

    result = verify(vouchers=VOUCHERS)
    if not result.ok:
        where = f" at event #{result.broken_at}" if result.broken_at is not None else ""
        raise RuleViolation(f"audit trail broken{where}: {result.reason}")
    console.print(f"audit chain intact: {result.checked} events")
    for note in result.notes:
        console.print(f"note: {note}")


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Append the chain's head to the witness file now (the worker does it every round), and
    POST it to the witness webhook when one is configured."""
    ensure_database()
    from detente.audit.witness import witness_anchor, witness_path

    entry = witness_anchor()
    if entry is None:
        console.print(f"witness {witness_path()} is up to date")
    else:
        console.print(f"witnessed event #{entry.seq} in {witness_path()}")


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
