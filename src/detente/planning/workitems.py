"""Work items: open findings grouped the way patching really happens.

- a container image (asset kind ``image``): one rebuild fixes every finding on the image;
- a host (asset kind ``host``): one patch run fixes every OS-package finding (one with a
  component); a host finding without a component (a setting, a weakness) is its own ``other`` item;
- any other asset: one package upgrade (asset + component) fixes every CVE that package carries;
  a finding without a component is its own ``other`` item.

Only open findings with a calendar deadline are planned; "fix on the next upgrade" has none.

Exposure weight of a finding (documented in docs/planning.md)::

    w = (30 / class_days) × (1 + 2·KEV) × (1 + 4·EPSS) × (1 if exposed else 0.5)

so a 30-day finding that is not in KEV, has EPSS 0 and is exposed weighs 1, a 3-day KEV finding
weighs 30 or more. An item weighs the sum of its findings' weights: fixing it removes them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FindingFacts:
    id: int
    asset_id: int
    asset_kind: str
    service_id: int | None
    component: str | None
    deadline: dt.datetime
    deadline_class: str
    kev: bool
    epss: float | None
    exposed: bool


@dataclass(slots=True)
class WorkItem:
    key: str
    kind: str  # package | image | host | other
    asset_id: int
    service_id: int | None
    component: str
    effort_hours: float
    deadline: dt.datetime
    deadline_class: str
    weight: float
    finding_ids: list[int] = field(default_factory=list)
    not_before: dt.datetime | None = None  # what-if deferrals: no work before this instant


def finding_weight(facts: FindingFacts, class_days: int) -> float:
    urgency = 30.0 / max(class_days, 1)
    kev = 3.0 if facts.kev else 1.0
    epss = 1.0 + 4.0 * (facts.epss or 0.0)
    exposed = 1.0 if facts.exposed else 0.5
    return urgency * kev * epss * exposed


def item_key(facts: FindingFacts) -> tuple[str, str, str]:
    """(key, kind, component) of the work item that fixes ``facts``."""
    component = facts.component or ""
    if facts.asset_kind == "image":
        return f"image:{facts.asset_id}", "image", ""
    if facts.asset_kind == "host" and component:
        return f"host:{facts.asset_id}", "host", ""
    if component:
        return f"package:{facts.asset_id}:{component}", "package", component
    return f"other:{facts.id}", "other", ""


def group(
    findings: Iterable[FindingFacts],
    *,
    class_days: Mapping[str, int | None],
    effort_hours: Mapping[str, float],
    overrides: Mapping[str, float] | None = None,
) -> list[WorkItem]:
    """Group findings into work items, heaviest first (ties: earliest deadline, then key)."""
    items: dict[str, WorkItem] = {}
    for facts in findings:
        days = class_days.get(facts.deadline_class)
        if days is None:
            continue
        key, kind, component = item_key(facts)
        weight = finding_weight(facts, days)
        item = items.get(key)
        if item is None:
            item = items[key] = WorkItem(
                key=key,
                kind=kind,
                asset_id=facts.asset_id,
                service_id=facts.service_id,
                component=component,
                effort_hours=(overrides or {}).get(key, effort_hours[kind]),
                deadline=facts.deadline,
                deadline_class=facts.deadline_class,
                weight=0.0,
            )
        item.weight += weight
        item.finding_ids.append(facts.id)
        if facts.deadline < item.deadline:
            item.deadline = facts.deadline
            item.deadline_class = facts.deadline_class
    return sorted(items.values(), key=lambda i: (-i.weight, i.deadline, i.key))
