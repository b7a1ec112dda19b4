"""``detente meeting …``: the structured decision meeting the radar calls for in amber."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from detente.cli.common import OutputFormat, console, emit, ensure_database
from detente.core.errors import InputError

meeting_app = typer.Typer(
    help="Decision meetings: propose from the radar, schedule (ICS), minute, follow through."
)

As = Annotated[str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")]
Fmt = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]


def register(app: typer.Typer) -> None:
    app.add_typer(meeting_app, name="meeting", no_args_is_help=True)


def _actor(email: str | None) -> Any:
    from detente.people.selectors import person_by_email

    return person_by_email(email)


def _when(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"a start is ISO 8601 with its offset (2026-12-08T10:00+01:00), not {text!r}",
            field="at",
        ) from None
    if moment.tzinfo is None:
        raise InputError("give the start's UTC offset (e.g. +01:00 or Z)", field="at")
    return moment


def load_document(path: Path) -> dict[str, Any]:
    """A JSON or YAML object from a file, or a clear error naming the file."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror})", file=str(path)) from None
    try:
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InputError(f"not valid {path.suffix[1:] or 'JSON'}: {exc}", file=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("expected an object", file=str(path))
    return data


def _show(meeting: Any, fmt: OutputFormat) -> None:
    from detente.meetings.selectors import follow_through

    state = follow_through(meeting)
    items = [
        {
            "item": i.position,
            "title": i.title,
            "signal": i.signal,
            "evidence": i.evidence,
            "decide_by": i.decide_by.isoformat(),
            "outcome": i.outcome,
            "decision": i.decision_id,
            "deferred_to": i.deferred_to.isoformat() if i.deferred_to else None,
            "carried_from": (
                f"M-{i.carried_from.meeting_id} item {i.carried_from.position}"
                if i.carried_from
                else None
            ),
            "framing": i.framing,
        }
        for i in meeting.items.select_related("carried_from")
    ]
    actions = [
        {
            "id": a.pk,
            "title": a.title,
            "owner": a.owner.email,
            "due": a.due.isoformat(),
            "done": a.done_at is not None,
        }
        for a in meeting.actions.select_related("owner")
    ]
    attendees = [
        {"email": a.person.email, "delegate": a.delegate, "attended": a.attended}
        for a in meeting.attendees.select_related("person")
    ]
    if fmt is OutputFormat.JSON:
        console.print_json(
            json.dumps(
                {
                    "id": meeting.pk,
                    "kind": meeting.kind,
                    "title": meeting.title,
                    "period": meeting.period,
                    "zone": meeting.zone,
                    "status": meeting.status,
                    "starts_at": state["starts_at"],
                    "location": meeting.location,
                    "sequence": meeting.sequence,
                    "reschedules": meeting.reschedules,
                    "attendees": attendees,
                    "items": items,
                    "actions": actions,
                    "minutes": meeting.minutes,
                    "follow_through": state,
                }
            )
        )
        return
    console.print(
        f"[bold]M-{meeting.pk}[/bold] {meeting.title}  {meeting.status}"
        + (
            f"  {meeting.starts_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
            if meeting.starts_at
            else ""
        )
        + (f"  (moved {meeting.sequence}×)" if meeting.sequence else "")
    )
    console.print(
        f"decisions taken {state['decisions_taken']}/{state['items']}  deferred "
        f"{state['deferred']}  actions done {state['actions_done']}/{state['actions']}"
    )
    emit(
        [{**i, "evidence": "; ".join(f"{k} {v}" for k, v in i["evidence"].items())} for i in items],
        ["item", "title", "evidence", "decide_by", "outcome", "decision", "deferred_to"],
        fmt,
        title="Agenda",
        optional=("deferred_to", "evidence"),
    )
    if actions and fmt is OutputFormat.TABLE:
        emit(actions, ["id", "title", "owner", "due", "done"], fmt, title="Actions")


@meeting_app.command("propose")
def propose_cmd(
    period: Annotated[
        str | None, typer.Option(help="Radar month YYYY-MM (default: latest).")
    ] = None,
    title: Annotated[str, typer.Option(help="A title (default: from the radar month).")] = "",
    actor: As = None,
) -> None:
    """Propose a decision meeting whose agenda is the radar's evidence. Without --as (and
    DETENTE_ACTOR) the system proposes, which it does only in amber or red."""
    ensure_database()
    from detente.meetings.services import meeting_propose
    from detente.tension.signals import Period

    who = _actor(actor) if (actor or os.environ.get("DETENTE_ACTOR")) else None
    meeting = meeting_propose(
        actor=who, period=Period.parse(period) if period else None, title=title
    )
    console.print(
        f"M-{meeting.pk} proposed for the {meeting.period} radar ({meeting.zone}): "
        f"{meeting.items.count()} agenda item(s)"
    )


@meeting_app.command("schedule")
def schedule_cmd(
    meeting_id: Annotated[int, typer.Argument(help="The meeting's number (M-…).")],
    at: Annotated[str, typer.Option("--at", help="Start, ISO 8601 with offset.")],
    minutes: Annotated[int, typer.Option(help="Length in minutes.")] = 60,
    location: Annotated[str, typer.Option(help="Room or link.")] = "",
    delegate: Annotated[
        list[str] | None, typer.Option(help="A delegate's e-mail (repeatable).")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why it moves (a reschedule).")] = "",
    ics: Annotated[Path | None, typer.Option(help="Write the invitation (.ics) here.")] = None,
    actor: As = None,
) -> None:
    """Schedule (or move) the meeting; write the RFC 5545 invitation for all attendees."""
    ensure_database()
    from detente.meetings.ics import meeting_ics
    from detente.meetings.selectors import meeting_get
    from detente.meetings.services import meeting_schedule

    who = _actor(actor)
    delegates = [_actor(email) for email in delegate or []]
    meeting = meeting_schedule(
        actor=who,
        meeting=meeting_get(meeting_id),
        starts_at=_when(at),
        minutes=minutes,
        location=location,
        delegates=delegates,
        reason=reason,
    )
    if ics is not None:
        ics.write_bytes(meeting_ics(meeting))
    assert meeting.starts_at is not None  # just scheduled
    console.print(
        f"M-{meeting.pk} {'moved to' if meeting.sequence else 'scheduled for'} "
        f"{meeting.starts_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC (sequence {meeting.sequence}), "
        f"{meeting.attendees.count()} attendee(s)" + (f"; invitation {ics}" if ics else "")
    )


@meeting_app.command("minutes")
def minutes_cmd(
    meeting_id: Annotated[int, typer.Argument(help="The meeting's number (M-…).")],
    file: Annotated[
        Path,
        typer.Option(
            "--file", help="JSON or YAML: minutes, attended, outcomes (per item), actions."
        ),
    ],
    actor: As = None,
) -> None:
    """Record the minutes: every item decided (a decision record) or deferred to a date."""
    ensure_database()
    from detente.meetings.selectors import follow_through, meeting_get
    from detente.meetings.services import meeting_minutes

    who = _actor(actor)
    data = load_document(file)
    unknown = sorted(set(data) - {"minutes", "attended", "outcomes", "actions"})
    if unknown:
        raise InputError(f"unknown keys {unknown}", file=str(file))
    for key in ("attended", "outcomes", "actions"):
        if not isinstance(data.get(key, []), list):
            raise InputError("expected a list", file=str(file), field=key)
    try:
        meeting = meeting_minutes(
            actor=who,
            meeting=meeting_get(meeting_id),
            minutes=str(data.get("minutes") or ""),
            attended=[str(x) for x in data.get("attended") or []],
            outcomes=list(data.get("outcomes") or []),
            actions=list(data.get("actions") or []),
        )
    except InputError as exc:
        raise exc.with_file(str(file)) from None
    state = follow_through(meeting)
    console.print(
        f"M-{meeting.pk} held: {state['decisions_taken']} decided, {state['deferred']} "
        f"deferred, {state['actions']} action(s)"
    )


@meeting_app.command("show")
def show_cmd(
    meeting_id: Annotated[int, typer.Argument(help="The meeting's number (M-…).")],
    ics: Annotated[Path | None, typer.Option(help="Write the invitation (.ics) here.")] = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """The meeting: agenda with evidence and framing, attendance, outcomes, actions."""
    ensure_database()
    from detente.meetings.ics import meeting_ics
    from detente.meetings.selectors import meeting_get

    meeting = meeting_get(meeting_id)
    if ics is not None:
        ics.write_bytes(meeting_ics(meeting))
    _show(meeting, fmt)


@meeting_app.command("list")
def list_cmd(
    status: Annotated[str | None, typer.Option(help="proposed | scheduled | held")] = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Meetings, newest first, with their follow-through."""
    ensure_database()
    from detente.meetings.models import MeetingStatus
    from detente.meetings.selectors import follow_through, meetings

    if status is not None and status not in MeetingStatus.values:
        raise InputError(f"a status is {', '.join(MeetingStatus.values)}", field="status")
    rows = []
    for m in meetings(status):
        state = follow_through(m)
        rows.append(
            {
                "id": m.pk,
                "title": m.title,
                "period": m.period,
                "zone": m.zone,
                "status": m.status,
                "starts_at": state["starts_at"],
                "decided": f"{state['decisions_taken']}/{state['items']}",
                "actions_done": f"{state['actions_done']}/{state['actions']}",
            }
        )
    emit(
        rows,
        ["id", "title", "period", "zone", "status", "starts_at", "decided", "actions_done"],
        fmt,
        title="Meetings",
        optional=("period", "starts_at"),
    )


@meeting_app.command("done")
def done_cmd(
    action_id: Annotated[int, typer.Argument(help="The action's number.")],
    actor: As = None,
) -> None:
    """Mark an action done (its owner or a leader)."""
    ensure_database()
    from detente.meetings.selectors import action_get
    from detente.meetings.services import action_done

    who = _actor(actor)
    action_done(actor=who, action=action_get(action_id))
    console.print(f"action {action_id} done")
