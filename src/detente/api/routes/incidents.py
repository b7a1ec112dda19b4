"""/api/incidents and /api/briefings: declare, move, brief the CIO, acknowledge, file against the
regulatory clocks, write the timeline and the review."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import AfterValidator, Field

from detente.api.auth import require_write
from detente.api.schemas import ERRORS, Id, In, Limit, Offset, PathId, filled, in_years, one_of
from detente.core.errors import InputError
from detente.decisions.selectors import decisions_by_ids
from detente.incidents import selectors, services
from detente.incidents.clocks import CLOCKS, Clock
from detente.incidents.models import (
    ALLOWED,
    Briefing,
    BriefingForm,
    Confidence,
    Incident,
    IncidentStatus,
    IncidentType,
    RegimeProfile,
    Severity,
)
from detente.incidents.services import MANUAL_KINDS
from detente.inventory.selectors import service_by_slug
from detente.people.models import Person
from detente.people.selectors import person_get
from detente.policy.services import active_policy

router = Router(tags=["incidents"])


def _sane(value: dt.datetime) -> dt.datetime:
    """A time without an offset is UTC; years stay where every time zone can convert them."""
    if not 1971 <= value.year <= 2999:
        raise ValueError("give a time between the years 1971 and 2999")
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


Moment = Annotated[dt.datetime, AfterValidator(_sane), in_years()]
Text = Annotated[str, Field(max_length=20_000)]
Said = Annotated[str, filled(20_000)]  # required text that must say something
SeverityName = Annotated[str, one_of(Severity.values)]
Items = Annotated[list[Annotated[str, Field(max_length=5_000)]], Field(max_length=100)]


# ----------------------------------------------------------------------------- shapes


class ClockOut(Schema):
    key: str
    regime: str
    label: str
    state: str
    due: dt.datetime | None
    due_local: dt.datetime | None = Field(description="The due time in the authority's zone")
    timezone: str
    filed_at: dt.datetime | None
    asap: bool
    needs: str
    basis: str


class UnknownOut(Schema):
    text: str
    confidence: str


class AnswerOut(Schema):
    ask: int
    text: str
    by: str
    at: dt.datetime


class BriefingOut(Schema):
    id: int
    incident_id: int
    number: int
    form: str
    status_summary: str
    overview: str
    knowns: list[str]
    unknowns: list[UnknownOut]
    actions: list[str]
    asks: list[str]
    next_steps: list[str]
    next_update_due: dt.datetime | None
    author: str
    issued_at: dt.datetime
    incident_status: str
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    answers: list[AnswerOut]


class TimelineEntryOut(Schema):
    id: int
    at: dt.datetime
    kind: str
    author: str | None
    text: str


class ReviewActionOut(Schema):
    text: str
    owner: str
    due: dt.date
    done_at: dt.datetime | None


class ReviewOut(Schema):
    what_happened: str
    went_well: str
    went_badly: str
    actions: list[ReviewActionOut]
    decisions: list[int]
    author: str
    created_at: dt.datetime
    updated_at: dt.datetime


class IncidentOut(Schema):
    id: int
    title: str
    type: str
    severity: str
    status: str
    allowed_next: list[str]
    lead: str
    cio: str | None
    ciso: str | None
    declared_at: dt.datetime
    aware_at: dt.datetime
    briefing_state: str = Field(description="none | scheduled | reminder | overdue")
    next_briefing_due: dt.datetime | None
    time_to_inform_cio_seconds: int | None = Field(
        description="Declaration → the CIO's first acknowledgement"
    )


class IncidentDetailOut(IncidentOut):
    summary: str
    detected_at: dt.datetime
    services: list[str]
    personal_data: bool
    data_categories: list[str]
    high_risk_to_subjects: bool
    nis2_significant: bool
    classified_major_at: dt.datetime | None
    material_determined_at: dt.datetime | None
    sec_details_available_at: dt.datetime | None
    liaison: str | None
    scribe: str | None
    status_changed_at: dt.datetime
    handled_at: dt.datetime | None
    closed_at: dt.datetime | None
    cio_informed_at: dt.datetime | None
    clocks: list[ClockOut]
    briefings: list[BriefingOut]
    timeline: list[TimelineEntryOut]
    review: ReviewOut | None


class IncidentIn(In):
    title: Annotated[str, filled(200)]
    type: Annotated[str, one_of(IncidentType.values)] = "other"
    severity: SeverityName
    lead_id: Id
    summary: Text = ""
    services: Annotated[list[str], Field(max_length=100)] = []
    personal_data: bool = False
    data_categories: Items = []
    detected_at: Moment | None = None
    aware_at: Moment | None = None
    cio_id: Id | None = None
    ciso_id: Id | None = None
    liaison_id: Id | None = None
    scribe_id: Id | None = None


class TransitionIn(In):
    to: Annotated[str, one_of(IncidentStatus.values)]
    note: Text = ""


class FactsIn(In):
    severity: SeverityName | None = None
    classified_major_at: Moment | None = None
    material_determined_at: Moment | None = None
    sec_details_available_at: Moment | None = None
    nis2_significant: bool | None = None
    personal_data: bool | None = None
    high_risk_to_subjects: bool | None = None
    data_categories: Items | None = None


class AnswerIn(In):
    answer: Annotated[str, Field(max_length=2000)]


class UnknownIn(In):
    text: Annotated[str, filled(5_000)]
    confidence: Annotated[str, one_of(Confidence.values)] = "low"


class BriefingIn(In):
    status_summary: Said
    form: Annotated[str, one_of(BriefingForm.values)] = "executive"
    overview: Text = ""
    knowns: Items = []
    unknowns: Annotated[list[UnknownIn], Field(max_length=100)] = []
    actions: Items = []
    asks: Items = []
    next_steps: Items = []
    next_update_due: Moment | None = None


class FilingIn(In):
    clock: Annotated[str, one_of(CLOCKS)]
    filed_at: Moment | None = None
    reference: Annotated[str, Field(max_length=200)] = ""
    note: Text = ""


class TimelineIn(In):
    text: Said
    kind: Annotated[str, one_of(sorted(MANUAL_KINDS))] = "note"
    at: Moment | None = None


class ReviewActionIn(In):
    text: Annotated[str, filled(5_000)]
    owner_id: Id
    due: dt.date


class ReviewIn(In):
    what_happened: Said
    went_well: Text = ""
    went_badly: Text = ""
    actions: Annotated[list[ReviewActionIn], Field(max_length=100)] = []
    decision_ids: Annotated[list[Id], Field(max_length=100)] = []


# ----------------------------------------------------------------------------- output


ORDER = list(IncidentStatus.values)


def _email(person: Person | None) -> str | None:
    return None if person is None else person.email


def clock_out(c: Clock, profile: RegimeProfile) -> dict[str, Any]:
    zone = selectors.clock_zone(c, profile)
    return {
        "key": c.key, "regime": c.regime, "label": c.label, "state": c.state.value,
        "due": c.due, "due_local": c.due.astimezone(ZoneInfo(zone)) if c.due else None,
        "timezone": zone, "filed_at": c.filed_at, "asap": c.asap, "needs": c.needs,
        "basis": c.basis,
    }  # fmt: skip


def briefing_out(b: Briefing) -> dict[str, Any]:
    return {
        "id": b.pk, "incident_id": b.incident_id, "number": b.number, "form": b.form,
        "status_summary": b.status_summary, "overview": b.overview, "knowns": list(b.knowns),
        "unknowns": list(b.unknowns), "actions": list(b.actions), "asks": list(b.asks),
        "next_steps": list(b.next_steps), "next_update_due": b.next_update_due,
        "author": b.author.email, "issued_at": b.issued_at, "incident_status": b.incident_status,
        "acknowledged_by": _email(b.acknowledged_by), "acknowledged_at": b.acknowledged_at,
        "answers": list(b.answers),
    }  # fmt: skip


def incident_out(i: Incident, doc: Any = None) -> dict[str, Any]:
    cadence = selectors.briefing_status(i, doc=doc)
    informed = selectors.time_to_inform_cio(i)
    return {
        "id": i.pk, "title": i.title, "type": i.type, "severity": i.severity,
        "status": i.status, "allowed_next": sorted(ALLOWED[i.status], key=ORDER.index),
        "lead": i.lead.email, "cio": _email(i.cio), "ciso": _email(i.ciso),
        "declared_at": i.declared_at, "aware_at": i.aware_at,
        "briefing_state": cadence.state.value, "next_briefing_due": cadence.due,
        "time_to_inform_cio_seconds": None if informed is None else int(informed.total_seconds()),
    }  # fmt: skip


def incident_detail_out(i: Incident) -> dict[str, Any]:
    profile = selectors.regime_profile()
    review = selectors.review_of(i)
    briefings = i.briefings.select_related("author", "acknowledged_by").order_by("number")
    return incident_out(i) | {
        "summary": i.summary, "detected_at": i.detected_at,
        "services": sorted(s.slug for s in i.services.all()), "personal_data": i.personal_data,
        "data_categories": list(i.data_categories),
        "high_risk_to_subjects": i.high_risk_to_subjects, "nis2_significant": i.nis2_significant,
        "classified_major_at": i.classified_major_at,
        "material_determined_at": i.material_determined_at,
        "sec_details_available_at": i.sec_details_available_at,
        "liaison": _email(i.liaison), "scribe": _email(i.scribe),
        "status_changed_at": i.status_changed_at, "handled_at": i.handled_at,
        "closed_at": i.closed_at, "cio_informed_at": i.cio_informed_at,
        "clocks": [clock_out(c, profile) for c in selectors.incident_clocks(i)],
        "briefings": [briefing_out(b) for b in briefings],
        "timeline": [
            {"id": e.pk, "at": e.at, "kind": e.kind, "author": _email(e.author), "text": e.text}
            for e in i.timeline.select_related("author")
        ],
        "review": None if review is None else {
            "what_happened": review.what_happened, "went_well": review.went_well,
            "went_badly": review.went_badly,
            "actions": [
                {"text": a.text, "owner": a.owner.email, "due": a.due, "done_at": a.done_at}
                for a in review.actions.select_related("owner")
            ],
            "decisions": sorted(review.decisions.values_list("id", flat=True)),
            "author": review.author.email, "created_at": review.created_at,
            "updated_at": review.updated_at,
        },
    }  # fmt: skip


def _fresh(pk: int) -> dict[str, Any]:
    return incident_detail_out(selectors.incident_get(pk))


def _person(pk: int | None, what: str) -> Person | None:
    if pk is None:
        return None
    return person_get(pk, what=what)


# ----------------------------------------------------------------------------- routes


@router.get(
    "/incidents",
    response={200: list[IncidentOut], **ERRORS},
    summary="Incidents, newest first, with the state of their CIO briefing",
)
def list_incidents(
    request: HttpRequest, open_only: bool = False, limit: Limit = 50, offset: Offset = 0
) -> list[dict[str, Any]]:
    if not 1 <= limit <= 500 or not 0 <= offset <= 10**9:
        raise InputError("limit 1..500, offset 0..10^9", field="limit")
    doc, _ = active_policy()
    rows = selectors.incidents_list(open_only=open_only).select_related("cio", "ciso")
    return [incident_out(i, doc) for i in rows[offset : offset + limit]]


@router.get("/incidents/{incident_id}", response={200: IncidentDetailOut, **ERRORS})
def get_incident(request: HttpRequest, incident_id: PathId) -> dict[str, Any]:
    return _fresh(incident_id)


@router.post(
    "/incidents", response={201: IncidentDetailOut, **ERRORS}, summary="Declare an incident now"
)
def declare(request: HttpRequest, body: IncidentIn) -> Status[dict[str, Any]]:
    person = require_write(request)
    lead = _person(body.lead_id, "lead")
    assert lead is not None
    created = services.incident_declare(
        actor=person, title=body.title, type=body.type, severity=body.severity, lead=lead,
        summary=body.summary, detected_at=body.detected_at, aware_at=body.aware_at,
        services=[service_by_slug(s) for s in body.services], personal_data=body.personal_data,
        data_categories=body.data_categories, cio=_person(body.cio_id, "cio"),
        ciso=_person(body.ciso_id, "ciso"), liaison=_person(body.liaison_id, "liaison"),
        scribe=_person(body.scribe_id, "scribe"),
    )  # fmt: skip
    return Status(201, _fresh(created.pk))


@router.post(
    "/incidents/{incident_id}/status",
    response={200: IncidentDetailOut, **ERRORS},
    summary="Move the incident (investigating → contained → eradicated → recovered → closed)",
)
def transition(request: HttpRequest, incident_id: PathId, body: TransitionIn) -> dict[str, Any]:
    services.incident_transition(
        actor=require_write(request), incident=incident_id, to=body.to, note=body.note
    )
    return _fresh(incident_id)


@router.post(
    "/incidents/{incident_id}/facts",
    response={200: IncidentDetailOut, **ERRORS},
    summary="Record the facts that start the regulatory clocks",
)
def facts(request: HttpRequest, incident_id: PathId, body: FactsIn) -> dict[str, Any]:
    services.incident_set_facts(
        actor=require_write(request), incident=incident_id, severity=body.severity,
        classified_major_at=body.classified_major_at,
        material_determined_at=body.material_determined_at,
        sec_details_available_at=body.sec_details_available_at,
        nis2_significant=body.nis2_significant, personal_data=body.personal_data,
        high_risk_to_subjects=body.high_risk_to_subjects, data_categories=body.data_categories,
    )  # fmt: skip
    return _fresh(incident_id)


@router.post(
    "/incidents/{incident_id}/briefings",
    response={201: BriefingOut, **ERRORS},
    summary="Issue a briefing (queued to its audience)",
)
def brief(request: HttpRequest, incident_id: PathId, body: BriefingIn) -> Status[dict[str, Any]]:
    briefing = services.briefing_issue(
        actor=require_write(request), incident=incident_id, form=body.form,
        status_summary=body.status_summary, overview=body.overview, knowns=body.knowns,
        unknowns=[services.Unknown(text=u.text, confidence=u.confidence) for u in body.unknowns],
        actions=body.actions, asks=body.asks, next_steps=body.next_steps,
        next_update_due=body.next_update_due,
    )  # fmt: skip
    return Status(201, briefing_out(briefing))


@router.get("/briefings/{briefing_id}", response={200: BriefingOut, **ERRORS})
def get_briefing(request: HttpRequest, briefing_id: PathId) -> dict[str, Any]:
    return briefing_out(selectors.briefing_get(briefing_id))


@router.post(
    "/briefings/{briefing_id}/acknowledge",
    response={200: BriefingOut, **ERRORS},
    summary="The incident's CIO acknowledges a briefing",
)
def acknowledge(request: HttpRequest, briefing_id: PathId) -> dict[str, Any]:
    services.briefing_acknowledge(actor=require_write(request), briefing=briefing_id)
    return briefing_out(selectors.briefing_get(briefing_id))


@router.post(
    "/briefings/{briefing_id}/asks/{ask}/answer",
    response={200: BriefingOut, **ERRORS},
    summary="The incident's CIO answers one of a briefing's asks (numbered from 1), once",
)
def answer_ask(
    request: HttpRequest, briefing_id: PathId, ask: PathId, body: AnswerIn
) -> dict[str, Any]:
    services.briefing_answer(
        actor=require_write(request), briefing=briefing_id, ask=ask, answer=body.answer
    )
    return briefing_out(selectors.briefing_get(briefing_id))


@router.post(
    "/incidents/{incident_id}/filings",
    response={201: ClockOut, **ERRORS},
    summary="Record a filing against a regulatory clock",
)
def file_clock(request: HttpRequest, incident_id: PathId, body: FilingIn) -> Status[dict[str, Any]]:
    services.clock_met(
        actor=require_write(request), incident=incident_id, clock_key=body.clock,
        filed_at=body.filed_at, reference=body.reference, note=body.note,
    )  # fmt: skip
    clocks = {c.key: c for c in selectors.incident_clocks(selectors.incident_get(incident_id))}
    return Status(201, clock_out(clocks[body.clock], selectors.regime_profile()))


@router.post(
    "/incidents/{incident_id}/timeline",
    response={201: TimelineEntryOut, **ERRORS},
    summary="Append a note, decision or action to the timeline",
)
def add_entry(
    request: HttpRequest, incident_id: PathId, body: TimelineIn
) -> Status[dict[str, Any]]:
    person = require_write(request)
    entry = services.timeline_add(
        actor=person, incident=incident_id, text=body.text, kind=body.kind, at=body.at
    )
    return Status(
        201,
        {"id": entry.pk, "at": entry.at, "kind": entry.kind, "author": person.email,
         "text": entry.text},
    )  # fmt: skip


@router.post(
    "/incidents/{incident_id}/review",
    response={200: IncidentDetailOut, **ERRORS},
    summary="Write or revise the post-incident review (after recovery)",
)
def review(request: HttpRequest, incident_id: PathId, body: ReviewIn) -> dict[str, Any]:
    person = require_write(request)
    actions = []
    for item in body.actions:
        owner = _person(item.owner_id, "action owner")
        assert owner is not None
        actions.append(services.ActionItem(text=item.text, owner=owner, due=item.due))
    decisions = decisions_by_ids(body.decision_ids)
    services.review_record(
        actor=person, incident=incident_id, what_happened=body.what_happened,
        went_well=body.went_well, went_badly=body.went_badly, actions=actions,
        decisions=decisions,
    )  # fmt: skip
    return _fresh(incident_id)
