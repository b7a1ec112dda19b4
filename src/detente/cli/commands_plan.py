"""``detente plan …``: change windows, blackouts, the patch plan, its misses, what-if, ICS."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from detente.cli.common import (
    Limit,
    Offset,
    OutputFormat,
    console,
    emit,
    ensure_database,
    page_of,
    say_more,
)
from detente.core.errors import InputError, NotFound

plan_app = typer.Typer(help="Patch planning into change windows: plan, misses, what-if, ICS.")
window_app = typer.Typer(help="Change windows (RFC 5545 recurrence, capacity).")
blackout_app = typer.Typer(help="Blackout periods: no changes.")

As = Annotated[str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")]
Fmt = Annotated[OutputFormat, typer.Option("--format")]


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan", no_args_is_help=True)
    plan_app.add_typer(window_app, name="window", no_args_is_help=True)
    plan_app.add_typer(blackout_app, name="blackout", no_args_is_help=True)


def _actor(email: str | None) -> Any:
    from detente.people.selectors import person_by_email

    return person_by_email(email)


def _plan(plan_id: int | None) -> Any:
    from detente.planning.selectors import plan_current, plan_get

    plan = plan_get(plan_id) if plan_id else plan_current()
    if plan is None:
        raise NotFound("no plan yet: plan make")
    return plan


def _aware(text: str, tz: str) -> dt.datetime:
    from detente.planning.occurrences import zone

    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"not an ISO date or date-time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone(tz))


def _emit_summary(plan: Any, fmt: OutputFormat) -> None:
    summary = _summary(plan)
    if fmt is OutputFormat.TABLE:
        rows = [{"": key, "value": value} for key, value in summary.items()]
        emit(rows, ["", "value"], fmt, f"Patch plan {plan.pk}")
        return
    emit([summary], list(summary), fmt, f"Patch plan {plan.pk}")


def _summary(plan: Any) -> dict[str, Any]:
    s = plan.summary
    return {
        "plan": plan.pk,
        "status": plan.status,
        "made_at": plan.made_at,
        "horizon_end": plan.horizon_end.date(),
        "method": plan.method + (" (optimal)" if plan.optimal else ""),
        "items": plan.items,
        "planned": plan.planned,
        "missed": plan.missed,
        "missed_for_capacity": s.get("missed_for_capacity"),
        "exposure_days": plan.exposure_days,
        "acceptances_needed": s.get("acceptances_needed"),
        "emergency_changes": s.get("emergency_changes"),
        "extra_windows": s.get("extra_windows"),
        "blocked_occurrences": len(s.get("blocked", [])),
        "solve_ms": plan.solve_ms,
    }


@plan_app.command("make")
def plan_make_command(
    actor: As = None,
    horizon: Annotated[int | None, typer.Option(help="Days ahead (policy default).")] = None,
    method: Annotated[str, typer.Option(help="auto | exact | greedy")] = "auto",
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Plan every open work item into the change windows; show the misses."""
    ensure_database()
    from detente.planning.services import plan_make

    plan = plan_make(actor=_actor(actor), horizon_days=horizon, method=method)
    _emit_summary(plan, fmt)


@plan_app.command("show")
def plan_show(
    plan_id: Annotated[int | None, typer.Option("--plan", help="Plan id (current).")] = None,
    misses: Annotated[bool, typer.Option(help="Only the deadlines at risk.")] = False,
    limit: Limit = 200,
    offset: Offset = 0,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """The plan's work items: where each goes, and for each miss the cheapest remedy."""
    ensure_database()
    from detente.planning.selectors import plan_items

    plan = _plan(plan_id)
    rows = []
    items = plan_items(plan, missed_only=misses).order_by("-weight", "id")
    page, more = page_of(items, limit=limit, offset=offset)
    for item in page:
        best = next((r for r in item.remedies if r["feasible"]), None)
        rows.append({
            "id": item.pk,
            "item": item.key,
            "service": item.service.slug if item.service else None,
            "findings": len(item.finding_ids),
            "hours": item.effort_hours,
            "weight": round(item.weight, 2),
            "deadline": item.deadline.date(),
            "window": item.window.name if item.window else None,
            "when": item.starts_at,
            "miss": item.miss,
            "late_days": round(item.late_days, 1),
            "remedy": (best["kind"] + (f" ({best.get('when') or best.get('until')})"))
            if best else ("none feasible" if item.miss else ""),
            "acceptance": f"RA-{item.acceptance_id}" if item.acceptance_id else "",
            "remedies": item.remedies,
        })  # fmt: skip
    if fmt is OutputFormat.TABLE:
        _emit_summary(plan, fmt)
        cols = ["id", "item", "findings", "deadline", "when", "miss", "late_days", "remedy",
                "acceptance"]  # fmt: skip
    else:
        cols = ["id", "item", "service", "findings", "hours", "weight", "deadline", "window",
                "when", "miss", "late_days", "remedy", "acceptance", "remedies"]  # fmt: skip
    for row in rows:
        if fmt is OutputFormat.TABLE:
            row["deadline"] = f"{row['deadline']:%Y-%m-%d}"
            row["when"] = f"{row['when']:%Y-%m-%d %H:%M}" if row["when"] else "unplanned"
    emit(rows, cols, fmt, "Work items", optional=("acceptance", "late_days", "findings"))
    say_more(more, limit=limit, offset=offset)


@plan_app.command("what-if")
def plan_what_if(
    scenario: Annotated[
        list[str],
        typer.Option(
            help="defer:CLASS:DAYS | freeze:START:END | add-window:SERVICE[:RRULE] (repeatable)"
        ),
    ],
    horizon: Annotated[int | None, typer.Option()] = None,
    method: Annotated[str, typer.Option(help="auto | exact | greedy")] = "auto",
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Compare the baseline plan with each scenario, side by side (nothing is stored)."""
    ensure_database()
    from detente.planning.scenarios import compare, parse
    from detente.planning.selectors import planning_input, services_by_slug
    from detente.policy.services import active_policy

    slugs = services_by_slug()
    parsed = [parse(spec, services=slugs) for spec in scenario]
    doc, _ = active_policy()
    results = compare(planning_input(doc, horizon_days=horizon), parsed, method=method)
    if fmt is OutputFormat.JSON:
        emit([{"scenario": label, **metrics} for label, metrics in results], [], fmt)
        return
    keys = ["exposure_days", "missed", "missed_findings", "acceptances_needed",
            "emergency_changes", "extra_windows", "planned", "method"]  # fmt: skip
    base = results[0][1]
    rows = []
    for key in keys:
        row: dict[str, Any] = {"metric": key}
        for label, metrics in results:
            value = metrics[key]
            if label != "baseline" and isinstance(value, int | float) and key != "method":
                value = f"{value} ({value - base[key]:+g})"
            row[label] = value
        rows.append(row)
    emit(rows, ["metric", *(label for label, _ in results)], fmt, "What-if")


@plan_app.command("export")
def plan_export(
    out: Annotated[Path, typer.Option(help="The .ics file to write.")] = Path("patch-plan.ics"),
    plan_id: Annotated[int | None, typer.Option("--plan")] = None,
) -> None:
    """ICS calendar of the planned window occurrences and their work."""
    ensure_database()
    from detente.planning.ics import plan_ics

    data = plan_ics(_plan(plan_id))
    out.write_bytes(data)
    console.print(f"wrote {out} ({data.count(b'BEGIN:VEVENT')} events)")


@plan_app.command("defer")
def plan_defer(
    item_id: int,
    actor: As = None,
    justification: Annotated[str, typer.Option(help="The business benefit of deferring.")] = "",
    controls: Annotated[str, typer.Option(help="Compensating controls.")] = "",
) -> None:
    """Turn a miss into an acceptance request, the plan's facts filled in."""
    ensure_database()
    from detente.planning.services import plan_item_defer

    done = plan_item_defer(
        actor=_actor(actor), item=item_id, justification=justification,
        compensating_controls=controls,
    )  # fmt: skip
    console.print(
        f"RA-{done.pk} {done.status} until {done.requested_until}: {done.items.count()} "
        f"finding(s), needs {', '.join(done.required_roles)}"
    )


@plan_app.command("emergency")
def plan_emergency(
    service: str,
    reason: Annotated[str, typer.Option()],
    actor: As = None,
    item_id: Annotated[int | None, typer.Option("--item", help="The plan item it fixes.")] = None,
    when: Annotated[str | None, typer.Option(help="ISO date-time (now).")] = None,
) -> None:
    """Call an emergency change (roles and monthly limit from policy)."""
    ensure_database()
    from detente.inventory.selectors import service_by_slug
    from detente.planning.selectors import plan_item_get
    from detente.planning.services import emergency_change_call

    item = plan_item_get(item_id) if item_id else None
    done = emergency_change_call(
        actor=_actor(actor), service=service_by_slug(service), reason=reason,
        when=_aware(when, "UTC") if when else None, item=item,
    )  # fmt: skip
    console.print(f"emergency change {done.pk} for {service} at {done.scheduled_for}")


@window_app.command("add")
def window_add_command(
    service: str,
    name: Annotated[str, typer.Option()],
    rrule: Annotated[str, typer.Option(help="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SA")],
    start: Annotated[str, typer.Option(help="Local start time HH:MM.")],
    minutes: Annotated[int, typer.Option(help="Duration in minutes.")],
    capacity: Annotated[float, typer.Option(help="Slots or engineer-hours.")],
    unit: Annotated[str, typer.Option(help="slots | hours")] = "hours",
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone.")] = "UTC",
    starts_on: Annotated[str | None, typer.Option(help="First day (ISO; today).")] = None,
    actor: As = None,
) -> None:
    """Add a recurring change window to a business service."""
    ensure_database()
    from detente.inventory.selectors import service_by_slug
    from detente.planning.services import window_add

    try:
        at = dt.time.fromisoformat(start)
        first = dt.date.fromisoformat(starts_on) if starts_on else None
    except ValueError:
        raise InputError("--start HH:MM and --starts-on YYYY-MM-DD") from None
    window = window_add(
        actor=_actor(actor), service=service_by_slug(service), name=name, rrule=rrule,
        start_time=at, duration_minutes=minutes, capacity=capacity, capacity_unit=unit,
        timezone=tz, starts_on=first,
    )  # fmt: skip
    console.print(f"window {window.pk} for {service}: {window.rrule} at {at} {tz}")


@window_app.command("list")
def window_list(
    service: Annotated[str | None, typer.Option()] = None,
    upcoming: Annotated[int, typer.Option(help="Show the next N occurrences.")] = 3,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Windows, with their next occurrences."""
    ensure_database()
    from detente.core import clock
    from detente.inventory.selectors import service_by_slug
    from detente.planning.selectors import window_occurrences, windows_list

    now = clock.now()
    service_id = service_by_slug(service).pk if service else None
    rows = []
    for w in windows_list(service_id=service_id):
        nxt = window_occurrences(w, start=now, end=now + dt.timedelta(days=366))[:upcoming]
        rows.append({
            "id": w.pk, "service": w.service.slug, "name": w.name, "rrule": w.rrule,
            "start": f"{w.start_time:%H:%M} {w.timezone}", "minutes": w.duration_minutes,
            "capacity": f"{w.capacity:g} {w.capacity_unit}",
            "next": ", ".join(f"{o.starts_at:%Y-%m-%d %H:%M%z}" for o in nxt),
        })  # fmt: skip
    emit(rows, ["id", "service", "name", "rrule", "start", "minutes", "capacity", "next"], fmt,
         "Change windows", optional=("rrule", "minutes", "capacity", "start"))  # fmt: skip


@blackout_app.command("add")
def blackout_add_command(
    start: Annotated[str, typer.Option(help="ISO date or date-time.")],
    end: Annotated[str, typer.Option(help="ISO date or date-time (exclusive).")],
    reason: Annotated[str, typer.Option()],
    service: Annotated[str | None, typer.Option(help="Only this service (default: all).")] = None,
    tz: Annotated[str, typer.Option("--tz")] = "UTC",
    actor: As = None,
) -> None:
    """Freeze changes over a period, for one service or for all."""
    ensure_database()
    from detente.inventory.selectors import service_by_slug
    from detente.planning.services import blackout_add

    done = blackout_add(
        actor=_actor(actor), starts_at=_aware(start, tz), ends_at=_aware(end, tz),
        reason=reason, service=service_by_slug(service) if service else None,
    )  # fmt: skip
    console.print(f"blackout {done.pk}: {done.starts_at} → {done.ends_at} ({done.reason})")
