"""``detente gate …``: The release gate: decide a build on its scan reports and the policy."""

from __future__ import annotations

import typer

gates_app = typer.Typer(
    help="The release gate: decide a build on its scan reports and the policy.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(gates_app, name="gate")
