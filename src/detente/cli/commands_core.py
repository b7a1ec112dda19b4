"""``detente demo`` and ``detente migrate``."""

from __future__ import annotations

import typer

from detente.cli.common import console, ensure_database


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("migrate")(migrate)


def migrate() -> None:
    """Create or upgrade the database schema."""
    ensure_database()
    console.print("database ready")


def demo() -> None:
    """Build the demo organisation from the real sample scans and show what matters first."""
    ensure_database()
    from django.conf import settings

    from detente.cli.commands_findings import findings_list
    from detente.demo.org import build_demo
    from detente.findings.selectors import findings_summary

    db = settings.DATABASES["default"]
    console.print(
        f"[bold]Détente demo[/] — database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}"
    )
    build_demo(progress=lambda msg: console.print(f"  {msg}"))
    summary = findings_summary()
    console.print(
        f"\n[bold]{summary['open']}[/] open findings; [bold red]{summary['exploited']}[/] "
        f"known exploited (CISA KEV), [bold red]{summary['exploited_and_exposed']}[/] of them on "
        f"publicly exposed assets; {summary['overdue']} past their deadline; "
        f"{summary['needs_analyst']} need an analyst (no SSVC data, no CVSS vector).\n"
    )
    console.print("[bold]What matters first[/] (exploited and exposed, then by deadline):")
    findings_list(limit=15)
    console.print(
        "\nNext: [bold]detente findings list --exploited[/], [bold]detente findings show ID[/], "
        "[bold]detente import FILE[/], [bold]detente policy show[/]."
    )
