"""/api/plan: the current patch plan and its misses with their remedies, making a plan, what-if
side by side with the baseline, the ICS calendar, deferring a miss, windows and blackouts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from pydantic import AfterValidator, Field, ModelWrapValidatorHandler, model_validator

from detente.api.auth import require_write
from detente.api.schemas import ERRORS, In, Limit, Offset, PathId, in_years, one_of
from detente.core import clock
from detente.core.errors import InputError, NotFound
from detente.inventory.selectors import service_by_slug
from detente.planning import selectors, services
from detente.planning.ics import plan_ics
from detente.planning.models import ChangeWindow, PatchPlan, PlanItem
from detente.planning.occurrences import parse_rule
from detente.planning.scenarios import compare, parse
from detente.policy.services import active_policy

router = Router(tags=["planning"])


def _sane(value: dt.datetime) -> dt.datetime:
    """A time without an offset is UTC; years stay where every time zone can convert them."""
    if not 1971 <= value.year <= 2999:
        raise ValueError("give a time between the years 1971 and 2999")
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _sane_day(value: dt.date) -> dt.date:
    if not 1971 <= value.year <= 2999:
        raise ValueError("give a date between the years 1971 and 2999")
    return value


Moment = Annotated[dt.datetime, AfterValidator(_sane), in_years()]
Day = Annotated[dt.date, AfterValidator(_sane_day), in_years()]
Text = Annotated[str, Field(max_length=20_000)]
Name = Annotated[str, Field(max_length=200)]
Horizon = Annotated[int, Field(ge=1, le=366)]
Method = Annotated[str, one_of(("auto", "exact", "greedy"), max_length=16)]
# The scenario grammar (planning.scenarios.parse); a service or class must also exist.
SCENARIO = (
    r"^(defer:[^:\x00]{1,64}:[0-9]{1,4}"
    r"|freeze:(197[1-9]|19[89][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}:(197[1-9]|19[89][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}"
    r"|add-window:[^:\x00]{1,200}(:[^\x00]{1,300})?)$"
)
Spec = Annotated[str, Field(max_length=500, json_schema_extra={"pattern": SCENARIO})]


# ----------------------------------------------------------------------------- shapes


class PlanOut(Schema):
    id: int
    status: str
    made_at: dt.datetime
    made_by: str | None
    horizon_end: dt.datetime
    method: str
    optimal: bool
    items: int
    planned: int
    missed: int
    missed_for_capacity: int | None
    exposure_days: float
    acceptances_needed: int | None
    emergency_changes: int | None
    extra_windows: int | None
    blocked_occurrences: int
    solve_ms: int


class RemedyOut(Schema):
    kind: str = Field(description="emergency_change | extra_window | deferral")
    feasible: bool
    cost: float = Field(description="Weighted exposure-day equivalents")
    when: str | None = None
    until: str | None = None
    detail: str


class PlanItemOut(Schema):
    id: int
    key: str
    kind: str
    service: str | None
    findings: list[int]
    effort_hours: float
    weight: float
    deadline: dt.datetime
    deadline_class: str
    window: str | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    exposure_days: float
    late_days: float
    miss: str = Field(description="'' (on time) | capacity | no_window")
    remedy: RemedyOut | None = Field(description="The cheapest feasible remedy of a miss")
    remedies: list[RemedyOut]
    acceptance_id: int | None


class Body(In):
    """A body whose fields are all optional must still be a JSON object."""

    @model_validator(mode="wrap")
    @classmethod
    def _an_object(cls, value: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        if isinstance(value, list | str | int | float | bool) or value is None:
            raise ValueError("the body must be a JSON object")
        return handler(value)


class PlanMakeIn(Body):
    horizon_days: Horizon | None = None
    method: Method = "auto"


class WhatIfIn(In):
    scenarios: Annotated[list[Spec], Field(min_length=1, max_length=10)] = Field(
        description="defer:CLASS:DAYS | freeze:START:END | add-window:SERVICE[:RRULE]"
    )
    horizon_days: Horizon | None = None
    method: Method = "auto"


class PlanMetricsOut(Schema):
    exposure_days: float
    missed: int
    missed_findings: int
    acceptances_needed: int
    emergency_changes: int
    extra_windows: int
    planned: int
    items: int
    method: str


class ScenarioOut(Schema):
    label: str
    metrics: PlanMetricsOut
    delta: dict[str, float] = Field(description="Scenario minus baseline, per number")


class WhatIfOut(Schema):
    baseline: PlanMetricsOut
    scenarios: list[ScenarioOut]


class DeferIn(Body):
    justification: Text = ""
    compensating_controls: Text = ""
    until: Day | None = None


class DeferOut(Schema):
    acceptance_id: int
    status: str
    requested_until: dt.date
    findings: int
    required_roles: list[str]


class WindowOut(Schema):
    id: int
    service: str
    name: str
    rrule: str
    starts_on: dt.date
    start_time: dt.time
    timezone: str
    duration_minutes: int
    capacity: float
    capacity_unit: str
    next: list[dt.datetime]


class WindowIn(In):
    service: Name
    name: Name
    rrule: Annotated[str, Field(max_length=500)]
    start_time: dt.time
    duration_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)]
    capacity: Annotated[float, Field(gt=0, le=10_000)]
    capacity_unit: Annotated[str, Field(max_length=16)] = "hours"
    timezone: Annotated[str, Field(max_length=64)] = "UTC"
    starts_on: Day | None = None


class BlackoutIn(In):
    starts_at: Moment
    ends_at: Moment
    reason: Text
    service: Name | None = None


class BlackoutOut(Schema):
    id: int
    service: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str


# ----------------------------------------------------------------------------- output


METRICS = list(PlanMetricsOut.model_fields)


def _current() -> PatchPlan:
    plan = selectors.plan_current()
    if plan is None:
        raise NotFound("no plan yet: POST /api/plan")
    return plan


def plan_out(plan: PatchPlan) -> dict[str, Any]:
    s = plan.summary
    return {
        "id": plan.pk, "status": plan.status, "made_at": plan.made_at,
        "made_by": plan.made_by.email if plan.made_by else None,
        "horizon_end": plan.horizon_end, "method": plan.method, "optimal": plan.optimal,
        "items": plan.items, "planned": plan.planned, "missed": plan.missed,
        "missed_for_capacity": s.get("missed_for_capacity"), "exposure_days": plan.exposure_days,
        "acceptances_needed": s.get("acceptances_needed"),
        "emergency_changes": s.get("emergency_changes"), "extra_windows": s.get("extra_windows"),
        "blocked_occurrences": len(s.get("blocked", [])), "solve_ms": plan.solve_ms,
    }  # fmt: skip


def item_out(item: PlanItem) -> dict[str, Any]:
    remedies = list(item.remedies)
    return {
        "id": item.pk, "key": item.key, "kind": item.kind,
        "service": item.service.slug if item.service else None,
        "findings": list(item.finding_ids), "effort_hours": item.effort_hours,
        "weight": item.weight, "deadline": item.deadline, "deadline_class": item.deadline_class,
        "window": item.window.name if item.window else None, "starts_at": item.starts_at,
        "ends_at": item.ends_at, "exposure_days": item.exposure_days,
        "late_days": item.late_days, "miss": item.miss,
        "remedy": next((r for r in remedies if r["feasible"]), None), "remedies": remedies,
        "acceptance_id": item.acceptance_id,
    }  # fmt: skip


def window_out(w: ChangeWindow, upcoming: int = 3) -> dict[str, Any]:
    now = clock.now()
    nxt = selectors.window_occurrences(w, start=now, end=now + dt.timedelta(days=366))
    return {
        "id": w.pk, "service": w.service.slug, "name": w.name, "rrule": w.rrule,
        "starts_on": w.starts_on, "start_time": w.start_time, "timezone": w.timezone,
        "duration_minutes": w.duration_minutes, "capacity": w.capacity,
        "capacity_unit": w.capacity_unit, "next": [o.starts_at for o in nxt[:upcoming]],
    }  # fmt: skip


def _method(method: str) -> str:
    if method not in ("auto", "exact", "greedy"):
        raise InputError(f"unknown method {method!r}", field="method")
    return method


def _checked(spec: str) -> str:
    """Refuse what the scenario parser would let through to an overflow or a bad RRULE."""
    parts = spec.strip().split(":", maxsplit=2)
    if parts[0] == "defer" and len(parts) == 3:
        days = parts[2].strip()
        if not (days.lstrip("-").isdigit() and len(days) <= 5 and abs(int(days)) <= 3660):
            raise InputError("defer:CLASS:DAYS with DAYS within ±3660", field="scenarios")
    if parts[0] == "freeze" and len(parts) == 3:
        for text in parts[1:]:
            try:
                _sane_day(dt.date.fromisoformat(text))
            except ValueError:
                raise InputError(
                    "freeze:START:END with ISO dates between 1971 and 2999", field="scenarios"
                ) from None
    if parts[0] == "add-window" and len(parts) == 3:
        rule = parts[2] if "BYDAY" in parts[2] else f"{parts[2]};BYDAY=SA"
        parse_rule(rule, starts_on=clock.now().date(), start_time=dt.time(2, 0))
        parse_rule(parts[2], starts_on=clock.now().date(), start_time=dt.time(2, 0))
    return spec


# ----------------------------------------------------------------------------- routes


@router.get("/plan", response={200: PlanOut, **ERRORS}, summary="The current patch plan")
def current_plan(request: HttpRequest) -> dict[str, Any]:
    return plan_out(_current())


@router.get(
    "/plan/items",
    response={200: list[PlanItemOut], **ERRORS},
    summary="The current plan's work items, heaviest first, each miss with its remedies",
)
def list_items(
    request: HttpRequest, misses_only: bool = False, limit: Limit = 200, offset: Offset = 0
) -> list[dict[str, Any]]:
    rows = selectors.plan_items(_current(), missed_only=misses_only).order_by("-weight", "id")
    return [item_out(i) for i in rows[offset : offset + limit]]


@router.post(
    "/plan",
    response={201: PlanOut, **ERRORS},
    summary="Plan every open work item into the change windows (supersedes the current plan)",
)
def make(request: HttpRequest, body: PlanMakeIn) -> Status[dict[str, Any]]:
    plan = services.plan_make(
        actor=require_write(request), horizon_days=body.horizon_days, method=_method(body.method)
    )
    return Status(201, plan_out(plan))


@router.post(
    "/plan/what-if",
    response={200: WhatIfOut, **ERRORS},
    summary="The baseline and each scenario planned alone, side by side (nothing is stored)",
)
def what_if(request: HttpRequest, body: WhatIfIn) -> dict[str, Any]:
    slugs = selectors.services_by_slug()
    parsed = [parse(_checked(spec), services=slugs) for spec in body.scenarios]
    doc, _ = active_policy()
    data = selectors.planning_input(doc, horizon_days=body.horizon_days)
    results = compare(data, parsed, method=_method(body.method))
    base = {key: results[0][1][key] for key in METRICS}
    scenarios = []
    for label, metrics in results[1:]:
        shown = {key: metrics[key] for key in METRICS}
        delta = {
            key: round(shown[key] - base[key], 1)
            for key in METRICS
            if isinstance(shown[key], int | float) and not isinstance(shown[key], bool)
        }
        scenarios.append({"label": label, "metrics": shown, "delta": delta})
    return {"baseline": base, "scenarios": scenarios}


@router.get(
    "/plan/ics",
    response={200: None, **ERRORS},
    summary="The current plan as an ICS calendar (text/calendar)",
    openapi_extra={
        "responses": {
            200: {
                "description": "RFC 5545 calendar: one event per occupied window occurrence",
                "content": {"text/calendar": {"schema": {"type": "string"}}},
            }
        }
    },
)
def ics(request: HttpRequest) -> HttpResponse:
    plan = _current()
    response = HttpResponse(plan_ics(plan), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="patch-plan-{plan.pk}.ics"'
    return response


@router.post(
    "/plan/items/{item_id}/defer",
    response={201: DeferOut, **ERRORS},
    summary="Turn a miss of the current plan into an acceptance request, its facts filled in",
)
def defer(request: HttpRequest, item_id: PathId, body: DeferIn) -> Status[dict[str, Any]]:
    done = services.plan_item_defer(
        actor=require_write(request), item=item_id, justification=body.justification,
        compensating_controls=body.compensating_controls, until=body.until,
    )  # fmt: skip
    return Status(
        201,
        {"acceptance_id": done.pk, "status": done.status,
         "requested_until": done.requested_until, "findings": done.items.count(),
         "required_roles": list(done.required_roles)},
    )  # fmt: skip


@router.get(
    "/plan/windows",
    response={200: list[WindowOut], **ERRORS},
    summary="Change windows with their next three occurrences",
)
def list_windows(
    request: HttpRequest, service: str | None = None, limit: Limit = 200, offset: Offset = 0
) -> list[dict[str, Any]]:
    service_id = service_by_slug(service).pk if service else None
    rows = selectors.windows_list(service_id=service_id).select_related("service")
    return [window_out(w) for w in rows[offset : offset + limit]]


@router.post(
    "/plan/windows",
    response={201: WindowOut, **ERRORS},
    summary="Add a recurring change window (RFC 5545 RRULE in its own time zone)",
)
def add_window(request: HttpRequest, body: WindowIn) -> Status[dict[str, Any]]:
    window = services.window_add(
        actor=require_write(request), service=service_by_slug(body.service), name=body.name,
        rrule=body.rrule, start_time=body.start_time, duration_minutes=body.duration_minutes,
        capacity=body.capacity, capacity_unit=body.capacity_unit, timezone=body.timezone,
        starts_on=body.starts_on,
    )  # fmt: skip
    return Status(201, window_out(window))


@router.post(
    "/plan/blackouts",
    response={201: BlackoutOut, **ERRORS},
    summary="Freeze changes over [starts_at, ends_at), for one service or for all",
)
def add_blackout(request: HttpRequest, body: BlackoutIn) -> Status[dict[str, Any]]:
    done = services.blackout_add(
        actor=require_write(request), starts_at=body.starts_at, ends_at=body.ends_at,
        reason=body.reason, service=service_by_slug(body.service) if body.service else None,
    )  # fmt: skip
    return Status(
        201,
        {"id": done.pk, "service": body.service, "starts_at": done.starts_at,
         "ends_at": done.ends_at, "reason": done.reason},
    )  # fmt: skip
