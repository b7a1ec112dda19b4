"""Signals for the tension radar (ready for its registry): period → value + evidence.

Each function takes a half-open period ``[start, end)`` and returns a ``Reading`` (``core.radar``):

- ``deadlines_missed_for_capacity``: work items of the current plan whose deadline falls in the
  period and which the plan cannot meet although a window existed (miss reason ``capacity``).
  Value: their number. Evidence: plan, item keys, finding count.
- ``emergency_changes_forced``: emergency changes scheduled in the period. Value: their number.
  Evidence: ids, services, whether a plan miss forced them.
- ``deferrals_made_necessary``: acceptance requests created in the period from plan misses
  (``plan item → acceptance``). Value: their number. Evidence: acceptance ids and statuses.
"""

from __future__ import annotations

import datetime as dt

from detente.core.radar import Reading, SignalMeta
from detente.planning.models import EmergencyChange, MissReason, PlanItem
from detente.planning.selectors import plan_current


def deadlines_missed_for_capacity(start: dt.datetime, end: dt.datetime) -> Reading:
    plan = plan_current()
    if plan is None:
        return Reading("deadlines_missed_for_capacity", 0, {"plan": None})
    rows = list(
        plan.work.filter(miss=MissReason.CAPACITY, deadline__gte=start, deadline__lt=end)
        .order_by("deadline", "id")
        .values_list("key", "finding_ids")
    )
    return Reading(
        "deadlines_missed_for_capacity",
        len(rows),
        {
            "plan": plan.pk,
            "items": [key for key, _ in rows[:100]],
            "findings": sum(len(ids) for _, ids in rows),
        },
    )


def emergency_changes_forced(start: dt.datetime, end: dt.datetime) -> Reading:
    rows = list(
        EmergencyChange.objects.filter(scheduled_for__gte=start, scheduled_for__lt=end)
        .order_by("scheduled_for", "id")
        .values_list("id", "service__slug", "plan_item_id")
    )
    return Reading(
        "emergency_changes_forced",
        len(rows),
        {
            "changes": [pk for pk, _, _ in rows],
            "services": sorted({slug for _, slug, _ in rows}),
            "from_plan_misses": sum(item is not None for _, _, item in rows),
        },
    )


def deferrals_made_necessary(start: dt.datetime, end: dt.datetime) -> Reading:
    rows = list(
        PlanItem.objects.filter(
            acceptance__isnull=False,
            acceptance__created_at__gte=start,
            acceptance__created_at__lt=end,
        )
        .order_by("acceptance_id")
        .values_list("acceptance_id", "acceptance__status", "key")
    )
    return Reading(
        "deferrals_made_necessary",
        len(rows),
        {"acceptances": [{"id": a, "status": s, "item": k} for a, s, k in rows]},
    )


SIGNALS = (deadlines_missed_for_capacity, emergency_changes_forced, deferrals_made_necessary)

META: dict[str, SignalMeta] = {
    "deadlines_missed_for_capacity": SignalMeta(
        "Deadlines missed for capacity", "covert", "risk_debt",
        "work items of the current plan due in the period that no window can meet (count)",
        ("items",),
    ),
    "emergency_changes_forced": SignalMeta(
        "Emergency changes forced", "overt", "risk_debt",
        "emergency changes scheduled in the period (count)",
        ("changes", "services"),
    ),
    "deferrals_made_necessary": SignalMeta(
        "Deferrals made necessary by the plan", "covert", "risk_debt",
        "acceptance requests created in the period from plan misses (count)",
        ("acceptances",),
    ),
}  # fmt: skip
