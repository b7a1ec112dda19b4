"""``detente report board --period 2026-Q3``: the quarterly board report as PDF and HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from detente.cli.common import console, ensure_database

report_app = typer.Typer(help="Reports: the quarterly board report.")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report", no_args_is_help=True)


@report_app.command("board")
def board(
    period: Annotated[
        str | None, typer.Option("--period", help="Quarter, YYYY-Qn (default: this quarter).")
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", help="Folder for board-<quarter>.pdf and .html.")
    ] = Path("."),
    compute_radar: Annotated[
        bool,
        typer.Option(
            "--compute-radar/--no-compute-radar",
            help="Compute the radar for the quarter's months that have no snapshot yet.",
        ),
    ] = True,
) -> None:
    """Write the board report: exposure trend, deadline compliance, acceptances and their
    expiry, the radar's trend and zone, decisions needed."""
    ensure_database()
    from detente.core import clock
    from detente.reports.board import Quarter, board_figures, write_board_report

    quarter = Quarter.parse(period) if period else Quarter.of(clock.now())
    figures = board_figures(quarter)
    if compute_radar and figures.missing_months:
        from detente.tension.services import radar_compute
        from detente.tension.signals import Period

        for label in figures.missing_months:
            radar_compute(period=Period.parse(label))
        figures = board_figures(quarter)
    html_path, pdf_path = write_board_report(figures, output)
    console.print(f"{figures.quarter}: zone {figures.zone}")
    console.print(f"wrote {pdf_path}")
    console.print(f"wrote {html_path}")
