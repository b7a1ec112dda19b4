"""``detente vex …``: accepted risks as VEX documents."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer

from detente.cli.common import console, ensure_database

vex_app = typer.Typer(help="VEX documents of the accepted risks.", no_args_is_help=True)


class VexFormat(enum.StrEnum):
    CYCLONEDX = "cyclonedx"
    OPENVEX = "openvex"


def register(app: typer.Typer) -> None:
    app.add_typer(vex_app, name="vex")


@vex_app.command("export")
def vex_export(
    fmt: Annotated[
        VexFormat, typer.Option("--format", help="cyclonedx (1.6, Dependency-Track) or openvex.")
    ] = VexFormat.CYCLONEDX,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of to stdout.")
    ] = None,
) -> None:
    """Export approved, unexpired risk acceptances and the findings they cover, validated."""
    ensure_database()
    from detente.acceptances.vex import vex_export as export

    text = export(fmt=fmt.value)
    if output is None:
        sys.stdout.write(text + "\n")
        return
    output.write_text(text + "\n", encoding="utf-8")
    console.print(f"wrote {fmt.value} VEX to {output}")
