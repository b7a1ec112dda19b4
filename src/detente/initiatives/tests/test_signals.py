"""The radar signals initiatives contribute, and that the tension registry carries them."""

from __future__ import annotations

import datetime as dt

from detente.core import clock
from detente.decisions.services import decision_decide
from detente.initiatives import signals
from detente.initiatives.csvfile import Point
from detente.initiatives.models import Guardrail, Phase
from detente.initiatives.services import (
    guardrail_change_threshold,
    guardrails_evaluate,
    metrics_record,
    phase_pause,
    phase_rollback,
)
from detente.initiatives.tests.conftest import NOW, Org, create, started

H = dt.timedelta(hours=1)
START, END = dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def test_pauses_rollbacks_changes_and_postponements_are_counted(org: Org) -> None:
    initiative = create(org)
    second = Phase.objects.get(initiative=initiative, number=2)
    unsigned = Guardrail.objects.get(phase=second, metric="drop_off_rate")
    guardrail_change_threshold(actor=org.cio, guardrail=unsigned, threshold="6.5 %")
    first = started(org, initiative)
    metrics_record(actor=None, initiative=initiative, source="t", points=[
        Point("drop_off_rate", NOW + i * H, v) for i, v in enumerate([8.0, 8.5])
    ])  # fmt: skip
    clock.set_now(NOW + H)
    guardrails_evaluate()
    first.refresh_from_db()
    assert first.go_no_go is not None
    decision_decide(
        actor=org.ciso,
        record=first.go_no_go,
        decision="Go",
        chosen_option=0,
        why_blank="test record",
    )
    # The CIO side rolls back although the decision said go: one side's objection.
    phase_rollback(actor=org.cio, phase=first, reason="support desk overwhelmed")
    clock.set_now(dt.datetime(2026, 10, 25, tzinfo=dt.UTC))  # phase 2 was due on 19 October

    paused = signals.phases_paused(START, END)
    assert (paused.value, paused.evidence) == (
        1, {"phases": [first.pk], "decisions": [first.go_no_go.pk], "by_breach": 1},
    )  # fmt: skip
    cancelled = signals.rollouts_cancelled_after_objection(START, END)
    assert (cancelled.value, cancelled.evidence) == (
        1, {"phases": [first.pk], "initiatives": [initiative.pk], "cancelled": 0,
            "rolled_back_without_no_go": 1},
    )  # fmt: skip
    changed = signals.guardrails_changed_without_decision(START, END)
    assert (changed.value, changed.evidence) == (1, {"guardrails": [unsigned.pk]})
    postponed = signals.initiatives_postponed(START, END)
    assert (postponed.value, postponed.evidence) == (
        1, {"phases": [second.pk], "initiatives": [initiative.pk]},
    )  # fmt: skip
    assert signals.phases_paused(END, END + dt.timedelta(days=30)).value == 0


def test_a_no_go_rollback_is_agreed_not_an_objection(org: Org) -> None:
    phase = started(org, create(org))
    paused = phase_pause(actor=org.ciso, phase=phase, reason="fraud wave")
    assert paused.go_no_go is not None
    decision_decide(
        actor=org.cio,
        record=paused.go_no_go,
        decision="Stop",
        chosen_option=1,
        why_blank="test record",
    )
    phase_rollback(actor=org.cio, phase=phase, reason="agreed")
    assert signals.rollouts_cancelled_after_objection(START, END).value == 0
