"""Signals for the tension radar: period → value + evidence (the registry in ``tension`` imports
this module explicitly; weights start at 0 until the policy's ``tension.signals.<key>.weight``
gives them one).

Each function takes a half-open period ``[start, end)``:

- ``initiatives_postponed``: phases planned to start in the period that had not started a day
  after their planned start (or have not yet). Evidence: phase ids, initiative ids.
- ``phases_paused``: phases paused in the period, by a breach or by hand. Evidence: phase ids,
  go/no-go decisions; facts: how many by a guardrail breach.
- ``guardrails_changed_without_decision``: thresholds changed in the period without a decision
  record (only possible before both sponsors signed: the renegotiation happened outside the
  record). Evidence: guardrail ids.
- ``rollouts_cancelled_after_objection``: phases rolled back in the period without a decided
  go/no-go decision that chose to stop (one side stopped it). Evidence: phase ids.
"""

from __future__ import annotations

import datetime as dt

from detente.core import clock
from detente.core.radar import Reading, SignalMeta
from detente.decisions.models import DecisionStatus
from detente.initiatives.models import GuardrailChange, Phase, PhaseStatus, PhaseTransition

GRACE = dt.timedelta(days=1)
NO_GO = 1


def _day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def initiatives_postponed(start: dt.datetime, end: dt.datetime) -> Reading:
    now = clock.now()
    late = []
    for phase in Phase.objects.filter(
        planned_start__gte=_day(start), planned_start__lt=_day(end)
    ).order_by("id"):
        due = dt.datetime.combine(phase.planned_start, dt.time(), tzinfo=dt.UTC) + GRACE
        started = phase.started_at
        if (started is None and due <= now) or (started is not None and started > due):
            late.append(phase)
    return Reading(
        "initiatives_postponed",
        len(late),
        {"phases": [p.pk for p in late], "initiatives": sorted({p.initiative_id for p in late})},
    )


def phases_paused(start: dt.datetime, end: dt.datetime) -> Reading:
    rows = list(
        PhaseTransition.objects.filter(to_status=PhaseStatus.PAUSED, at__gte=start, at__lt=end)
        .order_by("at", "id")
        .values_list("phase_id", "decision_id", "actor_id")
    )
    return Reading(
        "phases_paused",
        len(rows),
        {
            "phases": [phase for phase, _, _ in rows],
            "decisions": [d for _, d, _ in rows if d is not None],
            "by_breach": sum(actor is None for _, _, actor in rows),
        },
    )


def guardrails_changed_without_decision(start: dt.datetime, end: dt.datetime) -> Reading:
    rows = list(
        GuardrailChange.objects.filter(
            decision__isnull=True, changed_at__gte=start, changed_at__lt=end
        )
        .order_by("changed_at", "id")
        .values_list("guardrail_id", flat=True)
    )
    return Reading("guardrails_changed_without_decision", len(rows), {"guardrails": rows})


def rollouts_cancelled_after_objection(start: dt.datetime, end: dt.datetime) -> Reading:
    rows = []
    for move in PhaseTransition.objects.filter(
        to_status=PhaseStatus.ROLLED_BACK, at__gte=start, at__lt=end
    ).select_related("decision"):
        agreed = (
            move.decision is not None
            and move.decision.status == DecisionStatus.DECIDED
            and move.decision.chosen_option == NO_GO
        )
        if not agreed:
            rows.append(move.phase_id)
    return Reading("rollouts_cancelled_after_objection", len(rows), {"phases": rows})


SIGNALS = (
    initiatives_postponed,
    phases_paused,
    guardrails_changed_without_decision,
    rollouts_cancelled_after_objection,
)

META: dict[str, SignalMeta] = {
    "initiatives_postponed": SignalMeta(
        "Initiatives postponed", "covert", "decision_friction",
        "phases planned to start in the period not started within a day of the plan (count)",
        ("phases", "initiatives"),
    ),
    "phases_paused": SignalMeta(
        "Rollout phases paused", "overt", "decision_friction",
        "initiative phases paused in the period, by a guardrail breach or by hand (count)",
        ("phases", "decisions"),
    ),
    "guardrails_changed_without_decision": SignalMeta(
        "Guardrails changed without a decision", "covert", "communication",
        "guardrail thresholds changed in the period without a decision record (count)",
        ("guardrails",),
    ),
    "rollouts_cancelled_after_objection": SignalMeta(
        "Rollouts cancelled after one side's objection", "overt", "relationship",
        "phases rolled back in the period without a decided no-go decision (count)",
        ("phases",),
    ),
}  # fmt: skip
