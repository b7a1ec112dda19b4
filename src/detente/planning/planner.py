"""From windows, blackouts and work items to a plan, its misses and their remedies (pure).

Times become days from the plan's start (``now``); the solver (``solver.py``) does the assignment.
Every number a user sees is defined here:

- exposure-days of an item: ``weight × days from now until its occurrence ends`` (unplanned
  items: until the horizon's end plus ``unplanned_extra_days``);
- a *miss*: an item planned after its deadline, or left unplanned with its deadline inside the
  horizon. Reason ``capacity`` when a usable occurrence of its service ends before the deadline
  (the room was taken), else ``no_window``;
- remedies of a miss, each with a cost in weighted exposure-day equivalents (policy
  ``planning.remedy_cost`` plus, for a deferral, the exposure it accepts: ``weight × late days``):
  an *emergency change* (if a role may call one and the service's monthly quota has room), an
  *extra window* before the deadline outside every blackout, or a *deferral* (an acceptance until
  the planned date, if policy allows deferring that class that long). The cheapest feasible one is
  recommended; emergency quota goes to the heaviest misses first.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from detente.planning.occurrences import (
    BlackoutSpec,
    Occurrence,
    WindowSpec,
    blocked,
    expand,
    zone,
)
from detente.planning.solver import Job, Problem, Slot, solve
from detente.planning.workitems import WorkItem

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Rules:
    """The policy numbers the planner needs (``PolicyDocument.planning`` and acceptances)."""

    horizon_days: int = 120
    late_factor: float = 10.0
    unplanned_extra_days: int = 30
    exact_max_pairs: int = 40_000
    solver_seconds: float = 10.0
    emergency_max_per_month: int = 2
    max_defer_days: Mapping[str, int] = field(default_factory=dict)
    remedy_cost: Mapping[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class PlanningInput:
    now: dt.datetime
    windows: list[WindowSpec]
    blackouts: list[BlackoutSpec]
    items: list[WorkItem]
    rules: Rules
    emergency_used: dict[tuple[int, str], int] = field(default_factory=dict)  # (service, YYYY-MM)

    def copy(self) -> PlanningInput:
        return PlanningInput(
            now=self.now,
            windows=list(self.windows),
            blackouts=list(self.blackouts),
            items=[replace(item, finding_ids=list(item.finding_ids)) for item in self.items],
            rules=self.rules,
            emergency_used=dict(self.emergency_used),
        )


@dataclass(slots=True)
class Placement:
    item: WorkItem
    occurrence: Occurrence | None
    exposure_days: float
    late_days: float
    miss: str  # "" | capacity | no_window
    remedies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def recommended(self) -> dict[str, Any] | None:
        return next((r for r in self.remedies if r["feasible"]), None)


@dataclass(slots=True)
class PlanResult:
    now: dt.datetime
    horizon_end: dt.datetime
    placements: list[Placement]
    usable: list[Occurrence]
    blocked: list[tuple[Occurrence, BlackoutSpec]]
    method: str
    optimal: bool
    objective: float
    seconds: float

    @property
    def misses(self) -> list[Placement]:
        return [p for p in self.placements if p.miss]

    def metrics(self) -> dict[str, Any]:
        misses = self.misses
        kinds = Counter((p.recommended or {"kind": "none"})["kind"] for p in misses)
        return {
            "items": len(self.placements),
            "planned": sum(p.occurrence is not None for p in self.placements),
            "missed": len(misses),
            "missed_findings": sum(len(p.item.finding_ids) for p in misses),
            "missed_for_capacity": sum(p.miss == "capacity" for p in misses),
            "exposure_days": round(sum(p.exposure_days for p in self.placements), 1),
            "objective": round(self.objective, 1),
            "acceptances_needed": kinds["deferral"],
            "emergency_changes": kinds["emergency_change"],
            "extra_windows": kinds["extra_window"],
            "no_remedy": kinds["none"],
            "method": self.method,
            "optimal": self.optimal,
        }


def _days(moment: dt.datetime, now: dt.datetime) -> float:
    return (moment - now).total_seconds() / DAY


def occurrences(
    data: PlanningInput,
) -> tuple[list[Occurrence], list[tuple[Occurrence, BlackoutSpec]]]:
    """Usable occurrences in the horizon, and those a blackout removes (with the blackout)."""
    end = data.now + dt.timedelta(days=data.rules.horizon_days)
    usable, removed = [], []
    for window in data.windows:
        for occurrence in expand(window, start=data.now, end=end):
            hit = blocked(occurrence, data.blackouts)
            if hit is None:
                usable.append(occurrence)
            else:
                removed.append((occurrence, hit))
    usable.sort(key=lambda o: (o.ends_at, o.window.id))
    return usable, removed


def plan_compute(data: PlanningInput, *, method: str = "auto") -> PlanResult:
    rules, now = data.rules, data.now
    usable, removed = occurrences(data)
    horizon = float(rules.horizon_days)
    jobs = [
        Job(
            group=item.service_id if item.service_id is not None else -1,
            effort=item.effort_hours,
            weight=item.weight,
            deadline=_days(item.deadline, now),
            not_before=max(0.0, _days(item.not_before, now)) if item.not_before else 0.0,
        )
        for item in data.items
    ]
    slots = [
        Slot(
            group=o.window.service_id,
            start=_days(o.starts_at, now),
            end=_days(o.ends_at, now),
            capacity=o.window.capacity,
            in_slots=o.window.in_slots,
        )
        for o in usable
    ]
    problem = Problem(
        jobs=jobs, slots=slots, horizon=horizon, late_factor=rules.late_factor,
        unplanned_extra=float(rules.unplanned_extra_days),
    )  # fmt: skip
    solution = solve(
        problem, method=method, max_pairs=rules.exact_max_pairs, seconds=rules.solver_seconds
    )
    # Where could each service have worked before a given day? (for the miss reason)
    ends_by_service: dict[int, list[Slot]] = {}
    for slot in slots:
        ends_by_service.setdefault(slot.group, []).append(slot)
    placements = []
    never = horizon + rules.unplanned_extra_days
    for j, item in enumerate(data.items):
        s = solution.assignment[j]
        job = jobs[j]
        end = slots[s].end if s is not None else never
        late = max(0.0, end - job.deadline)
        miss = ""
        if (s is not None and late > 0) or (s is None and job.deadline <= horizon):
            could = any(
                slot.end <= job.deadline and slot.start >= job.not_before
                and (slot.in_slots or slot.capacity >= job.effort)
                for slot in ends_by_service.get(job.group, ())
            )  # fmt: skip
            miss = "capacity" if could else "no_window"
        placements.append(
            Placement(
                item=item,
                occurrence=usable[s] if s is not None else None,
                exposure_days=job.weight * end,
                late_days=late if miss else 0.0,
                miss=miss,
            )
        )
    _remedies(data, placements)
    return PlanResult(
        now=now,
        horizon_end=now + dt.timedelta(days=rules.horizon_days),
        placements=placements,
        usable=usable,
        blocked=removed,
        method=solution.method,
        optimal=solution.optimal,
        objective=solution.objective,
        seconds=solution.seconds,
    )


def _extra_window_day(
    data: PlanningInput, item: WorkItem
) -> tuple[dt.datetime, dt.datetime] | None:
    """The latest start before ``item``'s deadline for an extra window outside every blackout,
    at the time of day (and length) of the service's first window, or 02:00 UTC for 4 hours."""
    template = next((w for w in data.windows if w.service_id == item.service_id), None)
    tz = zone(template.timezone) if template else dt.UTC
    at = template.start_time if template else dt.time(2, 0)
    length = dt.timedelta(minutes=template.duration_minutes if template else 240)
    earliest = max(data.now, item.not_before or data.now)
    day = item.deadline.astimezone(tz).date()
    while True:
        begins = dt.datetime.combine(day, at, tzinfo=tz)
        if begins < earliest:
            return None
        ends = begins + length
        probe = Occurrence(
            window=template or WindowSpec(
                id=0, service_id=item.service_id or -1, name="extra", rrule="FREQ=DAILY",
                starts_on=day, start_time=at, timezone="UTC", duration_minutes=240,
                capacity=1, in_slots=True,
            ),
            starts_at=begins,
            ends_at=ends,
        )  # fmt: skip
        if ends <= item.deadline and blocked(probe, data.blackouts) is None:
            return begins, ends
        day -= dt.timedelta(days=1)


def _remedies(data: PlanningInput, placements: list[Placement]) -> None:
    rules, now = data.rules, data.now
    cost = rules.remedy_cost
    used = Counter(data.emergency_used)
    horizon_end = now + dt.timedelta(days=rules.horizon_days + rules.unplanned_extra_days)
    for placement in sorted(
        (p for p in placements if p.miss), key=lambda p: (-p.item.weight, p.item.key)
    ):
        item = placement.item
        options: list[dict[str, Any]] = []
        # An emergency change the day before the deadline (or now, if that is later).
        when = max(now, item.deadline - dt.timedelta(days=1))
        month = (item.service_id or -1, when.strftime("%Y-%m"))
        left = rules.emergency_max_per_month - used[month]
        options.append({
            "kind": "emergency_change",
            "feasible": item.service_id is not None and left > 0 and item.deadline > now,
            "cost": round(cost.get("emergency_change", 20.0), 2),
            "when": when.isoformat(),
            "detail": f"{max(left, 0)} of {rules.emergency_max_per_month} left in {month[1]}",
        })  # fmt: skip
        extra = _extra_window_day(data, item)
        options.append({
            "kind": "extra_window",
            "feasible": extra is not None and item.service_id is not None,
            "cost": round(cost.get("extra_window", 5.0), 2),
            "when": extra[0].isoformat() if extra else None,
            "detail": (
                f"{item.effort_hours:g} engineer-hours before the deadline"
                if extra else "no time outside blackouts before the deadline"
            ),
        })  # fmt: skip
        until = placement.occurrence.ends_at if placement.occurrence else horizon_end
        until_day = until.astimezone(dt.UTC).date()
        days = (until_day - now.date()).days
        limit = rules.max_defer_days.get(item.deadline_class, 0)
        late = max(0.0, _days(until, now) - _days(item.deadline, now))
        options.append({
            "kind": "deferral",
            "feasible": 0 < days <= limit,
            "cost": round(cost.get("deferral", 0.0) + item.weight * late, 2),
            "until": until_day.isoformat(),
            "detail": f"{days} days; policy allows {limit} for class {item.deadline_class}",
        })  # fmt: skip
        options.sort(key=lambda r: (not r["feasible"], r["cost"]))
        placement.remedies = options
        chosen = placement.recommended
        if chosen is not None and chosen["kind"] == "emergency_change":
            used[month] += 1
