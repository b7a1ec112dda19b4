"""``detente org …``: people, services and assets from a file, Backstage or a CMDB."""

from __future__ import annotations

import typer

org_app = typer.Typer(
    help="The organisation: people, services and assets from a file, Backstage or a CMDB.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")
