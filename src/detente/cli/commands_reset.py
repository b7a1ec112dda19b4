"""``detente reset …``: the reset facilitated by an independent third party (red)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from detente.cli.common import OutputFormat, console, emit, ensure_database

reset_app = typer.Typer(
    help="Facilitated reset: a scope both leaders sign, time-limited read-only access for the "
    "facilitator, 30/60/90-day check-ins, an end both sign."
)

As = Annotated[str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")]
Fmt = Annotated[OutputFormat, typer.Option("--format", help="table or json.")]


def register(app: typer.Typer) -> None:
    app.add_typer(reset_app, name="reset", no_args_is_help=True)


def _actor(email: str | None) -> Any:
    from detente.people.selectors import person_by_email

    return person_by_email(email)


@reset_app.command("start")
def start_cmd(
    facilitator: Annotated[str, typer.Option(help="The facilitator's e-mail.")],
    scope: Annotated[
        str, typer.Option(help="Comma-separated: radar, pulse, decisions, acceptances, incidents.")
    ],
    goals: Annotated[str, typer.Option(help="What the reset is to agree.")],
    days: Annotated[int, typer.Option(help="How long the facilitator may read (1-120).")] = 90,
    actor: As = None,
) -> None:
    """Propose a reset and sign its scope (the other leader's signature starts it)."""
    ensure_database()
    from detente.meetings.services import reset_start

    reset = reset_start(
        actor=_actor(actor),
        facilitator=_actor(facilitator),
        scope=[s.strip() for s in scope.split(",") if s.strip()],
        goals=goals,
        access_days=days,
    )
    console.print(
        f"RS-{reset.pk} proposed: scope {', '.join(reset.scope)}; waiting for the other leader "
        f"(detente reset grant {reset.pk})"
    )


@reset_app.command("grant")
def grant_cmd(
    reset_id: Annotated[int, typer.Argument(help="The reset's number (RS-…).")],
    actor: As = None,
) -> None:
    """The other leader signs the scope: the facilitator's read-only access opens."""
    ensure_database()
    from detente.meetings.selectors import reset_get
    from detente.meetings.services import reset_grant

    reset = reset_grant(actor=_actor(actor), reset=reset_get(reset_id))
    assert reset.access_until is not None
    console.print(
        f"RS-{reset.pk} active: {reset.facilitator.email} may read "
        f"{', '.join(reset.scope)} until {reset.access_until:%Y-%m-%d %H:%M} UTC"
    )


@reset_app.command("checkin")
def checkin_cmd(
    reset_id: Annotated[int, typer.Argument(help="The reset's number (RS-…).")],
    day: Annotated[int, typer.Option(help="30, 60 or 90.")],
    notes: Annotated[str, typer.Option(help="What changed.")] = "",
    actor: As = None,
) -> None:
    """Record a check-in (both leaders retake the pulse first); compare with the baseline."""
    ensure_database()
    from detente.meetings.selectors import reset_get
    from detente.meetings.services import reset_checkin

    checkin = reset_checkin(actor=_actor(actor), reset=reset_get(reset_id), day=day, notes=notes)
    before = checkin.comparison.get("before") or {}
    after = checkin.comparison.get("after") or {}
    console.print(
        f"RS-{reset_id} day {day}: index {before.get('index', '–')} ({before.get('zone', '–')}) "
        f"→ {after.get('index', '–')} ({after.get('zone', '–')})"
    )


@reset_app.command("end")
def end_cmd(
    reset_id: Annotated[int, typer.Argument(help="The reset's number (RS-…).")],
    actor: As = None,
) -> None:
    """Sign the end; with both leaders' signatures the reset ends and access closes."""
    ensure_database()
    from detente.meetings.selectors import reset_get
    from detente.meetings.services import reset_end

    reset = reset_end(actor=_actor(actor), reset=reset_get(reset_id))
    console.print(
        f"RS-{reset.pk} ended; the facilitator's access is closed"
        if reset.status == "ended"
        else f"RS-{reset.pk}: end signed; the other leader signs too"
    )


@reset_app.command("show")
def show_cmd(
    reset_id: Annotated[int | None, typer.Argument(help="RS-… (default: the current).")] = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """The reset: status, scope, access window, sessions, charter, check-ins against baseline."""
    ensure_database()
    from detente.meetings.selectors import reset_get, reset_state

    state = reset_state(reset_get(reset_id))
    if fmt is OutputFormat.JSON:
        console.print_json(json.dumps(state))
        return
    console.print(
        f"[bold]RS-{state['id']}[/bold] {state['status']}  facilitator {state['facilitator']}  "
        f"scope {', '.join(state['scope'])}  access "
        + ("open" if state["access_open"] else "closed")
        + (f" until {state['access_until']}" if state["access_until"] else "")
    )
    console.print(
        f"sessions held {state['sessions_held']}  charter "
        + (", ".join(f"DR-{d}" for d in state["charter"]) or "–")
    )
    emit(
        state["checkins"],
        ["day", "due_on", "done", "index_change"],
        OutputFormat.TABLE,
        title="Check-ins",
    )
