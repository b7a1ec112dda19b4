"""``detente incident …``: declare, brief, acknowledge, status, clocks, timeline, review, list."""

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
    print_details,
    readable,
    say_more,
)
from detente.core.errors import InputError, NotFound

incident_app = typer.Typer(help="Incidents: CIO briefings on a cadence, regulatory clocks.")

As = Annotated[str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")]
Moment = Annotated[
    str | None, typer.Option(help="ISO 8601 time, e.g. 2026-11-02T09:00+01:00 (naive = UTC).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(incident_app, name="incident", no_args_is_help=True)


def _actor(email: str | None) -> Any:
    from detente.people.selectors import person_by_email

    return person_by_email(email)


def _person(email: str | None) -> Any:
    return _actor(email) if email else None


def _moment(text: str | None, field: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"not an ISO 8601 time: {text!r}", field=field) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@incident_app.command("declare")
def incident_declare_command(
    title: Annotated[str, typer.Option()],
    severity: Annotated[str, typer.Option(help="sev1 | sev2 | sev3 | sev4")],
    lead: Annotated[str, typer.Option(help="Incident lead's e-mail.")],
    actor: As = None,
    type_: Annotated[str, typer.Option("--type", help="e.g. data_breach, ransomware.")] = "other",
    summary: Annotated[str, typer.Option()] = "",
    service: Annotated[list[str] | None, typer.Option(help="Service slug (repeatable).")] = None,
    personal_data: Annotated[bool, typer.Option(help="Personal data involved.")] = False,
    data_category: Annotated[list[str] | None, typer.Option(help="Repeatable.")] = None,
    detected_at: Moment = None,
    aware_at: Moment = None,
    liaison: Annotated[str | None, typer.Option(help="E-mail.")] = None,
    scribe: Annotated[str | None, typer.Option(help="E-mail.")] = None,
) -> None:
    """Declare an incident now (the CIO and CISO are told through the outbox)."""
    ensure_database()
    from detente.incidents.services import incident_declare
    from detente.inventory.selectors import service_by_slug

    created = incident_declare(
        actor=_actor(actor), title=title, type=type_, severity=severity, lead=_actor(lead),
        summary=summary, services=[service_by_slug(s) for s in service or []],
        personal_data=personal_data, data_categories=data_category or [],
        detected_at=_moment(detected_at, "detected_at"), aware_at=_moment(aware_at, "aware_at"),
        liaison=_person(liaison), scribe=_person(scribe),
    )  # fmt: skip
    console.print(f"INC-{created.pk} declared: {created.get_severity_display()} {created.title}")


def _render(briefing: Any, out: Path | None) -> None:
    from detente.incidents.briefings import render_html, render_markdown, render_pdf
    from detente.incidents.selectors import incident_clocks, previous_briefings

    clocks = incident_clocks(briefing.incident)
    previous = previous_briefings(briefing)
    if out is None:
        print(render_markdown(briefing, clocks=clocks, previous=previous))
        return
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        out.write_bytes(render_pdf(briefing, clocks=clocks, previous=previous))
    elif suffix in (".html", ".htm"):
        out.write_text(render_html(briefing, clocks=clocks, previous=previous), encoding="utf-8")
    elif suffix == ".md":
        out.write_text(render_markdown(briefing, clocks=clocks, previous=previous), "utf-8")
    else:
        raise InputError("write .md, .html or .pdf", field="out")
    console.print(f"briefing {briefing.pk} written to {out}")


@incident_app.command("brief")
def incident_brief(
    incident_id: int,
    actor: As = None,
    status: Annotated[str | None, typer.Option(help="Where things stand (required).")] = None,
    form: Annotated[str, typer.Option(help="executive | tactical")] = "executive",
    overview: Annotated[str, typer.Option()] = "",
    known: Annotated[list[str] | None, typer.Option(help="Repeatable.")] = None,
    unknown: Annotated[
        list[str] | None, typer.Option(help="TEXT or TEXT@low|medium|high (repeatable).")
    ] = None,
    action: Annotated[list[str] | None, typer.Option(help="Under way (repeatable).")] = None,
    ask: Annotated[list[str] | None, typer.Option(help="Decision needed (repeatable).")] = None,
    next_step: Annotated[list[str] | None, typer.Option(help="Repeatable.")] = None,
    next_update_at: Moment = None,
    show: Annotated[
        int | None, typer.Option(help="Render briefing number N instead of issuing one.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write .md, .html or .pdf.")] = None,
) -> None:
    """Issue a briefing (printed as Markdown, or written with --out), or render one (--show)."""
    ensure_database()
    from detente.incidents.selectors import briefing_of, incident_get
    from detente.incidents.services import Unknown, briefing_issue

    incident = incident_get(incident_id)
    if show is not None:
        _render(briefing_of(incident, show), out)
        return
    if not status:
        raise InputError("say where things stand: --status", field="status")
    unknowns = []
    for item in unknown or []:
        text, _, confidence = item.rpartition("@") if "@" in item else (item, "", "low")
        unknowns.append(Unknown(text=text, confidence=confidence.strip().lower()))
    briefing = briefing_issue(
        actor=_actor(actor), incident=incident, form=form, status_summary=status,
        overview=overview, knowns=known or [], unknowns=unknowns, actions=action or [],
        asks=ask or [], next_steps=next_step or [],
        next_update_due=_moment(next_update_at, "next_update_at"),
    )  # fmt: skip
    console.print(
        f"briefing {briefing.pk} (#{briefing.number}, {briefing.form}) issued; "
        f"next update due {_when(briefing.next_update_due) or 'not required'}"
    )
    if out is not None:
        _render(briefing, out)


@incident_app.command("ack")
def incident_ack(briefing_id: int, actor: As = None) -> None:
    """The CIO acknowledges a briefing (by its id, as printed by `incident brief`)."""
    ensure_database()
    from detente.incidents.selectors import incident_get, time_to_inform_cio
    from detente.incidents.services import briefing_acknowledge

    done = briefing_acknowledge(actor=_actor(actor), briefing=briefing_id)
    informed = time_to_inform_cio(incident_get(done.incident_id))
    console.print(
        f"briefing {done.pk} acknowledged by {done.acknowledged_by}; "
        f"CIO informed {informed} after declaration"
    )


@incident_app.command("answer")
def incident_answer(
    briefing_id: int,
    ask: Annotated[int, typer.Argument(help="The ask's number in the briefing, from 1.")],
    answer: Annotated[str, typer.Option("--answer", help="The CIO's answer (required).")],
    actor: As = None,
) -> None:
    """The CIO answers one of a briefing's asks, once (written on the timeline as a decision)."""
    ensure_database()
    from detente.incidents.services import briefing_answer

    done = briefing_answer(actor=_actor(actor), briefing=briefing_id, ask=ask, answer=answer)
    console.print(
        f"briefing {done.pk} (#{done.number} of INC-{done.incident_id}): ask {ask} "
        f"“{done.asks[ask - 1]}” answered; recorded on the timeline as a decision"
    )


@incident_app.command("status")
def incident_status(
    incident_id: int,
    to: Annotated[
        str | None, typer.Option(help="contained | eradicated | recovered | closed | …")
    ] = None,
    note: Annotated[str, typer.Option()] = "",
    actor: As = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Show an incident (briefing cadence, clocks), or move it with --to."""
    ensure_database()
    from detente.incidents.selectors import (
        briefing_status,
        incident_clocks,
        incident_get,
        time_to_inform_cio,
    )
    from detente.incidents.services import incident_transition

    if to:
        done = incident_transition(actor=_actor(actor), incident=incident_id, to=to, note=note)
        console.print(f"INC-{done.pk} {done.status}")
        return
    i = incident_get(incident_id)
    cadence = briefing_status(i)
    detail = {
        "id": i.pk, "title": i.title, "type": i.type, "severity": i.severity,
        "status": i.status, "lead": i.lead.email, "cio": i.cio.email if i.cio else None,
        "ciso": i.ciso.email if i.ciso else None, "declared_at": _when(i.declared_at),
        "aware_at": _when(i.aware_at), "services": ", ".join(s.slug for s in i.services.all()),
        "personal_data": i.personal_data, "data_categories": ", ".join(i.data_categories),
        "briefing": cadence.state.value, "next_briefing_due": _when(cadence.due),
        "briefings": i.briefings.count(),
        "time_to_inform_cio": readable(time_to_inform_cio(i)),
        "clocks": [
            f"{c.regime} {c.label}: {c.state.value} {_when(c.due)}".rstrip()
            for c in incident_clocks(i) if c.state != "not_applicable"
        ],
    }  # fmt: skip
    if fmt is OutputFormat.TABLE:
        print_details(detail)
        return
    emit([detail], list(detail), fmt)


@incident_app.command("clock")
def incident_clock(
    incident_id: int,
    met: Annotated[str | None, typer.Option(help="Record a filing for this clock key.")] = None,
    filed_at: Moment = None,
    reference: Annotated[str, typer.Option()] = "",
    note: Annotated[str, typer.Option()] = "",
    material_at: Moment = None,
    major_at: Moment = None,
    details_available_at: Moment = None,
    significant: Annotated[
        bool | None, typer.Option("--significant/--not-significant", help="NIS2.")
    ] = None,
    high_risk: Annotated[
        bool | None, typer.Option("--high-risk/--no-high-risk", help="GDPR Art. 34.")
    ] = None,
    actor: As = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Show the regulatory clocks; record the facts that start them, or a filing (--met KEY)."""
    ensure_database()
    from detente.incidents.selectors import incident_clocks, incident_get
    from detente.incidents.services import clock_met, incident_set_facts

    facts = {
        "material_determined_at": _moment(material_at, "material_at"),
        "classified_major_at": _moment(major_at, "major_at"),
        "sec_details_available_at": _moment(details_available_at, "details_available_at"),
        "nis2_significant": significant,
        "high_risk_to_subjects": high_risk,
    }
    if any(v is not None for v in facts.values()):
        incident_set_facts(actor=_actor(actor), incident=incident_id, **facts)  # type: ignore[arg-type]
    if met:
        filing = clock_met(
            actor=_actor(actor), incident=incident_id, clock_key=met,
            filed_at=_moment(filed_at, "filed_at"), reference=reference, note=note,
        )  # fmt: skip
        console.print(f"{met} filed at {_when(filing.filed_at)}")
    rows = [
        {"clock": c.key, "regime": c.regime, "label": c.label, "state": c.state.value,
         "due": "ASAP" if c.asap and c.state == "pending" else _when(c.due),
         "filed": _when(c.filed_at), "basis": c.basis}
        for c in incident_clocks(incident_get(incident_id))
    ]  # fmt: skip
    emit(rows, ["clock", "regime", "state", "due", "filed", "basis"], fmt, "Regulatory clocks")


@incident_app.command("timeline")
def incident_timeline(
    incident_id: int,
    add: Annotated[str | None, typer.Option(help="Append an entry.")] = None,
    kind: Annotated[str, typer.Option(help="note | decision | action")] = "note",
    at: Moment = None,
    actor: As = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Show the timeline, or append to it (entries are never changed or removed)."""
    ensure_database()
    from detente.incidents.selectors import incident_get
    from detente.incidents.services import timeline_add

    incident = incident_get(incident_id)
    if add:
        timeline_add(
            actor=_actor(actor), incident=incident, text=add, kind=kind, at=_moment(at, "at")
        )
    rows = [
        {"at": _when(e.at), "kind": e.kind, "author": e.author.email if e.author else "system",
         "text": e.text}
        for e in incident.timeline.select_related("author")
    ]  # fmt: skip
    emit(rows, ["at", "kind", "author", "text"], fmt, f"INC-{incident_id} timeline")


@incident_app.command("review")
def incident_review(
    incident_id: int,
    what_happened: Annotated[str | None, typer.Option()] = None,
    went_well: Annotated[str, typer.Option()] = "",
    went_badly: Annotated[str, typer.Option()] = "",
    action: Annotated[
        list[str] | None, typer.Option(help="TEXT|OWNER-EMAIL|YYYY-MM-DD (repeatable).")
    ] = None,
    decision: Annotated[list[int] | None, typer.Option(help="Decision id (repeatable).")] = None,
    actor: As = None,
) -> None:
    """Write the post-incident review (after recovery), or show it."""
    ensure_database()
    from detente.decisions.selectors import decisions_by_ids
    from detente.incidents.selectors import incident_get, review_of
    from detente.incidents.services import ActionItem, review_record

    incident = incident_get(incident_id)
    if what_happened:
        items = []
        for raw in action or []:
            parts = [p.strip() for p in raw.split("|")]
            if len(parts) != 3:
                raise InputError(f"expected TEXT|OWNER|DATE, got {raw!r}", field="action")
            try:
                due = dt.date.fromisoformat(parts[2])
            except ValueError:
                raise InputError(f"not a date: {parts[2]!r}", field="action") from None
            items.append(ActionItem(text=parts[0], owner=_actor(parts[1]), due=due))
        records = decisions_by_ids(decision or [])
        review_record(
            actor=_actor(actor), incident=incident, what_happened=what_happened,
            went_well=went_well, went_badly=went_badly, actions=items, decisions=records,
        )  # fmt: skip
    review = review_of(incident)
    if review is None:
        raise NotFound(f"INC-{incident_id} has no review yet")
    console.print(f"[bold]What happened[/]  {review.what_happened}")
    console.print(f"[bold]Went well[/]      {review.went_well}")
    console.print(f"[bold]Did not[/]        {review.went_badly}")
    for a in review.actions.select_related("owner"):
        console.print(f"  action: {a.text} — {a.owner.email}, due {a.due}", markup=False)
    for d in review.decisions.all():
        console.print(f"  decision: DR-{d.pk} {d.title}", markup=False)


@incident_app.command("list")
def incident_list(
    open_only: Annotated[bool, typer.Option("--open", help="Only incidents not closed.")] = False,
    limit: Limit = 500,
    offset: Offset = 0,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Incidents, newest first, with the state of their CIO briefing."""
    ensure_database()
    from detente.incidents.selectors import briefing_status, incidents_list
    from detente.policy.services import active_policy

    doc, _ = active_policy()
    rows = []
    page, more = page_of(incidents_list(open_only=open_only), limit=limit, offset=offset)
    for i in page:
        cadence = briefing_status(i, doc=doc)
        rows.append(
            {"id": i.pk, "title": i.title, "severity": i.severity, "status": i.status,
             "lead": i.lead.email, "declared": _when(i.declared_at),
             "briefing": cadence.state.value, "next_due": _when(cadence.due)}
        )  # fmt: skip
    cols = ["id", "title", "severity", "status", "lead", "declared", "briefing", "next_due"]
    emit(rows, cols, fmt, "Incidents", optional=("lead", "briefing", "declared"))
    say_more(more, limit=limit, offset=offset)


@incident_app.command("regimes")
def incident_regimes(
    actor: As = None,
    sec: Annotated[bool | None, typer.Option("--sec/--no-sec", help="SEC registrant.")] = None,
    gdpr: Annotated[str | None, typer.Option(help="none | controller | processor")] = None,
    nis2: Annotated[str | None, typer.Option(help="none | essential | important")] = None,
    dora: Annotated[str | None, typer.Option(help="DORA entity type, or none.")] = None,
    eu_timezone: Annotated[str | None, typer.Option()] = None,
    eu_calendar: Annotated[str | None, typer.Option(help="Country code or TARGET.")] = None,
    us_timezone: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Show or configure (CISO/CIO) the organisation's regulatory regimes."""
    ensure_database()
    from detente.incidents.selectors import regime_profile
    from detente.incidents.services import regimes_configure

    given = (sec, gdpr, nis2, dora, eu_timezone, eu_calendar, us_timezone)
    if any(v is not None for v in given):
        regimes_configure(
            actor=_actor(actor), sec_registrant=sec, gdpr_role=gdpr, nis2_entity=nis2,
            dora_entity_type=dora, eu_timezone=eu_timezone, eu_calendar=eu_calendar,
            us_timezone=us_timezone,
        )  # fmt: skip
    p = regime_profile()
    console.print(
        f"SEC registrant: {'yes' if p.sec_registrant else 'no'}; GDPR: {p.gdpr_role}; "
        f"NIS2: {p.nis2_entity}; DORA: {p.dora_entity_type}; EU authority: {p.eu_timezone} "
        f"({p.eu_calendar} holidays); US: {p.us_timezone}"
    )
