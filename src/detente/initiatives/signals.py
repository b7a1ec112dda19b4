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
- ``rollouts_cancelled_after_objection``: rollouts cancelled in the period after a leader's
  objection (the phase moved to "cancelled after objection"; the later phases it took with it are
  not counted again), plus phases rolled back without a decided go/no-go decision that chose to
  stop (one side stopped it). Evidence: phase ids, initiative ids; facts: how many of each.

A period in which no rollout was in play (no initiative created before its end with a phase not
ended before its start) has no input: every signal's value is None, so the radar leaves them out
rather than reading "no initiative" as healthy.

The weights (and the healthy and red-line values) are policy: ``initiatives.signals`` in each
pack (docs/reference/policy.md).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from django.db.models import Q

from detente.core import clock
from detente.core.radar import Reading, SignalMeta
from detente.decisions.models import DecisionStatus
from detente.initiatives.models import GuardrailChange, Phase, PhaseStatus, PhaseTransition

GRACE = dt.timedelta(days=1)
NO_GO = 1


def _in_play(start: dt.datetime, end: dt.datetime) -> bool:
    return (
        Phase.objects.filter(initiative__created_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
        .exists()
    )


def _quiet(function: Callable[[dt.datetime, dt.datetime], Reading]) -> Callable[..., Reading]:
    """No rollout in play: no input (value None), whatever the count would say."""

    @functools.wraps(function)
    def signal(start: dt.datetime, end: dt.datetime) -> Reading:
        if not _in_play(start, end):
            return Reading(function.__name__, None, {})
        return function(start, end)

    return signal


def _day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


@_quiet
def initiatives_postponed(start: dt.datetime, end: dt.datetime) -> Reading:
    now = clock.now()
    late = []
    for phase in Phase.objects.filter(
        planned_start__gte=_day(start), planned_start__lt=_day(end)
    ).order_by("id"):
        due = dt.datetime.combine(phase.planned_start, dt.time(), tzinfo=dt.UTC) + GRACE
        started = phase.started_at
        if started is None and phase.ended_at is not None and phase.ended_at < due:
            continue  # cancelled before it was due to start: not postponed
        if (started is None and due <= now) or (started is not None and started > due):
            late.append(phase)
    return Reading(
        "initiatives_postponed",
        len(late),
        {"phases": [p.pk for p in late], "initiatives": sorted({p.initiative_id for p in late})},
    )


@_quiet
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


@_quiet
def guardrails_changed_without_decision(start: dt.datetime, end: dt.datetime) -> Reading:
    rows = list(
        GuardrailChange.objects.filter(
            decision__isnull=True, changed_at__gte=start, changed_at__lt=end
        )
        .order_by("changed_at", "id")
        .values_list("guardrail_id", flat=True)
    )
    return Reading("guardrails_changed_without_decision", len(rows), {"guardrails": rows})


@_quiet
def rollouts_cancelled_after_objection(start: dt.datetime, end: dt.datetime) -> Reading:
    cancelled: list[PhaseTransition] = []
    unagreed: list[PhaseTransition] = []
    for move in (
        PhaseTransition.objects.filter(
            to_status__in=(PhaseStatus.ROLLED_BACK, PhaseStatus.CANCELLED), at__gte=start,
            at__lt=end,
        )
        .select_related("decision", "phase")
        .order_by("at", "id")
    ):  # fmt: skip
        if move.to_status == PhaseStatus.CANCELLED:
            if "with_phase" not in move.facts:
                cancelled.append(move)
            continue
        agreed = (
            move.decision is not None
            and move.decision.status == DecisionStatus.DECIDED
            and move.decision.chosen_option == NO_GO
        )
        if not agreed:
            unagreed.append(move)
    rows = cancelled + unagreed
    return Reading(
        "rollouts_cancelled_after_objection",
        len(rows),
        {
            "phases": [m.phase_id for m in rows],
            "initiatives": sorted({m.phase.initiative_id for m in rows}),
            "cancelled": len(cancelled),
            "rolled_back_without_no_go": len(unagreed),
        },
    )


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
        "rollouts cancelled in the period after a leader's objection, plus phases rolled back "
        "without a decided no-go decision (count)",
        ("phases", "initiatives"),
    ),
}  # fmt: skip
