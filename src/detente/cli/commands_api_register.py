"""``detente api …``: The API register: specs, audit, pen tests and promotion."""

from __future__ import annotations

import typer

api_register_app = typer.Typer(
    help="The API register: specs, audit, pen tests and promotion.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(api_register_app, name="api")
