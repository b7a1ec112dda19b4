"""``detente demo`` and ``detente migrate``."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from detente.cli.common import console, ensure_database


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("migrate")(migrate)


def migrate() -> None:
    """Create or upgrade the database schema."""
    ensure_database()
    console.print("database ready")


def demo(
    serve: Annotated[bool, typer.Option(help="Start the web app afterwards.")] = True,
    scenario: Annotated[
        str | None,
        typer.Option(help="Instead: a year of history, calm | simmering | overt | covert."),
    ] = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Build the demo organisation from the real sample scans, show what matters first, and
    serve the web app with one account per role."""
    ensure_database()
    from django.conf import settings

    from detente.cli.commands_findings import findings_list
    from detente.demo.history import build_history
    from detente.demo.incident import build_incident_demo
    from detente.demo.org import build_demo, demo_accounts
    from detente.findings.selectors import findings_summary
    from detente.incidents.selectors import any_incident

    if scenario is not None:
        from detente.cli.commands_tension import demo_scenario

        demo_scenario(scenario)
        return
    db = settings.DATABASES["default"]
    console.print(
        f"[bold]Détente demo[/] — database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}"
    )
    build_demo(progress=lambda msg: console.print(f"  {msg}"))
    made = build_history()
    if made:
        console.print(
            f"  decision DR-{made['decision']}; acceptances: "
            + ", ".join(f"RA-{pk} {state}" for state, pk in made.items() if state != "decision")
        )
    if not any_incident():
        incident = build_incident_demo()
        console.print(f"  incident #{incident.pk} (SEV2, reviewed) with briefings and clocks")
    from detente.demo.story import build_story

    build_story(progress=lambda msg: console.print(f"  {msg}"))
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
    password = secrets.token_urlsafe(12)
    people = demo_accounts(password)
    console.print(f"\n[bold]Demo accounts[/] (password for all: [bold]{password}[/]):")
    for person in people:
        console.print(f"  {person.get_role_display():<16} {person.email}")
    if serve:
        from detente.cli.commands_serve import run_server

        console.print(f"\nServing on [bold]http://{host}:{port}/[/] — Ctrl-C to stop.")
        run_server(host, port, workers=2, threads=4)
