"""Reads: the planning input from the database, plans and their items, window occurrences."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import QuerySet

from detente.core import clock
from detente.core.errors import NotFound
from detente.findings.models import Finding, Status
from detente.planning.models import (
    Blackout,
    CapacityUnit,
    ChangeWindow,
    EffortOverride,
    EmergencyChange,
    PatchPlan,
    PlanItem,
    PlanStatus,
)
from detente.planning.occurrences import BlackoutSpec, Occurrence, WindowSpec, expand
from detente.planning.planner import PlanningInput, Rules
from detente.planning.workitems import FindingFacts, WorkItem, group
from detente.policy.document import PolicyDocument


def window_spec(window: ChangeWindow) -> WindowSpec:
    return WindowSpec(
        id=window.pk,
        service_id=window.service_id,
        name=window.name,
        rrule=window.rrule,
        starts_on=window.starts_on,
        start_time=window.start_time,
        timezone=window.timezone,
        duration_minutes=window.duration_minutes,
        capacity=window.capacity,
        in_slots=window.capacity_unit == CapacityUnit.SLOTS,
    )


def windows_list(*, service_id: int | None = None) -> QuerySet[ChangeWindow]:
    query = ChangeWindow.objects.select_related("service").filter(active=True)
    return query.filter(service_id=service_id) if service_id is not None else query


def window_occurrences(
    window: ChangeWindow, *, start: dt.datetime, end: dt.datetime
) -> list[Occurrence]:
    return expand(window_spec(window), start=start, end=end)


def blackouts_active(*, after: dt.datetime) -> QuerySet[Blackout]:
    return Blackout.objects.filter(ends_at__gt=after)


def work_items(doc: PolicyDocument) -> list[WorkItem]:
    """Open findings with a calendar deadline, grouped into work items (``workitems.group``)."""
    rows = Finding.objects.filter(status=Status.OPEN, deadline__isnull=False).values_list(
        "id", "asset_id", "asset__kind", "asset__service_id", "component", "deadline",
        "deadline_class", "kev", "epss", "exposed",
    )  # fmt: skip
    facts = (
        FindingFacts(
            id=pk, asset_id=asset_id, asset_kind=kind, service_id=service_id,
            component=component, deadline=deadline, deadline_class=cls, kev=kev, epss=epss,
            exposed=exposed,
        )
        for pk, asset_id, kind, service_id, component, deadline, cls, kev, epss, exposed in (
            rows.order_by("id").iterator(chunk_size=5000)
        )
        if deadline is not None
    )  # fmt: skip
    return group(
        facts,
        class_days={k: c.days for k, c in doc.deadlines.classes.items()},
        effort_hours={str(k): v for k, v in doc.planning.effort_hours.items()},
        overrides=dict(EffortOverride.objects.values_list("item_key", "hours")),
    )


def rules_from(doc: PolicyDocument, *, horizon_days: int | None = None) -> Rules:
    p = doc.planning
    return Rules(
        horizon_days=horizon_days or p.horizon_days,
        late_factor=p.late_factor,
        unplanned_extra_days=p.unplanned_extra_days,
        exact_max_pairs=p.exact_max_pairs,
        solver_seconds=p.solver_seconds,
        emergency_max_per_month=p.emergency.max_per_month,
        max_defer_days={k: rule.max_days for k, rule in doc.acceptances.by_class.items()},
        remedy_cost=dict(p.remedy_cost),
    )


def emergency_used(*, since: dt.datetime) -> dict[tuple[int, str], int]:
    """Emergency changes already called, by (service, month of their date)."""
    counts: Counter[tuple[int, str]] = Counter()
    month_start = since.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for service_id, when in EmergencyChange.objects.filter(
        scheduled_for__gte=month_start
    ).values_list("service_id", "scheduled_for"):
        counts[(service_id, when.astimezone(dt.UTC).strftime("%Y-%m"))] += 1
    return dict(counts)


def planning_input(
    doc: PolicyDocument, *, horizon_days: int | None = None, now: dt.datetime | None = None
) -> PlanningInput:
    moment = now or clock.now()
    return PlanningInput(
        now=moment,
        windows=[window_spec(w) for w in windows_list()],
        blackouts=[
            BlackoutSpec(
                starts_at=b.starts_at,
                ends_at=b.ends_at,
                service_id=b.service_id,
                reason=b.reason,
            )
            for b in blackouts_active(after=moment)
        ],
        items=work_items(doc),
        rules=rules_from(doc, horizon_days=horizon_days),
        emergency_used=emergency_used(since=moment),
    )


def plan_current() -> PatchPlan | None:
    return PatchPlan.objects.filter(status=PlanStatus.CURRENT).order_by("-made_at", "-id").first()


def plan_items(plan: PatchPlan, *, missed_only: bool = False) -> QuerySet[PlanItem]:
    query = plan.work.select_related("window", "asset", "service")
    return query.exclude(miss="") if missed_only else query


def services_by_slug() -> dict[str, int]:
    from detente.inventory.models import BusinessService

    return dict(BusinessService.objects.values_list("slug", "id"))


def plan_get(pk: int) -> PatchPlan:
    found = PatchPlan.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"plan {pk} does not exist")
    return found


def plan_item_get(pk: int) -> PlanItem:
    found = PlanItem.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"plan item {pk} does not exist")
    return found


def windows_all() -> QuerySet[ChangeWindow]:
    """Every window (inactive ones too), by service, for the windows page."""
    return ChangeWindow.objects.select_related("service").order_by("service__slug", "id")


def blackouts_recent(*, limit: int = 50) -> QuerySet[Blackout]:
    return Blackout.objects.select_related("service").order_by("-starts_at")[:limit]


def deadline_classes_planned() -> list[str]:
    """The deadline classes that appear in plan items, sorted."""
    return sorted(set(PlanItem.objects.values_list("deadline_class", flat=True)))
