"""/api/tension: the leaders' questionnaire and profiles, the pair's guidance, the monthly pulse
(blind until both have answered) and the radar (index, zone, sub-indices, triggers, actions and
every signal down to its evidence). Both leaders read the same snapshot."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from detente.api import schemas
from detente.api.auth import actor, require_write
from detente.api.schemas import ERRORS, In, PathId
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied
from detente.people.selectors import person_get
from detente.tension import profiles, selectors, services
from detente.tension.models import LeaderProfile, TensionSnapshot
from detente.tension.signals import Period

router = Router(tags=["tension"])

# A month as YYYY-MM: years 1970-9999, months 01-12 (tension.period checks the same).
MONTH = schemas.MONTH
Month = Annotated[str, Field(pattern=MONTH)]
MonthPath = Annotated[str, Path(pattern=MONTH)]
MonthQuery = Annotated[str | None, Query(pattern=MONTH)]
Answers = Annotated[dict[Annotated[str, Field(max_length=16)], int], Field(max_length=100)]
# The longest range one request computes (the CLI has no limit; a request must stay short).
MAX_MONTHS = 24
# Evidence kinds that have their own API resource.
HREFS = {
    "findings": "/api/findings/{}",
    "acceptances": "/api/acceptances/{}",
    "decisions": "/api/decisions/{}",
    "incidents": "/api/incidents/{}",
}


# ----------------------------------------------------------------------------- shapes


class LinkOut(Schema):
    kind: str
    id: int
    href: str | None = Field(description="The API resource, where the kind has one")


class SignalOut(Schema):
    key: str
    name: str
    tag: str
    sub_index: str | None
    formula: str
    value: float | None
    normalised: float | None
    weight: float
    contribution: float = Field(description="Points of the 0-100 index")
    facts: dict[str, Any]
    evidence: dict[str, list[int]]
    links: list[LinkOut]


class TriggerOut(Schema):
    key: str
    label: str
    severity: str
    evidence: dict[str, list[int]]
    links: list[LinkOut]


class MovedSignalOut(Schema):
    key: str
    name: str
    sub_index: str | None
    before: float = Field(description="Index points it accounted for the month before")
    after: float = Field(description="Index points it accounts for this month")
    delta: float = Field(description="after - before, in index points")
    value_before: float | None
    value_after: float | None
    evidence: dict[str, list[int]]
    links: list[LinkOut]


class ChangedTriggerOut(Schema):
    key: str
    label: str
    severity: str
    evidence: dict[str, list[int]]


class ChangeOut(Schema):
    period: str
    from_zone: str = Field(description="The zone the month before")
    to_zone: str
    direction: str = Field(description="up or down")
    raw_zone: str
    index_before: float
    index_after: float
    index_delta: float
    signals: list[MovedSignalOut] = Field(description="Signals that moved, towards the new zone")
    triggers_added: list[ChangedTriggerOut]
    triggers_cleared: list[ChangedTriggerOut]
    hysteresis: str
    since: str | None = Field(description="The month the signals are compared with")


class RadarSummaryOut(Schema):
    period: str
    index: float
    zone: str
    raw_zone: str = Field(description="This period alone, before hysteresis")
    computed_at: dt.datetime
    change: ChangeOut | None = Field(
        description="Why the zone differs from the month before (null: it does not)"
    )


class RadarOut(RadarSummaryOut):
    sub_indices: dict[str, float | None]
    slope: float | None
    triggers: list[TriggerOut]
    actions: dict[str, Any]
    top_signals: list[SignalOut]
    signals: list[SignalOut]
    policy_version: int | None


class ComputeIn(In):
    first: Month = Field(description="First month, YYYY-MM")
    last: Month = Field(description="Last month, YYYY-MM")


class ItemOut(Schema):
    id: str
    text: str


class QuestionnaireOut(Schema):
    role: str
    scale: list[int]
    items: list[ItemOut]
    conflict_items: list[ItemOut] = Field(description="CS-9 conflict style, optional")


class ProfileIn(In):
    answers: Answers
    conflict_answers: Answers | None = None


class ArchetypeOut(Schema):
    key: str
    name: str
    z: float


class ProfileOut(Schema):
    id: int
    person: str
    role: str
    kind: str = Field(description="single | blend | undifferentiated")
    primary: str
    secondary: str
    weights: dict[str, float]
    dimensions: list[ArchetypeOut]
    conflict: dict[str, Any] | None
    taken_at: dt.datetime


class CellOut(Schema):
    cio: str
    ciso: str
    mark: str
    note: str
    covert: bool
    hypothesis: bool = Field(description="Thin evidence: a hypothesis, never a finding")


class GuidanceOut(Schema):
    pressure_point: str
    title: str
    ciso_to_cio: str
    cio_to_ciso: str
    hypothesis: bool


class PairingOut(Schema):
    base: float
    style: float
    friction: float
    band: str
    covert_score: int
    covert_prone: bool
    cell: CellOut
    cells: list[CellOut]
    guidance: list[GuidanceOut]
    notes: list[str]


class PulseItemOut(Schema):
    id: str
    measures: str = Field(description="The construct the item measures")
    text: str


class PulseItemsOut(Schema):
    items: list[PulseItemOut]
    meta: list[str] = Field(description="Items whose counterpart's answer you also guess")


def _scored(ids: list[str]) -> dict[str, Any]:
    item = {"type": "integer", "minimum": 1, "maximum": 5}
    return {"type": "object", "properties": dict.fromkeys(ids, item), "required": ids,
            "additionalProperties": False}  # fmt: skip


def _pulse_items(schema: dict[str, Any]) -> None:
    """The pulse's items (tension/pulse.yaml) as the document's fixed keys, scored 1-5."""
    schemas.state_nul_free(schema)
    model = profiles.pulse_model()
    schema["properties"]["answers"] |= _scored([i.id for i in model.items])
    schema["properties"]["meta"] |= _scored(list(model.meta))


class PulseIn(In):
    model_config = ConfigDict(json_schema_extra=_pulse_items)

    period: Month | None = Field(default=None, description="YYYY-MM (default: this month)")
    answers: Answers
    meta: Answers


class PulseOut(Schema):
    period: str
    mine: dict[str, int] | None
    my_guess: dict[str, int] | None
    counterpart_answered: bool
    counterpart: dict[str, int] | None = Field(description="Only once both have answered")
    gaps: dict[str, int] | None
    my_guess_off_by: dict[str, int] | None = None


# ----------------------------------------------------------------------------- output


def links(evidence: dict[str, list[int]]) -> list[dict[str, Any]]:
    return [
        {"kind": kind, "id": pk, "href": HREFS[kind].format(pk) if kind in HREFS else None}
        for kind, ids in evidence.items()
        for pk in ids
    ]


def signal_out(s: dict[str, Any]) -> dict[str, Any]:
    return {**s, "links": links(s.get("evidence") or {})}


def change_out(change: dict[str, Any] | None) -> dict[str, Any] | None:
    if change is None:
        return None
    moved = [m | {"links": links(m.get("evidence") or {})} for m in change["signals"]]
    return change | {"signals": moved}


def summary_out(snap: TensionSnapshot) -> dict[str, Any]:
    return {
        "period": snap.period, "index": snap.index, "zone": snap.zone, "raw_zone": snap.raw_zone,
        "computed_at": snap.computed_at, "change": change_out(snap.change),
    }  # fmt: skip


def radar_out(snap: TensionSnapshot) -> dict[str, Any]:
    return summary_out(snap) | {
        "sub_indices": snap.sub_indices, "slope": snap.actions.get("slope"),
        "triggers": [t | {"links": links(t.get("evidence") or {})} for t in snap.triggers],
        "actions": snap.actions,
        "top_signals": [signal_out(s) for s in selectors.top_signals(snap)],
        "signals": [signal_out(s) for s in snap.signals],
        "policy_version": snap.policy_version,
    }  # fmt: skip


def profile_out(p: LeaderProfile) -> dict[str, Any]:
    spec = role_model(profiles.questionnaire(), p.role)
    names = {a.key: a.name for a in spec.archetypes} if spec else {}
    return {
        "id": p.pk, "person": p.person.email, "role": p.role, "kind": p.kind,
        "primary": p.primary, "secondary": p.secondary,
        "weights": {k: float(v) for k, v in p.weights.items()},
        "dimensions": [
            {"key": k, "name": names.get(k, k), "z": float(v)} for k, v in p.dimensions.items()
        ],
        "conflict": p.conflict, "taken_at": p.taken_at,
    }  # fmt: skip


def role_model(model: profiles.Questionnaire, role: str) -> profiles.RoleModel | None:
    return next((spec for key, spec in model.roles.items() if key == role), None)


def _month(text: str | None) -> Period:
    return Period.parse(text) if text else Period.of(clock.now())


# ----------------------------------------------------------------------------- the radar


@router.get(
    "/tension/radar",
    response={200: RadarOut, **ERRORS},
    summary="The latest radar: index, zone, sub-indices, triggers, actions, signals with evidence",
)
def radar_latest(request: HttpRequest) -> dict[str, Any]:
    selectors.radar_check_reader(actor(request))
    return radar_out(selectors.snapshot_latest())


@router.get(
    "/tension/radar/history",
    response={200: list[RadarSummaryOut], **ERRORS},
    summary="The computed periods in a range (default: the twelve months up to this one)",
)
def radar_history(
    request: HttpRequest, first: MonthQuery = None, last: MonthQuery = None
) -> list[dict[str, Any]]:
    selectors.radar_check_reader(actor(request))
    end = _month(last)
    start = Period.parse(first) if first else end
    if not first:
        for _ in range(11):
            start = start.previous()
    return [summary_out(s) for s in selectors.snapshots(start, end)]


@router.post(
    "/tension/radar/compute",
    response={200: list[RadarSummaryOut], **ERRORS},
    summary=f"Compute (or recompute) every month of a range, in order ({MAX_MONTHS} at most)",
)
def radar_compute(request: HttpRequest, body: ComputeIn) -> list[dict[str, Any]]:
    person = require_write(request)
    first, last = Period.parse(body.first), Period.parse(body.last)
    if len(first.until(last)) > MAX_MONTHS:
        raise InputError(f"compute {MAX_MONTHS} months at most per request", field="last")
    done = services.radar_compute_range(first=first, last=last, actor=person)
    return [summary_out(s) for s in done]


@router.get(
    "/tension/radar/{period}",
    response={200: RadarOut, **ERRORS},
    summary="The radar for one period (YYYY-MM)",
)
def radar_period(request: HttpRequest, period: MonthPath) -> dict[str, Any]:
    selectors.radar_check_reader(actor(request))
    return radar_out(selectors.snapshot_get(Period.parse(period)))


# ----------------------------------------------------------------------------- profiles


@router.get(
    "/tension/profile/questionnaire",
    response={200: QuestionnaireOut, **ERRORS},
    summary="The questionnaire for my role (scale 1 disagree … 5 agree)",
)
def questionnaire(request: HttpRequest) -> dict[str, Any]:
    person = actor(request)
    model = profiles.questionnaire()
    spec = role_model(model, person.leader_role)
    if spec is None:
        raise PermissionDenied("the questionnaire is for the CIO and the CISO")
    return {
        "role": person.leader_role, "scale": list(model.scale),
        "items": [{"id": i.id, "text": i.text} for i in spec.items],
        "conflict_items": [{"id": i.id, "text": i.text} for i in model.conflict_items],
    }  # fmt: skip


@router.post(
    "/tension/profile",
    response={201: ProfileOut, **ERRORS},
    summary="Answer the questionnaire; my profile is scored and stored",
)
def take_profile(request: HttpRequest, body: ProfileIn) -> Status[dict[str, Any]]:
    taken = services.profile_take(
        actor=require_write(request), answers=body.answers, conflict_answers=body.conflict_answers
    )
    return Status(201, profile_out(taken))


@router.get("/tension/profile", response={200: ProfileOut, **ERRORS}, summary="My current profile")
def my_profile(request: HttpRequest) -> dict[str, Any]:
    return profile_out(selectors.profile_current(actor(request)))


@router.get(
    "/tension/profile/{person_id}",
    response={200: ProfileOut, **ERRORS},
    summary="A person's current profile",
)
def person_profile(request: HttpRequest, person_id: PathId) -> dict[str, Any]:
    person = person_get(person_id)
    return profile_out(selectors.profile_current(person))


@router.get(
    "/tension/pairing",
    response={200: PairingOut, **ERRORS},
    summary="The CIO x CISO pairing: friction, covert risk and guidance per pressure point",
)
def pairing(request: HttpRequest, ciso_reports_to_cio: bool = False) -> dict[str, Any]:
    return asdict(selectors.pair_guidance(ciso_reports_to_cio=ciso_reports_to_cio))


# ----------------------------------------------------------------------------- pulse


@router.get(
    "/tension/pulse/items",
    response={200: PulseItemsOut, **ERRORS},
    summary="The pulse items (P1-P10) as my role reads them",
)
def pulse_items(request: HttpRequest) -> dict[str, Any]:
    role = actor(request).leader_role
    model = profiles.pulse_model()
    return {
        "items": [{"id": i.id, "measures": i.construct, "text": i.text_for(role)}
                  for i in model.items],
        "meta": list(model.meta),
    }  # fmt: skip


@router.post(
    "/tension/pulse",
    response={201: PulseOut, **ERRORS},
    summary="Answer my pulse for a month (once); revealed when both leaders have answered",
)
def pulse_answer(request: HttpRequest, body: PulseIn) -> Status[dict[str, Any]]:
    person = require_write(request)
    done = services.pulse_answer(
        actor=person, answers=body.answers, meta=body.meta,
        period=Period.parse(body.period) if body.period else None,
    )  # fmt: skip
    return Status(201, selectors.pulse_show(viewer=person, period=Period.parse(done.period)))


@router.get(
    "/tension/pulse",
    response={200: PulseOut, **ERRORS},
    summary="My pulse for a month and, once both answered, the counterpart's and the gaps",
)
def pulse_results(request: HttpRequest, period: MonthQuery = None) -> dict[str, Any]:
    return selectors.pulse_show(viewer=actor(request), period=_month(period))
