"""Tension radar signals, contributed like ``planning/signals.py``: period → value + evidence.

- ``gate_override_rate``: overrides made in the period ÷ gate runs blocked in the period (those
  later overridden included). ``None`` (no input) when nothing was blocked.
- ``gate_overrides_undecided``: overrides made in the period that had no confirming second
  signature by the period's end (pending, escalated or rejected). The radar's red line 4
  ("security gate overridden without decision") fires when it is above zero.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from detente.core.radar import Reading, SignalMeta
from detente.gates.models import GateDecision, GateOverride, GateRun, OverrideStatus


def gate_override_rate(start: dt.datetime, end: dt.datetime) -> Reading:
    blocked = list(
        GateRun.objects.filter(
            started_at__gte=start,
            started_at__lt=end,
            decision__in=(GateDecision.BLOCKED, GateDecision.OVERRIDDEN),
        ).values_list("id", flat=True)
    )
    overrides = list(
        GateOverride.objects.filter(created_at__gte=start, created_at__lt=end)
        .order_by("id")
        .values_list("id", flat=True)
    )
    value = len(overrides) / len(blocked) if blocked else None
    return Reading(
        "gate_override_rate",
        value,
        {"overrides": overrides, "blocked_runs": blocked[:100], "blocked": len(blocked),
         "overridden": len(overrides)},
    )  # fmt: skip


def gate_overrides_undecided(start: dt.datetime, end: dt.datetime) -> Reading:
    confirmed_in_time = Q(status=OverrideStatus.CONFIRMED, second_signed_at__lt=end)
    rows = list(
        GateOverride.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(confirmed_in_time)
        .order_by("id")
        .values_list("id", "run_id", "decision_id", "uncovered_critical")
    )
    return Reading(
        "gate_overrides_undecided",
        len(rows),
        {
            "overrides": [pk for pk, _, _, _ in rows],
            "runs": [run for _, run, _, _ in rows],
            "decisions": [d for _, _, d, _ in rows],
            "uncovered_critical": sum(c for _, _, _, c in rows),
        },
    )


SIGNALS = (gate_override_rate, gate_overrides_undecided)

META: dict[str, SignalMeta] = {
    "gate_override_rate": SignalMeta(
        "Release-gate override rate", "overt", "decision_friction",
        "gate overrides made in the period ÷ gate runs blocked in the period",
        ("overrides", "blocked_runs"),
    ),
    "gate_overrides_undecided": SignalMeta(
        "Gate overrides without a decision", "covert", "decision_friction",
        "overrides in the period without a confirming second signature by its end (red line 4)",
        ("overrides", "runs", "decisions"),
    ),
}  # fmt: skip
