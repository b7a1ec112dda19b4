"""``detente profile …``, ``detente pulse …``, ``detente radar …`` and ``detente demo-scenario``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from detente.cli.common import OutputFormat, console, emit, ensure_database
from detente.core.errors import InputError

profile_app = typer.Typer(help="Leader profiles: the questionnaire and the pair's guidance.")
pulse_app = typer.Typer(help="The monthly pulse of the CIO and the CISO.")
radar_app = typer.Typer(
    help="The tension radar: index, zone, top signals with evidence, and what to do.",
    invoke_without_command=True,
)

As = Annotated[str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")]
Fmt = Annotated[
    OutputFormat, typer.Option("--format", help="table, json or csv (csv: the table's rows only).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(profile_app, name="profile", no_args_is_help=True)
    app.add_typer(pulse_app, name="pulse", no_args_is_help=True)
    app.add_typer(radar_app, name="radar")
    app.command("demo-scenario")(demo_scenario)


def _actor(email: str | None) -> Any:
    from detente.people.selectors import person_by_email

    return person_by_email(email)


def _ask(items: list[tuple[str, str]]) -> dict[str, int]:
    answers = {}
    for item_id, text in items:
        answers[item_id] = typer.prompt(f"{item_id} {text} (1-5)", type=int)
    return answers


def _answers_file(path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read answers ({exc})", file=path) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object of item → answer", file=path)
    return data


# ----------------------------------------------------------------------------- profile


@profile_app.command("take")
def profile_take_cmd(
    actor: As = None,
    answers: Annotated[
        str | None, typer.Option(help='JSON file {"A1": 4, …}; asked item by item otherwise.')
    ] = None,
    conflict: Annotated[bool, typer.Option(help="Also answer the CS-9 conflict style.")] = False,
) -> None:
    """Take your role's questionnaire (our own items; scale 1 disagree … 5 agree)."""
    ensure_database()
    from detente.tension import profiles
    from detente.tension.services import profile_take

    person = _actor(actor)
    given = _answers_file(answers)
    model = profiles.questionnaire()
    spec = model.roles.get(person.leader_role)
    if spec is None:
        raise InputError("the questionnaire is for the CIO and the CISO")
    if given is not None:
        main = {k: v for k, v in given.items() if not k.startswith("K")}
        style = {k: v for k, v in given.items() if k.startswith("K")} or None
    else:
        main = _ask([(i.id, i.text) for i in spec.items])
        style = _ask([(i.id, i.text) for i in model.conflict_items]) if conflict else None
    profile = profile_take(actor=person, answers=main, conflict_answers=style)
    _show_profile(profile)


def _show_profile(profile: Any) -> None:
    from detente.tension import profiles

    spec = profiles.questionnaire().roles[profile.role]
    names = {a.key: a.name for a in spec.archetypes}
    weights = ", ".join(f"{names[k]} {w:.0%}" for k, w in profile.weights.items())
    console.print(f"[bold]{profile.role.upper()} profile[/bold] ({profile.kind}): {weights}")
    emit(
        [{"archetype": names[k], "z": v} for k, v in profile.dimensions.items()],
        ["archetype", "z"],
        OutputFormat.TABLE,
    )
    console.print("A profile is a posture, not an identity or a diagnosis.")


@profile_app.command("show")
def profile_show(actor: As = None) -> None:
    """Your current profile."""
    ensure_database()
    from detente.tension.selectors import profile_current

    _show_profile(profile_current(_actor(actor)))


@profile_app.command("pair")
def profile_pair(
    fmt: Fmt = OutputFormat.TABLE,
    ciso_reports_to_cio: Annotated[bool, typer.Option(help="Reporting-line modifier.")] = False,
) -> None:
    """The CIO x CISO pairing: friction, covert risk, guidance per pressure point."""
    ensure_database()
    from dataclasses import asdict

    from detente.tension.selectors import pair_guidance

    pairing = pair_guidance(ciso_reports_to_cio=ciso_reports_to_cio)
    if fmt is OutputFormat.JSON:
        console.print_json(json.dumps(asdict(pairing)))
        return
    guidance = [
        {
            "pressure point": f"{g.pressure_point} {g.title}",
            "CISO brings to the CIO": g.ciso_to_cio,
            "CIO brings to the CISO": g.cio_to_ciso,
            "status": "hypothesis" if g.hypothesis else "validated",
        }
        for g in pairing.guidance
    ]
    guidance_columns = [
        "pressure point", "CISO brings to the CIO", "CIO brings to the CISO", "status",
    ]  # fmt: skip
    if fmt is OutputFormat.CSV:
        emit(guidance, guidance_columns, fmt)
        return
    cell = pairing.cell
    tag = " [hypothesis: thin evidence]" if cell.hypothesis else ""
    covert = " (covert risk)" if cell.covert else ""
    console.print(f"[bold]{cell.cio} x {cell.ciso}[/bold]: {cell.mark}{covert} — {cell.note}{tag}")
    console.print(
        f"Friction B+K = {pairing.base} + {pairing.style} = {pairing.friction} ({pairing.band}); "
        f"covert score {pairing.covert_score}{' — covert-prone' if pairing.covert_prone else ''}"
    )
    emit(guidance, guidance_columns, OutputFormat.TABLE)
    for note in pairing.notes:
        console.print(f"Note: {note}")


# ----------------------------------------------------------------------------- pulse


@pulse_app.command("answer")
def pulse_answer_cmd(
    actor: As = None,
    period: Annotated[str | None, typer.Option(help="YYYY-MM (default: this month).")] = None,
    answers: Annotated[
        str | None,
        typer.Option(help='JSON file {"P1": 4, …, "meta": {"P3": 4, "P9": 5}}; asked otherwise.'),
    ] = None,
) -> None:
    """Answer this month's pulse, then guess how your counterpart answered P3 and P9."""
    ensure_database()
    from detente.tension import profiles
    from detente.tension.services import pulse_answer
    from detente.tension.signals import Period

    person = _actor(actor)
    given = _answers_file(answers)
    model = profiles.pulse_model()
    if given is not None:
        meta = given.pop("meta", {})
        main = given
    else:
        main = _ask([(i.id, i.text_for(person.leader_role)) for i in model.items])
        meta = _ask([(m, "How do you think your counterpart answered this?") for m in model.meta])
    done = pulse_answer(
        actor=person, answers=main, meta=meta, period=Period.parse(period) if period else None
    )
    console.print(
        f"Pulse for {done.period} recorded. Answers are revealed when both have answered."
    )


@pulse_app.command("show")
def pulse_show_cmd(
    actor: As = None,
    period: Annotated[str | None, typer.Option(help="YYYY-MM (default: this month).")] = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Your pulse, and (once both answered) your counterpart's and the gaps."""
    ensure_database()
    from detente.core import clock
    from detente.tension.selectors import pulse_show
    from detente.tension.signals import Period

    shown = pulse_show(
        viewer=_actor(actor), period=Period.parse(period) if period else Period.of(clock.now())
    )
    if fmt is OutputFormat.JSON:
        console.print_json(json.dumps(shown))
        return
    mine, other, gaps = shown["mine"] or {}, shown["counterpart"] or {}, shown["gaps"] or {}
    rows = [
        {"item": k, "mine": mine.get(k), "counterpart": other.get(k), "gap": gaps.get(k)}
        for k in (f"P{n}" for n in range(1, 11))
    ]
    if fmt is OutputFormat.CSV:
        emit(rows, ["item", "mine", "counterpart", "gap"], fmt)
        return
    emit(rows, ["item", "mine", "counterpart", "gap"], fmt, title=f"Pulse {shown['period']}")
    if not shown["counterpart_answered"]:
        console.print("Your counterpart has not answered yet (blind until both have).")


# ----------------------------------------------------------------------------- radar


@radar_app.callback()
def radar(
    ctx: typer.Context,
    period: Annotated[str | None, typer.Option(help="YYYY-MM (default: the latest).")] = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """The index, the zone, the top signals with their evidence and the recommended action."""
    if ctx.invoked_subcommand is not None:
        return
    ensure_database()
    from detente.meetings.selectors import action_state
    from detente.tension.selectors import snapshot_get, snapshot_latest, top_signals
    from detente.tension.signals import Period

    snap = snapshot_get(Period.parse(period)) if period else snapshot_latest()
    top = top_signals(snap)
    if fmt is OutputFormat.JSON:
        console.print_json(
            json.dumps(
                {
                    "period": snap.period,
                    "month_to_date": snap.month_to_date,
                    "as_of": snap.as_of.isoformat(),
                    "index": snap.index,
                    "zone": snap.zone,
                    "raw_zone": snap.raw_zone,
                    "sub_indices": snap.sub_indices,
                    "triggers": snap.triggers,
                    "top_signals": top,
                    "action": snap.actions,
                    "action_state": action_state(snap),
                    "change": snap.change,
                    "signals": snap.signals,
                }
            )
        )
        return
    rows = [
        {
            "signal": s["name"],
            "tag": s["tag"],
            "value": s["value"],
            "points": s["contribution"],
            "evidence": "; ".join(f"{k} {v}" for k, v in s["evidence"].items() if v),
        }
        for s in top
    ]
    columns = ["signal", "tag", "value", "points", "evidence"]
    if fmt is OutputFormat.CSV:
        emit(rows, columns, fmt)
        return
    console.print(
        f"[bold]{snap.period}[/bold]"
        + (f" month to date (as of {snap.as_of:%Y-%m-%d %H:%M} UTC)" if snap.month_to_date else "")
        + f"  index {snap.index:.0f}/100  zone [bold]{snap.zone}[/bold]"
        + (f" (this period alone: {snap.raw_zone})" if snap.raw_zone != snap.zone else "")
        + f"  trend {snap.actions.get('slope', 0):+}/period"
    )
    for trigger in snap.triggers:
        console.print(f"  ! {trigger['label']}  evidence {trigger['evidence']}")
    if (change := snap.change) is not None:
        console.print(
            f"Zone {change['from_zone']} -> {change['to_zone']} since {change['since']}"
            f" (index {change['index_before']:.0f} -> {change['index_after']:.0f}); moved by:"
        )
        for moved in change["signals"][:5]:
            evidence = "; ".join(f"{k} {v}" for k, v in moved["evidence"].items())
            console.print(f"  {moved['delta']:+.1f} pts  {moved['name']}  {evidence}")
        for trigger in change["triggers_added"]:
            console.print(f"  + {trigger['label']}")
        for trigger in change["triggers_cleared"]:
            console.print(f"  - {trigger['label']} (cleared)")
    emit(rows, columns, OutputFormat.TABLE, title="Top signals")
    console.print(f"[bold]Action:[/bold] {snap.actions.get('action', '')}")
    for line in snap.actions.get("agenda", []):
        console.print(f"  - {line}")
    state = action_state(snap)
    if (meeting := state["meeting"]) is not None:
        console.print(
            f"Meeting M-{meeting['id']} {'held' if meeting['held'] else meeting['status']}; "
            f"decisions taken {meeting['decisions_taken']}/{meeting['items']}; "
            f"actions done {meeting['actions_done']}/{meeting['actions']}"
        )
    if (reset := state["reset"]) is not None:
        done = sum(c["done"] for c in reset["checkins"])
        console.print(f"Reset RS-{reset['id']} {reset['status']}; check-ins {done}/3")


@radar_app.command("compute")
def radar_compute_cmd(
    first: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
    last: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
    actor: As = None,
) -> None:
    """Compute (or recompute) the radar for every month in the range, in order."""
    ensure_database()
    from detente.tension.services import radar_compute_range
    from detente.tension.signals import Period

    person = _actor(actor) if actor else None
    done = radar_compute_range(first=Period.parse(first), last=Period.parse(last), actor=person)
    emit(
        [
            {"period": s.period + (" (month to date)" if s.month_to_date else ""),
             "index": s.index, "zone": s.zone}
            for s in done
        ],
        ["period", "index", "zone"],
        OutputFormat.TABLE,
    )  # fmt: skip


def demo_scenario(
    name: Annotated[str, typer.Argument(help="calm | simmering | overt | covert")],
) -> None:
    """Build a year of history for a scenario through the real services; show the radar."""
    ensure_database()
    from detente.demo.scenarios import build_scenario

    done = build_scenario(name)
    emit(
        [
            {"period": s.period, "index": s.index, "zone": s.zone,
             "triggers": ", ".join(t["key"] for t in s.triggers)}
            for s in done
        ],
        ["period", "index", "zone", "triggers"],
        OutputFormat.TABLE,
        title=f"Scenario {name}",
    )  # fmt: skip
