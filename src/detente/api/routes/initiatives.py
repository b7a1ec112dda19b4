"""/api/initiatives: create from the initiative file, list, show, push metrics (with a token
scoped to one initiative's metrics, or a write token), sign, tick a communications item, start,
pause, resume, roll back, complete, cancel after an objection, change a threshold, link a
temporary risk acceptance: the same services as ``detente initiative …``."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import HttpBearer
from pydantic import AfterValidator, Field

from detente.api.auth import AUTH, require_write
from detente.api.schemas import ERRORS, Id, In, PathId, in_years
from detente.core.errors import PermissionDenied
from detente.initiatives import selectors, services
from detente.initiatives.csvfile import Point
from detente.initiatives.document import parse_initiative

router = Router(tags=["initiatives"])


def _utc(value: dt.datetime) -> dt.datetime:
    if not 1971 <= value.year <= 2999:
        raise ValueError("give a time between the years 1971 and 2999")
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


Moment = Annotated[dt.datetime, AfterValidator(_utc), in_years()]
Reason = Annotated[str, Field(min_length=1, max_length=5_000)]
PhaseNumber = Annotated[int | None, Field(default=None, ge=1, le=1000)]


class MetricsTokenAuth(HttpBearer):
    """``Bearer dtm_<initiative>_…``: may push metrics into that one initiative, nothing else."""

    def authenticate(self, request: HttpRequest, token: str) -> int | None:
        parts = token.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != services.TOKEN_PREFIX or not parts[1].isdigit():
            return None
        initiative_id = int(parts[1])
        if not services.metric_token_check(token, initiative_id):
            return None
        request.detente_metrics_initiative = initiative_id  # type: ignore[attr-defined]
        return initiative_id


# ----------------------------------------------------------------------------- shapes


class InitiativeRowOut(Schema):
    id: int
    title: str
    cio_sponsor: str
    ciso_sponsor: str
    phase: int | None
    phase_status: str | None
    share: float | None
    guardrails: str
    next_decision: str


class InitiativeOut(Schema):
    id: int
    title: str
    description: str
    objection: dict[str, Any] | None = Field(
        description="The objection that cancelled the rollout (at, phase, by, side, reason)"
    )
    cio_sponsor: str
    ciso_sponsor: str
    services: list[str]
    risk: dict[str, Any]
    current_phase: int | None
    guardrails: str
    next_decision: str
    phases: list[dict[str, Any]]
    history: list[dict[str, Any]]
    threshold_changes: list[dict[str, Any]]


class InitiativeIn(In):
    yaml: Annotated[str, Field(min_length=1, max_length=1_000_000)]
    source: Annotated[str, Field(max_length=300)] = "api"


class PointIn(In):
    metric: Annotated[str, Field(min_length=1, max_length=64)]
    at: Moment
    value: Annotated[float, Field(allow_inf_nan=False)]


class MetricsIn(In):
    points: Annotated[list[PointIn], Field(min_length=1, max_length=10_000)]


class MetricsOut(Schema):
    recorded: int


class PhaseIn(In):
    phase: PhaseNumber = None


class ReasonIn(In):
    reason: Reason
    phase: PhaseNumber = None


class CommsIn(In):
    item: Annotated[int, Field(ge=1, le=1000, description="Checklist item (1-based)")]
    phase: PhaseNumber = None


class ThresholdIn(In):
    metric: Annotated[str, Field(min_length=1, max_length=64)]
    threshold: Annotated[
        Annotated[float, Field(allow_inf_nan=False)] | Annotated[str, Field(max_length=40)],
        Field(description="In the metric's unit, e.g. `8 %`, `1.5 s` or 1500"),
    ]
    decision: Id | None = Field(
        default=None, description="The decided customer-change decision record (once signed)"
    )
    phase: PhaseNumber = None


class AcceptanceLinkIn(In):
    acceptance: Id
    phase: PhaseNumber = None


def _detail(initiative_id: int) -> dict[str, Any]:
    return selectors.initiative_detail(selectors.initiative_get(initiative_id))


def _phase(initiative_id: int, number: int | None, *, in_flight: bool = False) -> Any:
    """``phase``, or the phase in flight (``in_flight``: pause, resume, roll back, complete),
    else the next planned one; never an ended phase (422 naming ``phase``)."""
    return selectors.phase_get(selectors.initiative_get(initiative_id), number, in_flight=in_flight)


# ----------------------------------------------------------------------------- routes


@router.get(
    "/initiatives",
    response={200: list[InitiativeRowOut], **ERRORS},
    summary="Initiatives with their current phase and guardrail status",
)
def list_initiatives(request: HttpRequest, running: bool = False) -> list[dict[str, Any]]:
    return selectors.initiative_rows(running_only=running)


@router.get("/initiatives/{initiative_id}", response={200: InitiativeOut, **ERRORS})
def get_initiative(request: HttpRequest, initiative_id: PathId) -> dict[str, Any]:
    return _detail(initiative_id)


@router.post(
    "/initiatives",
    response={201: InitiativeOut, **ERRORS},
    summary="Create an initiative from its YAML file (as `detente initiative new` reads it)",
)
def create(request: HttpRequest, body: InitiativeIn) -> Status[dict[str, Any]]:
    person = require_write(request)
    spec = parse_initiative(body.yaml, source=body.source)
    created = services.initiative_create(actor=person, spec=spec, source=body.source)
    return Status(201, _detail(created.pk))


@router.post(
    "/initiatives/{initiative_id}/metrics",
    response={200: MetricsOut, **ERRORS},
    auth=[MetricsTokenAuth(), *AUTH],
    summary="Push metric points (a `dtm_` token of this initiative, or a write token)",
)
def push_metrics(request: HttpRequest, initiative_id: PathId, body: MetricsIn) -> dict[str, Any]:
    scoped = getattr(request, "detente_metrics_initiative", None)
    if scoped is not None:
        if not hmac.compare_digest(str(scoped), str(initiative_id)):
            raise PermissionDenied("this metrics token belongs to another initiative")
        person = None
    else:
        person = require_write(request)
    initiative = selectors.initiative_get(initiative_id)
    points = [Point(p.metric, p.at, p.value) for p in body.points]
    recorded = services.metrics_record(
        actor=person, initiative=initiative, points=points, source="api"
    )
    return {"recorded": recorded}


@router.post("/initiatives/{initiative_id}/sign", response={200: InitiativeOut, **ERRORS})
def sign(request: HttpRequest, initiative_id: PathId, body: PhaseIn) -> dict[str, Any]:
    services.guardrails_sign(actor=require_write(request), phase=_phase(initiative_id, body.phase))
    return _detail(initiative_id)


@router.post("/initiatives/{initiative_id}/start", response={200: InitiativeOut, **ERRORS})
def start(request: HttpRequest, initiative_id: PathId, body: PhaseIn) -> dict[str, Any]:
    services.phase_start(actor=require_write(request), phase=_phase(initiative_id, body.phase))
    return _detail(initiative_id)


@router.post("/initiatives/{initiative_id}/pause", response={200: InitiativeOut, **ERRORS})
def pause(request: HttpRequest, initiative_id: PathId, body: ReasonIn) -> dict[str, Any]:
    phase = _phase(initiative_id, body.phase, in_flight=True)
    services.phase_pause(actor=require_write(request), phase=phase, reason=body.reason)
    return _detail(initiative_id)


@router.post("/initiatives/{initiative_id}/resume", response={200: InitiativeOut, **ERRORS})
def resume(request: HttpRequest, initiative_id: PathId, body: PhaseIn) -> dict[str, Any]:
    phase = _phase(initiative_id, body.phase, in_flight=True)
    services.phase_resume(actor=require_write(request), phase=phase)
    return _detail(initiative_id)


@router.post("/initiatives/{initiative_id}/rollback", response={200: InitiativeOut, **ERRORS})
def rollback(request: HttpRequest, initiative_id: PathId, body: ReasonIn) -> dict[str, Any]:
    phase = _phase(initiative_id, body.phase, in_flight=True)
    services.phase_rollback(actor=require_write(request), phase=phase, reason=body.reason)
    return _detail(initiative_id)


@router.post(
    "/initiatives/{initiative_id}/comms",
    response={200: InitiativeOut, **ERRORS},
    summary="Tick an item of a phase's communications checklist (its owner or a sponsor)",
)
def comms(request: HttpRequest, initiative_id: PathId, body: CommsIn) -> dict[str, Any]:
    services.comms_complete(
        actor=require_write(request), phase=_phase(initiative_id, body.phase), item=body.item
    )
    return _detail(initiative_id)


@router.post(
    "/initiatives/{initiative_id}/done",
    response={200: InitiativeOut, **ERRORS},
    summary="Complete the live phase",
)
def done(request: HttpRequest, initiative_id: PathId, body: PhaseIn) -> dict[str, Any]:
    phase = _phase(initiative_id, body.phase, in_flight=True)
    services.phase_complete(actor=require_write(request), phase=phase)
    return _detail(initiative_id)


@router.post(
    "/initiatives/{initiative_id}/cancel",
    response={200: InitiativeOut, **ERRORS},
    summary="Object and cancel the rollout from this phase on (a sponsor, the CIO or the CISO)",
)
def cancel(request: HttpRequest, initiative_id: PathId, body: ReasonIn) -> dict[str, Any]:
    services.phase_cancel(
        actor=require_write(request), phase=_phase(initiative_id, body.phase), reason=body.reason
    )
    return _detail(initiative_id)


@router.post(
    "/initiatives/{initiative_id}/threshold",
    response={200: InitiativeOut, **ERRORS},
    summary="Change a guardrail's threshold (once signed: through a decided decision record)",
)
def threshold(request: HttpRequest, initiative_id: PathId, body: ThresholdIn) -> dict[str, Any]:
    person = require_write(request)
    guardrail = selectors.guardrail_of(_phase(initiative_id, body.phase), body.metric)
    decision = None if body.decision is None else selectors.decision_get(body.decision)
    services.guardrail_change_threshold(
        actor=person, guardrail=guardrail, threshold=body.threshold, decision=decision
    )
    return _detail(initiative_id)


@router.post(
    "/initiatives/{initiative_id}/acceptance",
    response={200: InitiativeOut, **ERRORS},
    summary="Link a temporary risk acceptance to a phase (it ends with the phase)",
)
def acceptance(
    request: HttpRequest, initiative_id: PathId, body: AcceptanceLinkIn
) -> dict[str, Any]:
    person = require_write(request)
    services.phase_link_acceptance(
        actor=person, phase=_phase(initiative_id, body.phase),
        acceptance=selectors.acceptance_get(body.acceptance),
    )  # fmt: skip
    return _detail(initiative_id)
