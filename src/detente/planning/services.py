"""Writes: windows, blackouts, effort overrides, plans, deferrals of misses, emergency changes.

Keyword-only, typed, atomic, audited; a refusal raises a domain error and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from django.db import transaction

from detente.acceptances.models import AcceptanceStatus, RiskAcceptance, ScopeKind
from detente.acceptances.services import acceptance_request
from detente.audit.services import audit_record
from detente.core import clock
from detente.core.bulk import insert_rows, is_postgres
from detente.core.errors import InputError, NotFound, PermissionDenied, RuleViolation
from detente.inventory.models import BusinessService
from detente.people.models import Person, Role
from detente.planning.models import (
    ALLOWED,
    Blackout,
    CapacityUnit,
    ChangeWindow,
    EffortOverride,
    EmergencyChange,
    PatchPlan,
    PlanItem,
    PlanStatus,
)
from detente.planning.occurrences import parse_rule, zone
from detente.planning.planner import PlanResult, plan_compute
from detente.planning.selectors import planning_input
from detente.policy.services import active_policy

PLANNERS = frozenset({Role.CIO, Role.IT_LEAD, Role.CHANGE_MANAGER, Role.SERVICE_OWNER})
EFFORT_SETTERS = PLANNERS | {Role.ENGINEER}


def _may_plan(actor: Person, service: BusinessService | None = None) -> None:
    if not actor.has_any_role(PLANNERS):
        raise PermissionDenied(f"a {actor.get_role_display()} cannot change the patch plan")
    wider = actor.has_any_role(PLANNERS - {Role.SERVICE_OWNER})
    if not wider and (service is None or service.owner_id != actor.pk):
        raise PermissionDenied("a service owner changes only their own services' windows")


def _move(plan: PatchPlan, to: str) -> None:
    if to not in ALLOWED[plan.status]:
        raise RuleViolation(f"plan {plan.pk} is {plan.status}; it cannot become {to}")
    plan.status = to


# ------------------------------------------------------------------------------ windows


def window_add(
    *,
    actor: Person,
    service: BusinessService,
    name: str,
    rrule: str,
    start_time: dt.time,
    duration_minutes: int,
    capacity: float,
    capacity_unit: str = CapacityUnit.HOURS,
    timezone: str = "UTC",
    starts_on: dt.date | None = None,
) -> ChangeWindow:
    """A recurring change window for ``service`` (RRULE in the window's own time zone)."""
    _may_plan(actor, service)
    if not name.strip():
        raise InputError("name the window", field="name")
    if duration_minutes <= 0:
        raise InputError("the duration must be positive", field="duration_minutes")
    if capacity <= 0:
        raise InputError("the capacity must be positive", field="capacity")
    if capacity_unit not in CapacityUnit.values:
        raise InputError(f"unknown capacity unit {capacity_unit!r}", field="capacity_unit")
    zone(timezone)
    anchor = starts_on or clock.now().astimezone(zone(timezone)).date()
    parse_rule(rrule, starts_on=anchor, start_time=start_time)
    with transaction.atomic():
        window = ChangeWindow.objects.create(
            service=service, name=name.strip(), rrule=rrule.strip().removeprefix("RRULE:"),
            starts_on=anchor, start_time=start_time, timezone=timezone,
            duration_minutes=duration_minutes, capacity=capacity, capacity_unit=capacity_unit,
            created_at=clock.now(), created_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, verb="planning.window_added", subject_type="change_window",
            subject_id=window.pk,
            after={"service": service.slug, "name": window.name, "rrule": window.rrule,
                   "start": f"{anchor} {start_time} {timezone}", "minutes": duration_minutes,
                   "capacity": capacity, "unit": capacity_unit},
        )  # fmt: skip
        return window


def blackout_add(
    *,
    actor: Person,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    service: BusinessService | None = None,
) -> Blackout:
    """No changes in ``[starts_at, ends_at)``: for ``service``, or for every service."""
    _may_plan(actor, service) if service is not None else None
    if service is None and not actor.has_any_role((Role.CIO, Role.IT_LEAD, Role.CHANGE_MANAGER)):
        raise PermissionDenied(f"a {actor.get_role_display()} cannot set a global blackout")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InputError("blackout times need a time zone", field="starts_at")
    if ends_at <= starts_at:
        raise InputError("the blackout must end after it starts", field="ends_at")
    if not reason.strip():
        raise InputError("say why changes are frozen", field="reason")
    with transaction.atomic():
        blackout = Blackout.objects.create(
            service=service, starts_at=starts_at, ends_at=ends_at, reason=reason.strip(),
            created_at=clock.now(), created_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, verb="planning.blackout_added", subject_type="blackout",
            subject_id=blackout.pk,
            after={"service": service.slug if service else None, "reason": blackout.reason,
                   "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
        )  # fmt: skip
        return blackout


def window_update(
    *,
    actor: Person,
    window: ChangeWindow | int,
    name: str,
    rrule: str,
    start_time: dt.time,
    duration_minutes: int,
    capacity: float,
    capacity_unit: str = CapacityUnit.HOURS,
) -> ChangeWindow:
    """Change a window's name, rule, start, length or capacity (its service stays); audited with
    the values before and after. The next plan uses it."""
    pk = window if isinstance(window, int) else window.pk
    with transaction.atomic():
        locked = ChangeWindow.objects.select_for_update().filter(pk=pk).first()
        if locked is None:
            raise NotFound(f"change window {pk} does not exist")
        _may_plan(actor, locked.service)
        if not name.strip():
            raise InputError("name the window", field="name")
        if duration_minutes <= 0:
            raise InputError("the duration must be positive", field="duration_minutes")
        if capacity <= 0:
            raise InputError("the capacity must be positive", field="capacity")
        if capacity_unit not in CapacityUnit.values:
            raise InputError(f"unknown capacity unit {capacity_unit!r}", field="capacity_unit")
        rule = rrule.strip().removeprefix("RRULE:")
        parse_rule(rule, starts_on=locked.starts_on, start_time=start_time)
        fields = ("name", "rrule", "start_time", "duration_minutes", "capacity", "capacity_unit")
        before = {f: str(getattr(locked, f)) for f in fields}
        locked.name, locked.rrule, locked.start_time = name.strip(), rule, start_time
        locked.duration_minutes, locked.capacity = duration_minutes, capacity
        locked.capacity_unit = capacity_unit
        locked.save(update_fields=list(fields))
        audit_record(
            actor=actor, verb="planning.window_changed", subject_type="change_window",
            subject_id=locked.pk, before=before,
            after={f: str(getattr(locked, f)) for f in fields},
        )  # fmt: skip
        return locked


def blackout_update(
    *,
    actor: Person,
    blackout: Blackout | int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
) -> Blackout:
    """Move a blackout or change its reason (the same people who may set it); audited."""
    pk = blackout if isinstance(blackout, int) else blackout.pk
    with transaction.atomic():
        locked = Blackout.objects.select_for_update().filter(pk=pk).first()
        if locked is None:
            raise NotFound(f"blackout {pk} does not exist")
        if locked.service is not None:
            _may_plan(actor, locked.service)
        elif not actor.has_any_role((Role.CIO, Role.IT_LEAD, Role.CHANGE_MANAGER)):
            raise PermissionDenied(f"a {actor.get_role_display()} cannot set a global blackout")
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            raise InputError("blackout times need a time zone", field="starts_at")
        if ends_at <= starts_at:
            raise InputError("the blackout must end after it starts", field="ends_at")
        if not reason.strip():
            raise InputError("say why changes are frozen", field="reason")
        before = {"starts_at": locked.starts_at.isoformat(), "ends_at": locked.ends_at.isoformat(),
                  "reason": locked.reason}  # fmt: skip
        locked.starts_at, locked.ends_at, locked.reason = starts_at, ends_at, reason.strip()
        locked.save(update_fields=["starts_at", "ends_at", "reason"])
        audit_record(
            actor=actor, verb="planning.blackout_changed", subject_type="blackout",
            subject_id=locked.pk, before=before,
            after={"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
                   "reason": locked.reason},
        )  # fmt: skip
        return locked


def effort_override_set(*, actor: Person, item_key: str, hours: float, reason: str) -> None:
    """Override the policy's default effort for one work item (its key, e.g. ``host:12``)."""
    if not actor.has_any_role(EFFORT_SETTERS):
        raise PermissionDenied(f"a {actor.get_role_display()} cannot set efforts")
    if hours <= 0:
        raise InputError("the effort must be positive", field="hours")
    if not reason.strip():
        raise InputError("say why the default is wrong", field="reason")
    with transaction.atomic():
        before = EffortOverride.objects.filter(item_key=item_key).values_list("hours", flat=True)
        previous = before.first()
        EffortOverride.objects.update_or_create(
            item_key=item_key,
            defaults={"hours": hours, "reason": reason.strip(), "set_at": clock.now(),
                      "set_by": actor},
        )  # fmt: skip
        audit_record(
            actor=actor, verb="planning.effort_set", subject_type="work_item",
            subject_id=item_key, before={"hours": previous}, after={"hours": hours},
        )  # fmt: skip


# ------------------------------------------------------------------------------ plans


def _refuse_auditor(actor: Person | None) -> None:
    if actor is not None and actor.has_role(Role.AUDITOR):
        raise PermissionDenied("an auditor reads the plan but cannot change it")


def plan_make(
    *, actor: Person | None, horizon_days: int | None = None, method: str = "auto"
) -> PatchPlan:
    """Plan every open work item into the windows; the new plan supersedes the current one."""
    _refuse_auditor(actor)
    if method not in ("auto", "exact", "greedy"):
        raise InputError(f"unknown method {method!r}", field="method")
    doc, version = active_policy()
    data = planning_input(doc, horizon_days=horizon_days)
    began = time.perf_counter()
    result = plan_compute(data, method=method)
    solve_ms = round((time.perf_counter() - began) * 1000)
    with transaction.atomic():
        previous = list(PatchPlan.objects.select_for_update().filter(status=PlanStatus.CURRENT))
        # A deferral already asked for (and not yet decided) stays linked to the same work.
        pending = dict(
            PlanItem.objects.filter(
                plan__in=previous,
                acceptance__status__in=(AcceptanceStatus.DRAFT, AcceptanceStatus.REQUESTED),
            ).values_list("key", "acceptance_id")
        )
        for old in previous:
            _move(old, PlanStatus.SUPERSEDED)
            old.save(update_fields=["status"])
        metrics = result.metrics()
        plan = PatchPlan.objects.create(
            status=PlanStatus.CURRENT, made_at=clock.now(), made_by=actor,
            horizon_start=result.now, horizon_end=result.horizon_end, method=result.method,
            optimal=result.optimal, objective=result.objective,
            exposure_days=metrics["exposure_days"], items=metrics["items"],
            planned=metrics["planned"], missed=metrics["missed"], solve_ms=solve_ms,
            policy_version=version.version,
            summary={**metrics,
                     "blocked": [{"window": o.window.id, "starts_at": o.starts_at.isoformat(),
                                  "blackout": b.reason} for o, b in result.blocked]},
        )  # fmt: skip
        _insert_items(plan, result, pending)
        audit_record(
            actor=actor, verb="planning.plan_made", subject_type="patch_plan",
            subject_id=plan.pk,
            before={"plans": [p.pk for p in previous]},
            after={k: metrics[k] for k in ("items", "planned", "missed", "exposure_days",
                                            "method", "optimal")},
        )  # fmt: skip
        return plan


ITEM_COLUMNS = (
    "plan_id", "key", "kind", "asset_id", "service_id", "component", "effort_hours", "weight",
    "deadline", "deadline_class", "finding_ids", "window_id", "starts_at", "ends_at",
    "exposure_days", "late_days", "miss", "remedies", "acceptance_id",
)  # fmt: skip


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _db_time(moment: dt.datetime | None, postgres: bool) -> Any:
    """As Django stores datetimes: aware for PostgreSQL, naive UTC text for SQLite."""
    if moment is None or postgres:
        return moment
    return str(moment.astimezone(dt.UTC).replace(tzinfo=None))


def _insert_items(plan: PatchPlan, result: PlanResult, pending: Mapping[str, int]) -> None:
    """One row per work item, set-based (``core.bulk``): ``bulk_create`` took 15 s for 20,000.
    The column names are the contract with ``PlanItem``; the plan tests read every one back."""
    pg = is_postgres()
    rows = (
        (
            plan.pk, p.item.key, p.item.kind, p.item.asset_id, p.item.service_id,
            p.item.component, p.item.effort_hours, p.item.weight, _db_time(p.item.deadline, pg),
            p.item.deadline_class, _json(p.item.finding_ids),
            p.occurrence.window.id if p.occurrence else None,
            _db_time(p.occurrence.starts_at if p.occurrence else None, pg),
            _db_time(p.occurrence.ends_at if p.occurrence else None, pg),
            p.exposure_days, p.late_days, p.miss, _json(p.remedies),
            pending.get(p.item.key) if p.miss else None,
        )
        for p in result.placements
    )  # fmt: skip
    insert_rows(PlanItem._meta.db_table, ITEM_COLUMNS, rows)


def plan_result_preview(*, horizon_days: int | None = None, method: str = "auto") -> PlanResult:
    """A plan computed but not stored (for what-if and previews)."""
    doc, _ = active_policy()
    return plan_compute(planning_input(doc, horizon_days=horizon_days), method=method)


def _item(item: PlanItem | int) -> PlanItem:
    pk = item if isinstance(item, int) else item.pk
    found = PlanItem.objects.select_for_update().filter(pk=pk).select_related("plan").first()
    if found is None:
        raise NotFound(f"plan item {pk} does not exist")
    return found


def plan_item_defer(
    *,
    actor: Person,
    item: PlanItem | int,
    justification: str = "",
    compensating_controls: str = "",
    until: dt.date | None = None,
) -> RiskAcceptance:
    """Turn a miss into an acceptance request with the plan's facts filled in for the signers."""
    _refuse_auditor(actor)
    with transaction.atomic():
        locked = _item(item)
        if not locked.miss:
            raise RuleViolation(f"plan item {locked.pk} meets its deadline; nothing to defer")
        if locked.plan.status != PlanStatus.CURRENT:
            raise RuleViolation(f"plan {locked.plan_id} is {locked.plan.status}; plan again")
        if locked.acceptance_id is not None:
            raise RuleViolation(f"plan item {locked.pk} already became RA-{locked.acceptance_id}")
        deferral = next((r for r in locked.remedies if r["kind"] == "deferral"), None)
        planned = locked.ends_at.date().isoformat() if locked.ends_at else "no window"
        end = until or (
            dt.date.fromisoformat(deferral["until"]) if deferral else locked.deadline.date()
        )
        facts = (
            f"Patch plan {locked.plan_id} ({locked.plan.method}) cannot meet the deadline of "
            f"{locked.key} ({len(locked.finding_ids)} finding(s), class {locked.deadline_class}): "
            f"deadline {locked.deadline.date().isoformat()}, earliest planned slot {planned}, "
            f"reason: {locked.get_miss_display()}. Deferral accepts "
            f"{locked.weight * max(locked.late_days, 0):.1f} weighted exposure-days "
            f"(weight {locked.weight:.2f}, {locked.late_days:.1f} days late)."
        )
        acceptance = acceptance_request(
            actor=actor,
            title=f"Plan {locked.plan_id}: defer {locked.key}"[:200],
            scope=ScopeKind.FINDINGS,
            finding_ids=list(locked.finding_ids),
            justification=f"{justification.strip()}\n\n{facts}".strip(),
            compensating_controls=compensating_controls,
            until=end,
        )
        locked.acceptance = acceptance
        locked.save(update_fields=["acceptance"])
        audit_record(
            actor=actor, verb="planning.miss_deferred", subject_type="plan_item",
            subject_id=locked.pk, after={"acceptance": acceptance.pk, "until": end.isoformat()},
        )  # fmt: skip
        return acceptance


def emergency_change_call(
    *,
    actor: Person,
    service: BusinessService,
    reason: str,
    when: dt.datetime | None = None,
    item: PlanItem | None = None,
    finding_ids: Sequence[int] = (),
) -> EmergencyChange:
    """Call an emergency change: only roles the policy names, at most N per service and month."""
    doc, _ = active_policy()
    rule = doc.planning.emergency
    if not actor.has_any_role(rule.roles):
        raise PermissionDenied(
            f"a {actor.get_role_display()} cannot call an emergency change "
            f"(policy: {', '.join(rule.roles)})"
        )
    if not reason.strip():
        raise InputError("say why the change cannot wait for a window", field="reason")
    moment = when or clock.now()
    month_start = moment.astimezone(dt.UTC).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    with transaction.atomic():
        BusinessService.objects.select_for_update().filter(pk=service.pk).first()
        used = EmergencyChange.objects.filter(
            service=service, scheduled_for__gte=month_start, scheduled_for__lt=next_month
        ).count()
        if used >= rule.max_per_month:
            raise RuleViolation(
                f"{service.slug} has used {used} of {rule.max_per_month} emergency changes "
                f"in {month_start:%Y-%m}"
            )
        change = EmergencyChange.objects.create(
            service=service, item_key=item.key if item else "",
            finding_ids=list(item.finding_ids) if item else list(finding_ids),
            reason=reason.strip(), scheduled_for=moment, called_at=clock.now(), called_by=actor,
            plan_item=item,
        )  # fmt: skip
        audit_record(
            actor=actor, verb="planning.emergency_called", subject_type="emergency_change",
            subject_id=change.pk,
            after={"service": service.slug, "when": moment.isoformat(),
                   "item": change.item_key, "used": used + 1, "max": rule.max_per_month},
        )  # fmt: skip
        return change
