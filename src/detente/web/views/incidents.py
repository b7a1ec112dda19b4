"""Incident pages: the list (overdue CIO briefings first), declaring, the incident page (status
moves, regulatory clocks, briefings, timeline, review) and briefing downloads. Each form calls one
service; a refusal comes back as a message on the incident page, with nothing changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from detente.core import clock
from detente.core.errors import DetenteError, InputError, NotFound
from detente.core.text import duration
from detente.decisions.selectors import decisions_by_ids, decisions_list
from detente.incidents import selectors, services
from detente.incidents.briefings import render_html, render_markdown, render_pdf, sections
from detente.incidents.clocks import Clock, ClockState
from detente.incidents.models import (
    ALLOWED,
    Briefing,
    Confidence,
    EntryKind,
    Incident,
    IncidentStatus,
    IncidentType,
    Severity,
)
from detente.inventory.selectors import services_by_slugs, services_list
from detente.people.models import Person, Role
from detente.people.selectors import people_in, people_list, person_get
from detente.policy.services import active_policy
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page

ORDER = list(IncidentStatus.values)
FORMATS = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


def _moment(text: str | None, field: str) -> dt.datetime | None:
    """A time from a form (``datetime-local`` gives no offset: it is read as UTC)."""
    if not text or not text.strip():
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"not a time: {text!r} (use YYYY-MM-DDTHH:MM)", field=field) from None
    if not 1971 <= value.year <= 2999:
        raise InputError("give a time between the years 1971 and 2999", field=field)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _id(text: str | None) -> int | None:
    """An object id from a form field, or None (never a number no database column can hold)."""
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) <= 18 else None


def _someone(pk: str | None, field: str) -> Person | None:
    if not pk:
        return None
    number = _id(pk)
    if number is None:
        raise InputError("choose a person from the list", field=field)
    try:
        return person_get(number)
    except NotFound:
        raise InputError("choose a person from the list", field=field) from None


def _missing(request: HttpRequest, incident_id: int) -> HttpResponse:
    return render_page(
        request, "error.html", {"message": f"Incident {incident_id} does not exist."}, 404
    )


# ---------------------------------------------------------------- list and declare


@dataclass(frozen=True)
class IncidentRow:
    incident: Incident
    cadence: selectors.BriefingStatus
    late: list[str]  # "GDPR notify the authority late by 2 h", most late first
    running: list[str]  # "… due in 5 h", nearest first


@signed_in
@require_GET
def incidents(request: HttpRequest) -> HttpResponse:
    """Every incident, those with a late regulatory clock first (most late first), then the
    list's order; each row names its late and running clocks."""
    doc, _ = active_policy()
    open_only = request.GET.get("open") == "1"
    listed = list(selectors.incidents_list(open_only=open_only)[:200])
    late: dict[int, list[str]] = {}
    running: dict[int, list[str]] = {}
    worst: dict[int, float] = {}
    for r in selectors.running_clocks([i for i in listed if i.status != "closed"]):
        name = f"{r.clock.regime} {r.clock.label}"
        if r.late_by is not None:
            late.setdefault(r.incident.pk, []).append(f"{name} late by {duration(r.late_by)}")
            worst.setdefault(r.incident.pk, r.late_by.total_seconds())
        elif r.left is not None:
            running.setdefault(r.incident.pk, []).append(f"{name} due in {duration(r.left)}")
    rows = [
        IncidentRow(
            i,
            selectors.briefing_status(i, doc=doc),
            late.get(i.pk, []),
            running.get(i.pk, []),
        )
        for i in listed
    ]
    rows.sort(key=lambda row: -worst.get(row.incident.pk, -1.0))  # stable: the list's order else
    return render_page(
        request,
        "incidents.html",
        {
            "overdue": selectors.overdue_briefings(viewer=actor(request)),
            "rows": rows,
            "open_only": open_only,
            "late_count": len(late),
        },
    )


@signed_in
@require_http_methods(["GET", "POST"])
def incident_new(request: HttpRequest) -> HttpResponse:
    post = request.POST
    if request.method == "POST":
        try:
            lead = _someone(post.get("lead"), "lead")
            if lead is None:
                raise InputError("choose the incident lead", field="lead")
            slugs = post.getlist("services")
            created = services.incident_declare(
                actor=actor(request),
                title=post.get("title", ""),
                type=post.get("type", ""),
                severity=post.get("severity", ""),
                lead=lead,
                summary=post.get("summary", ""),
                detected_at=_moment(post.get("detected_at"), "detected_at"),
                aware_at=_moment(post.get("aware_at"), "aware_at"),
                services=services_by_slugs(slugs),
                personal_data=post.get("personal_data") == "on",
                data_categories=post.get("data_categories", "").split(","),
                liaison=_someone(post.get("liaison"), "liaison"),
                scribe=_someone(post.get("scribe"), "scribe"),
            )
        except DetenteError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"INC-{created.pk} declared; the leaders were told.")
            return HttpResponseRedirect(reverse("web:incident", args=[created.pk]))
    return render_page(
        request,
        "incident_new.html",
        {
            "types": IncidentType.choices,
            "severities": Severity.choices,
            "people": people_list(),
            "leads": people_in(services.LEAD_ROLES),
            "services": services_list(),
            # the declarer is preselected as lead when eligible; severity and type are chosen
            "form": post if request.method == "POST" else {"lead": str(actor(request).pk)},
        },
    )


# ---------------------------------------------------------------- the incident page


@dataclass(frozen=True)
class ClockRow:
    clock: Clock
    due_local: str  # formatted here: the template's date filter would convert back to UTC
    zone: str
    late_by: str = ""  # "late by 2 h" when past due and not filed


@dataclass(frozen=True)
class Ask:
    number: int  # 1-based, as the answer form posts it
    text: str
    answer: str = ""  # empty until the CIO answers
    by: str = ""
    at: dt.datetime | None = None


@dataclass(frozen=True)
class BriefingView:
    briefing: Briefing
    sections: list[Any]
    can_acknowledge: bool
    asks: list[Ask]
    can_answer: bool

    @property
    def open_asks(self) -> list[Ask]:
        return [a for a in self.asks if not a.answer]


def _is_the_cio(incident: Incident, person: Person) -> bool:
    """The incident's CIO, or any CIO when it names none (who acknowledges and answers)."""
    if incident.cio_id is not None:
        return person.pk == incident.cio_id
    return person.has_role(Role.CIO)


def _can_acknowledge(incident: Incident, briefing: Briefing, person: Person) -> bool:
    return briefing.acknowledged_at is None and _is_the_cio(incident, person)


def _briefing_view(
    incident: Incident, b: Briefing, person: Person, clocks: list[Clock], open_: bool
) -> BriefingView:
    answers = {a.get("ask"): a for a in b.answers}
    asks = []
    for n, text in enumerate(b.asks, start=1):
        got = answers.get(n)
        if got is None:
            asks.append(Ask(n, text))
        else:
            at = dt.datetime.fromisoformat(got["at"]) if got.get("at") else None
            asks.append(Ask(n, text, got.get("text", ""), got.get("by", ""), at))
    return BriefingView(
        b,
        sections(b, clocks),
        open_ and _can_acknowledge(incident, b, person),
        asks,
        open_ and _is_the_cio(incident, person),
    )


@signed_in
@require_GET
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    try:
        incident = selectors.incident_get(incident_id)
    except NotFound:
        return _missing(request, incident_id)
    person = actor(request)
    profile = selectors.regime_profile()
    clocks = selectors.incident_clocks(incident)
    rows = []
    for c in clocks:
        zone = selectors.clock_zone(c, profile)
        local = c.due.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z") if c.due else ""
        late = ""
        if c.state == ClockState.LATE and c.due is not None and c.filed_at is None:
            late = f"late by {duration(clock.now() - c.due)}"
        rows.append(ClockRow(c, local, zone, late))
    rows.sort(key=lambda r: not r.late_by)  # late clocks first
    closed = incident.status == IncidentStatus.CLOSED
    briefings = [
        _briefing_view(incident, b, person, clocks, not closed)
        for b in incident.briefings.select_related("author", "acknowledged_by").order_by("-number")
    ]
    writable = not person.has_role(Role.AUDITOR) and not closed
    review = selectors.review_of(incident)
    informed = selectors.time_to_inform_cio(incident)
    return render_page(
        request,
        "incident.html",
        {
            "i": incident,
            "moves": sorted(ALLOWED[incident.status], key=ORDER.index),
            "cadence": selectors.briefing_status(incident),
            "informed": informed,
            "clocks": [r for r in rows if r.clock.state != ClockState.NOT_APPLICABLE],
            "not_applicable": [r.clock for r in rows if r.clock.state == ClockState.NOT_APPLICABLE],
            "fileable": [r.clock for r in rows if r.clock.state != ClockState.NOT_APPLICABLE],
            "briefings": briefings,
            "timeline": incident.timeline.select_related("author"),
            "review": review,
            "review_actions": review.actions.select_related("owner") if review else [],
            "review_decisions": review.decisions.all() if review else [],
            "confidences": Confidence.choices,
            "kinds": [(k, EntryKind(k).label) for k in sorted(services.MANUAL_KINDS)],
            "people": people_list(),
            "decisions": decisions_list()[:100],
            "handling": incident.status not in ("recovered", "closed"),
            # a closed incident is read-only: no form at all
            "writable": writable,
            "closed": closed,
            "confirm_close": writable
            and request.GET.get("confirm") == "close"
            and IncidentStatus.CLOSED in ALLOWED[incident.status],
            "to_acknowledge": [v for v in briefings if v.can_acknowledge],
            "to_answer": [v for v in briefings if v.can_answer and v.open_asks],
            # the brief form opens at the top for the incident's lead and when a briefing is due
            "brief_open": person.pk == incident.lead_id
            or selectors.briefing_status(incident).state in ("reminder", "overdue"),
        },
    )


def _brief(person: Person, incident: Incident, post: Any) -> str:
    unknowns = [
        services.Unknown(text=text, confidence=confidence)
        for text, confidence in zip(
            post.getlist("unknown"), post.getlist("unknown_confidence"), strict=False
        )
        if text.strip()
    ]
    b = services.briefing_issue(
        actor=person,
        incident=incident,
        form=post.get("form", "executive"),
        status_summary=post.get("status_summary", ""),
        overview=post.get("overview", ""),
        knowns=_lines(post.get("knowns")),
        unknowns=unknowns,
        actions=_lines(post.get("actions")),
        asks=_lines(post.get("asks")),
        next_steps=_lines(post.get("next_steps")),
        next_update_due=_moment(post.get("next_update_due"), "next_update_due"),
    )
    return f"Briefing #{b.number} issued and sent to its audience."


def _acknowledge(person: Person, incident: Incident, post: Any) -> str:
    found = selectors.briefing_in(incident, _id(post.get("briefing")))
    done = services.briefing_acknowledge(actor=person, briefing=found)
    return f"Briefing #{done.number} acknowledged."


def _review(person: Person, incident: Incident, post: Any) -> str:
    actions = []
    for text, owner, due in zip(
        post.getlist("action_text"),
        post.getlist("action_owner"),
        post.getlist("action_due"),
        strict=False,
    ):
        if not text.strip():
            continue
        who = _someone(owner, "action_owner")
        if who is None:
            raise InputError("an action needs an owner", field="action_owner")
        try:
            when = dt.date.fromisoformat(due)
        except ValueError:
            raise InputError(
                "give the action's due date as YYYY-MM-DD", field="action_due"
            ) from None
        actions.append(services.ActionItem(text=text, owner=who, due=when))
    ids = [n for n in (_id(i) for i in post.getlist("decision")) if n is not None]
    services.review_record(
        actor=person,
        incident=incident,
        what_happened=post.get("what_happened", ""),
        went_well=post.get("went_well", ""),
        went_badly=post.get("went_badly", ""),
        actions=actions,
        decisions=decisions_by_ids(ids),
    )
    return "Review saved."


def _answer(person: Person, incident: Incident, post: Any) -> str:
    found = selectors.briefing_in(incident, _id(post.get("briefing")))
    ask = _id(post.get("ask"))
    if ask is None:
        raise InputError("choose the ask to answer", field="ask")
    done = services.briefing_answer(
        actor=person, briefing=found, ask=ask, answer=post.get("answer", "")
    )
    return f"Your answer to briefing #{done.number}'s ask {ask} is recorded on the timeline."


def _act(action: str, person: Person, incident: Incident, post: Any) -> str | None:  # noqa: PLR0911 - one return per form action (issue 21 moves views)
    if action == "status":
        if post.get("to") == IncidentStatus.CLOSED and post.get("confirmed") != "yes":
            raise InputError(
                f"closing INC-{incident.pk} is final: confirm it on the incident page",
                field="confirmed",
            )
        done = services.incident_transition(
            actor=person, incident=incident, to=post.get("to", ""), note=post.get("note", "")
        )
        return f"INC-{done.pk} is now {done.get_status_display().lower()}."
    if action == "brief":
        return _brief(person, incident, post)
    if action == "acknowledge":
        return _acknowledge(person, incident, post)
    if action == "answer":
        return _answer(person, incident, post)
    if action == "file":
        filing = services.clock_met(
            actor=person,
            incident=incident,
            clock_key=post.get("clock", ""),
            filed_at=_moment(post.get("filed_at"), "filed_at"),
            reference=post.get("reference", ""),
            note=post.get("note", ""),
        )
        return f"Filing recorded for {filing.clock}."
    if action == "facts":
        services.incident_set_facts(
            actor=person,
            incident=incident,
            material_determined_at=_moment(post.get("material_at"), "material_at"),
            classified_major_at=_moment(post.get("major_at"), "major_at"),
            sec_details_available_at=_moment(post.get("details_at"), "details_at"),
            nis2_significant=True if post.get("significant") == "on" else None,
            high_risk_to_subjects=True if post.get("high_risk") == "on" else None,
        )
        return "Facts recorded."
    if action == "timeline":
        services.timeline_add(
            actor=person,
            incident=incident,
            text=post.get("text", ""),
            kind=post.get("kind", "note"),
            at=_moment(post.get("at"), "at"),
        )
        return "Added to the timeline."
    if action == "review":
        return _review(person, incident, post)
    return None


@signed_in
@require_POST
def incident_act(request: HttpRequest, incident_id: int, action: str) -> HttpResponse:
    try:
        incident = selectors.incident_get(incident_id)
    except NotFound:
        return _missing(request, incident_id)
    if incident.status == IncidentStatus.CLOSED:
        messages.error(request, f"INC-{incident.pk} is closed: its page is read-only.")
        return HttpResponseRedirect(reverse("web:incident", args=[incident_id]))
    try:
        done = _act(action, actor(request), incident, request.POST)
    except DetenteError as exc:
        messages.error(request, str(exc))
    else:
        if done is None:
            return render_page(request, "error.html", {"message": "Unknown action."}, 404)
        messages.success(request, done)
    return HttpResponseRedirect(reverse("web:incident", args=[incident_id]))


@signed_in
@require_GET
def briefing_download(
    request: HttpRequest, incident_id: int, number: int, fmt: str
) -> HttpResponse:
    found = selectors.briefing_numbered(incident_id, number)
    if found is None or fmt not in FORMATS:
        return render_page(
            request,
            "error.html",
            {"message": f"INC-{incident_id} has no briefing {number} as {fmt}."},
            404,
        )
    clocks = selectors.incident_clocks(found.incident)
    previous = selectors.previous_briefings(found)
    body: str | bytes
    if fmt == "pdf":
        body = render_pdf(found, clocks=clocks, previous=previous)
    elif fmt == "html":
        body = render_html(found, clocks=clocks, previous=previous)
    else:
        body = render_markdown(found, clocks=clocks, previous=previous)
    response = HttpResponse(body, content_type=FORMATS[fmt])
    disposition = "inline" if fmt == "html" else "attachment"
    response["Content-Disposition"] = (
        f'{disposition}; filename="INC-{incident_id}-briefing-{number}.{fmt}"'
    )
    return response
