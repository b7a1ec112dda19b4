"""``detente audit …``."""

from __future__ import annotations

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
