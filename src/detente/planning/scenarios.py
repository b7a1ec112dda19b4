"""What-if: change the planning input, plan again, and compare with the baseline (pure).

Scenario specs (the CLI's ``--scenario``):

- ``defer:CLASS:DAYS`` — no work on items of deadline class CLASS before now + DAYS
  ("defer every 60-day item four weeks": ``defer:60d:28``);
- ``freeze:START:END`` — a global blackout over the days START..END inclusive (UTC dates)
  ("freeze the last two weeks of December": ``freeze:2026-12-18:2026-12-31``);
- ``add-window:SERVICE[:RRULE]`` — one more window for SERVICE (slug), weekly by default, at the
  time, length and capacity of the service's first window (Saturday 02:00 UTC, 4 h, 4 slots when
  it has none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from detente.core.errors import InputError
from detente.planning.occurrences import BlackoutSpec, WindowSpec
from detente.planning.planner import PlanningInput, plan_compute


@dataclass(frozen=True, slots=True)
class Scenario:
    label: str
    apply: Callable[[PlanningInput], None]


def parse(spec: str, *, services: Mapping[str, int]) -> Scenario:
    parts = spec.strip().split(":", maxsplit=2)
    kind = parts[0]
    if kind == "defer" and len(parts) == 3:
        cls, days_text = parts[1], parts[2]
        try:
            days = int(days_text)
        except ValueError:
            raise InputError(f"not a number of days: {days_text!r}", field="scenario") from None

        def defer(data: PlanningInput) -> None:
            moment = data.now + dt.timedelta(days=days)
            data.items = [
                replace(item, not_before=moment) if item.deadline_class == cls else item
                for item in data.items
            ]

        return Scenario(f"defer {cls} items {days} days", defer)
    if kind == "freeze" and len(parts) == 3:
        try:
            first, last = dt.date.fromisoformat(parts[1]), dt.date.fromisoformat(parts[2])
        except ValueError:
            raise InputError("freeze:START:END with ISO dates", field="scenario") from None
        if last < first:
            raise InputError("the freeze ends before it starts", field="scenario")

        def freeze(data: PlanningInput) -> None:
            data.blackouts.append(
                BlackoutSpec(
                    starts_at=dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC),
                    ends_at=dt.datetime.combine(last, dt.time(), tzinfo=dt.UTC)
                    + dt.timedelta(days=1),
                    service_id=None,
                    reason=f"what-if freeze {first}..{last}",
                )
            )

        return Scenario(f"freeze {first}..{last}", freeze)
    if kind == "add-window" and len(parts) >= 2:
        slug = parts[1]
        if slug not in services:
            raise InputError(f"unknown service {slug!r}", field="scenario")
        service_id = services[slug]
        rule = parts[2] if len(parts) == 3 else "FREQ=WEEKLY"

        def add(data: PlanningInput) -> None:
            template = next((w for w in data.windows if w.service_id == service_id), None)
            today = data.now.date()
            data.windows.append(
                replace(template, id=-len(data.windows) - 1, name="what-if window", rrule=rule,
                        starts_on=today)
                if template
                else WindowSpec(
                    id=-len(data.windows) - 1, service_id=service_id, name="what-if window",
                    rrule=rule if "BYDAY" in rule else f"{rule};BYDAY=SA", starts_on=today,
                    start_time=dt.time(2, 0), timezone="UTC", duration_minutes=240,
                    capacity=4, in_slots=True,
                )
            )  # fmt: skip

        return Scenario(f"add window {slug} ({rule})", add)
    raise InputError(
        f"unknown scenario {spec!r}; use defer:CLASS:DAYS, freeze:START:END or "
        "add-window:SERVICE[:RRULE]",
        field="scenario",
    )


def compare(
    data: PlanningInput, scenarios: list[Scenario], *, method: str = "auto"
) -> list[tuple[str, dict[str, Any]]]:
    """The baseline's metrics, then each scenario's (each applied alone to the baseline)."""
    results = [("baseline", plan_compute(data.copy(), method=method).metrics())]
    for scenario in scenarios:
        changed = data.copy()
        scenario.apply(changed)
        results.append((scenario.label, plan_compute(changed, method=method).metrics()))
    return results
