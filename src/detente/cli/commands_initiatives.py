"""``detente initiative …``: Customer-facing security rollouts: phases, guardrails, metrics."""

from __future__ import annotations

import typer

initiatives_app = typer.Typer(
    help="Customer-facing security rollouts: phases, guardrails, metrics.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(initiatives_app, name="initiative")
