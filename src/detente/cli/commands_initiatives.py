"""``detente initiative …``: customer-facing security rollouts: phases, guardrails, metrics."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from detente.cli.common import OutputFormat, console, emit, ensure_database
from detente.core.errors import InputError

initiatives_app = typer.Typer(
    help="Customer-facing security rollouts: phases, guardrails, metrics.", no_args_is_help=True
)

As = Annotated[str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")]
PhaseOpt = Annotated[
    int | None,
    typer.Option(
        "--phase",
        help="Phase number (default: the running or paused phase; for sign, comms, start, "
        "threshold, acceptance and cancel, else the next planned one).",
    ),
]
Format = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]
LIST_COLUMNS = (
    "id", "title", "phase", "phase_status", "share", "guardrails", "next_decision",
    "cio_sponsor", "ciso_sponsor",
)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(initiatives_app, name="initiative")


def _actor(email: str | None) -> Any:
    from detente.people.selectors import person_by_email

    return person_by_email(email)


def _phase(initiative_id: int, number: int | None, *, in_flight: bool = False) -> Any:
    """``--phase``, or the phase in flight (running or paused); ``in_flight=False`` also takes
    the next planned phase (sign, comms, start). Never an ended phase: none is exit 2."""
    from detente.initiatives.selectors import initiative_get, phase_get

    return phase_get(initiative_get(initiative_id), number, in_flight=in_flight)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", file=str(path)) from None


@initiatives_app.command("new")
def initiative_new(file: Path, actor: As = None) -> None:
    """Create an initiative from its YAML file (sponsors, risk, phases, guardrails, comms)."""
    ensure_database()
    from detente.initiatives.document import parse_initiative
    from detente.initiatives.services import initiative_create

    data = _read(file)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=str(file)) from None
    person = _actor(actor)
    spec = parse_initiative(text, source=file.name)
    created = initiative_create(actor=person, spec=spec, source=file.name)
    console.print(f"IN-{created.pk} created: {created.title} ({len(spec.phases)} phases)")


@initiatives_app.command("list")
def initiative_list(
    running: Annotated[bool, typer.Option(help="Only initiatives with a live phase.")] = False,
    fmt: Format = OutputFormat.TABLE,
) -> None:
    """Initiatives with their current phase and guardrail status."""
    ensure_database()
    from detente.initiatives.selectors import initiative_rows

    emit(
        initiative_rows(running_only=running),
        LIST_COLUMNS,
        fmt,
        title="Initiatives",
        optional=("ciso_sponsor", "cio_sponsor", "share"),
    )


@initiatives_app.command("show")
def initiative_show(initiative_id: int, fmt: Format = OutputFormat.TABLE) -> None:
    """One initiative: risk, phases, guardrails with their state, history."""
    ensure_database()
    from detente.initiatives.selectors import initiative_detail, initiative_get

    detail = initiative_detail(initiative_get(initiative_id))
    if fmt is OutputFormat.JSON:
        console.print_json(json.dumps(detail, default=str))
        return
    if fmt is OutputFormat.CSV:
        raise InputError("show prints table or json", field="format")
    risk = detail["risk"]
    observed = "not observed yet" if risk["observed"] is None else f"{risk['observed']:g}"
    print(f"IN-{detail['id']}: {detail['title']}")
    print(f"sponsors: {detail['cio_sponsor']} (CIO side), {detail['ciso_sponsor']} (CISO side)")
    print(
        f"risk reduced: {risk['measure']}: baseline {risk['baseline']:g}, expected "
        f"{risk['expected']:g}, observed {observed}"
    )
    print(f"current phase: {detail['current_phase']}; guardrails: {detail['guardrails']}")
    print(f"next decision: {detail['next_decision']}")
    if detail["objection"]:
        o = detail["objection"]
        print(
            f"cancelled after an objection: {o['by']} ({o['side'].upper()} side), from phase "
            f"{o['phase']} on, {o['at'][:16]}: {o['reason']}"
        )
    for phase in detail["phases"]:
        print(
            f"phase {phase['number']} {phase['name']}: {phase['status']}, {phase['share']:g} % "
            f"of users, {phase['planned_start']} to {phase['planned_end']}"
        )
        for g in phase["guardrails"]:
            print(
                f"  {g['metric']}: threshold {g['threshold']:g} {g['unit']} ({g['direction']}), "
                f"baseline {g['baseline']:g}, window {g['window_minutes']} min: {g['state']}"
                + (f" ({g['state_detail']})" if g["state_detail"] else "")
            )
    for event in detail["history"]:
        decision = f" [DR-{event['decision']}]" if event["decision"] else ""
        print(
            f"{event['at']} phase {event['phase']} {event['from']} -> {event['to']} by "
            f"{event['by']}: {event['reason']}{decision}"
        )


@initiatives_app.command("metrics")
def initiative_metrics(initiative_id: int, file: Path, actor: As = None) -> None:
    """Upload metric points from a CSV (timestamp column, one column per metric)."""
    ensure_database()
    from detente.initiatives.csvfile import read_metrics_csv
    from detente.initiatives.selectors import initiative_get
    from detente.initiatives.services import guarded_metrics, metrics_record

    person = _actor(actor)
    initiative = initiative_get(initiative_id)
    points = read_metrics_csv(_read(file), metrics=guarded_metrics(initiative), source=file.name)
    count = metrics_record(actor=person, initiative=initiative, points=points, source=file.name)
    console.print(f"{count} point(s) recorded for IN-{initiative.pk}")


@initiatives_app.command("sign")
def initiative_sign(initiative_id: int, phase: PhaseOpt = None, actor: As = None) -> None:
    """Sign a phase's guardrails as its CIO-side or CISO-side sponsor."""
    ensure_database()
    from detente.initiatives.services import guardrails_sign

    signature = guardrails_sign(actor=_actor(actor), phase=_phase(initiative_id, phase))
    console.print(f"{signature.get_side_display()} signed the guardrails of {signature.phase}")


@initiatives_app.command("comms")
def initiative_comms(
    initiative_id: int,
    item: Annotated[int, typer.Argument(help="Checklist item number (1-based).")],
    phase: PhaseOpt = None,
    actor: As = None,
) -> None:
    """Tick an item of a phase's communications checklist."""
    ensure_database()
    from detente.initiatives.services import comms_complete

    done = comms_complete(actor=_actor(actor), phase=_phase(initiative_id, phase), item=item)
    left = sum(1 for entry in done.comms if not entry.get("done_at"))
    console.print(f"item {item} done; {left} item(s) left")


# Phase moves: each command names its service and what it prints; ``_move`` does the rest (the
# actor, the phase, the call), so the commands differ only in their options and help.
MOVES: dict[str, tuple[str, Callable[[Any], str]]] = {
    "start": ("phase_start", lambda p: f"{p} is running ({p.share:g} % of users)"),
    "pause": ("phase_pause", lambda p: f"{p} paused; go/no-go decision DR-{p.go_no_go_id} opened"),
    "resume": ("phase_resume", lambda p: f"{p} resumed"),
    "rollback": ("phase_rollback", lambda p: f"{p} rolled back"),
    "done": ("phase_complete", lambda p: f"{p} done"),
    "cancel": (
        "phase_cancel",
        lambda p: f"IN-{p.initiative_id} cancelled after an objection, from phase {p.number} on",
    ),
}
# Moves of a phase already started: without --phase they take the running or paused phase.
IN_FLIGHT_MOVES = frozenset({"pause", "resume", "rollback", "done"})
Reason = Annotated[str, typer.Option(help="Why (required).")]


def _move(
    verb: str, initiative_id: int, phase: int | None, actor: str | None, **extra: str
) -> None:
    ensure_database()
    from detente.initiatives import services

    name, said = MOVES[verb]
    in_flight = verb in IN_FLIGHT_MOVES
    moved = getattr(services, name)(
        actor=_actor(actor), phase=_phase(initiative_id, phase, in_flight=in_flight), **extra
    )
    console.print(said(moved))


@initiatives_app.command("start")
def initiative_start(initiative_id: int, phase: PhaseOpt = None, actor: As = None) -> None:
    """Start a phase (both signatures, comms complete, the previous phase done)."""
    _move("start", initiative_id, phase, actor)


@initiatives_app.command("pause")
def initiative_pause(
    initiative_id: int, reason: Reason, phase: PhaseOpt = None, actor: As = None
) -> None:
    """Pause the live phase by hand; opens a go/no-go decision."""
    _move("pause", initiative_id, phase, actor, reason=reason)


@initiatives_app.command("resume")
def initiative_resume(initiative_id: int, phase: PhaseOpt = None, actor: As = None) -> None:
    """Resume a paused phase once its go/no-go decision is decided for go."""
    _move("resume", initiative_id, phase, actor)


@initiatives_app.command("rollback")
def initiative_rollback(
    initiative_id: int, reason: Reason, phase: PhaseOpt = None, actor: As = None
) -> None:
    """Roll the phase back (recorded with its reason and any open decision)."""
    _move("rollback", initiative_id, phase, actor, reason=reason)


@initiatives_app.command("done")
def initiative_done(initiative_id: int, phase: PhaseOpt = None, actor: As = None) -> None:
    """Complete the live phase."""
    _move("done", initiative_id, phase, actor)


@initiatives_app.command("cancel")
def initiative_cancel(
    initiative_id: int, reason: Reason, phase: PhaseOpt = None, actor: As = None
) -> None:
    """Object and cancel the rollout: the phase and every later one (a sponsor, the CIO or the
    CISO)."""
    _move("cancel", initiative_id, phase, actor, reason=reason)


@initiatives_app.command("threshold")
def initiative_threshold(
    initiative_id: int,
    metric: str,
    value: Annotated[str, typer.Argument(help="New threshold, e.g. '8 %' or 1500ms.")],
    decision: Annotated[
        int | None, typer.Option(help="The decided decision record (needed once signed).")
    ] = None,
    phase: PhaseOpt = None,
    actor: As = None,
) -> None:
    """Change a guardrail's threshold (after signing: through a decision record)."""
    ensure_database()
    from detente.initiatives.selectors import decision_get, guardrail_of
    from detente.initiatives.services import guardrail_change_threshold

    guardrail = guardrail_of(_phase(initiative_id, phase), metric)
    record = None if decision is None else decision_get(decision)
    change = guardrail_change_threshold(
        actor=_actor(actor), guardrail=guardrail, threshold=value, decision=record
    )
    console.print(
        f"{metric}: threshold {change.old_threshold:g} -> {change.new_threshold:g} {guardrail.unit}"
    )


@initiatives_app.command("evaluate")
def initiative_evaluate(
    at: Annotated[str | None, typer.Option(help="ISO 8601 time (default: now).")] = None,
) -> None:
    """Judge every guardrail of every live phase now (the worker does this on a schedule)."""
    ensure_database()
    from detente.initiatives.csvfile import parse_time
    from detente.initiatives.services import guardrails_evaluate

    moment = parse_time(at, record="--at", field="at") if at else None
    report = guardrails_evaluate(now=moment)
    console.print(
        f"{report.guardrails} guardrail(s): {report.healthy} healthy, {report.breached} "
        f"breached, {report.unavailable} unavailable; {len(report.paused)} phase(s) paused"
    )


@initiatives_app.command("pull")
def initiative_pull(
    url: Annotated[
        str | None, typer.Option(help="Prometheus base URL (default: DETENTE_PROMETHEUS_URL).")
    ] = None,
    hours: Annotated[int, typer.Option(help="How far back to read.")] = 2,
) -> None:
    """Pull the PromQL guardrails of live phases from Prometheus, then evaluate."""
    ensure_database()
    from detente.initiatives.prometheus import prometheus_url, pull_live
    from detente.initiatives.services import guardrails_evaluate

    report = pull_live(base_url=url or prometheus_url(), lookback=dt.timedelta(hours=hours))
    evaluation = guardrails_evaluate()
    console.print(
        f"{report.queries} quer(ies): {report.points} point(s), {len(report.failed)} "
        f"unavailable; {len(evaluation.paused)} phase(s) paused"
    )


@initiatives_app.command("token")
def initiative_token(initiative_id: int, actor: As = None) -> None:
    """Issue a token that can only push metrics into this initiative (shown once)."""
    ensure_database()
    from detente.initiatives.selectors import initiative_get
    from detente.initiatives.services import metric_token_issue

    _, raw = metric_token_issue(actor=_actor(actor), initiative=initiative_get(initiative_id))
    print(raw)


@initiatives_app.command("acceptance")
def initiative_acceptance(
    initiative_id: int,
    acceptance_id: Annotated[int, typer.Argument(help="The risk acceptance (RA) id.")],
    phase: PhaseOpt = None,
    actor: As = None,
) -> None:
    """Link a temporary risk acceptance to a phase (it must end by the phase's planned end)."""
    ensure_database()
    from detente.initiatives.selectors import acceptance_get
    from detente.initiatives.services import phase_link_acceptance

    acceptance = acceptance_get(acceptance_id)
    linked = phase_link_acceptance(
        actor=_actor(actor), phase=_phase(initiative_id, phase), acceptance=acceptance
    )
    console.print(f"RA-{acceptance_id} covers {linked} and ends with it")
