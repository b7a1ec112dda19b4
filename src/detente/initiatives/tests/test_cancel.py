"""Cancelled after objection: a leader objects and the rollout stops, this phase and every later
one; recorded, audited, told to both leaders, counted by the radar, shown on every interface."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.initiatives import selectors, signals
from detente.initiatives.models import Phase, PhaseTransition
from detente.initiatives.services import phase_cancel, phase_complete, phase_pause
from detente.initiatives.tests.conftest import Org, create, started
from detente.notifications.models import OutboxMessage

START, END = dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def test_an_objection_to_a_paused_phase_cancels_it_and_every_later_phase(org: Org) -> None:
    initiative = create(org)
    first = started(org, initiative)
    phase_complete(actor=org.cio, phase=first)
    second = started(org, initiative, 2)
    paused = phase_pause(actor=org.cio, phase=second, reason="drop-off spike")
    outbox = OutboxMessage.objects.count()

    cancelled = phase_cancel(actor=org.ciso, phase=paused, reason="  Fraud team needs a redesign ")
    assert cancelled.status == "cancelled"
    assert cancelled.ended_at == clock.now()
    assert list(
        Phase.objects.filter(initiative=initiative)
        .order_by("number")
        .values_list("status", flat=True)
    ) == ["done", "cancelled"]
    move = PhaseTransition.objects.filter(phase=second).last()
    assert move is not None
    assert (move.from_status, move.to_status, move.actor, move.reason, move.facts) == (
        "paused", "cancelled", org.ciso, "Fraud team needs a redesign", {"objection": "ciso"},
    )  # fmt: skip
    assert move.decision_id == paused.go_no_go_id  # the open go/no-go is named with it
    event = AuditEvent.objects.filter(verb="initiative.phase_cancelled").get()
    assert (event.subject_id, event.before, (event.after or {}).get("reason")) == (
        str(second.pk), {"status": "paused"}, "Fraud team needs a redesign",
    )  # fmt: skip
    told = OutboxMessage.objects.all()[outbox:]
    assert {m.event for m in told} == {"initiative.cancelled"}
    assert selectors.objection(initiative) == {
        "at": clock.now().isoformat(), "phase": 2, "by": "ciso@example.org", "side": "ciso",
        "reason": "Fraud team needs a redesign",
    }  # fmt: skip
    assert selectors.next_decision(selectors.current_phase(initiative)) == "none"
    signal = signals.rollouts_cancelled_after_objection(START, END)
    assert (signal.value, signal.evidence) == (
        1, {"phases": [second.pk], "initiatives": [initiative.pk], "cancelled": 1,
            "rolled_back_without_no_go": 0},
    )  # fmt: skip
    with pytest.raises(RuleViolation, match="is cancelled; it cannot be cancelled"):
        phase_cancel(actor=org.cio, phase=second, reason="again")


def test_an_objection_before_the_start_cancels_the_planned_phases_not_postponed(org: Org) -> None:
    initiative = create(org)
    first = Phase.objects.get(initiative=initiative, number=1)
    phase_cancel(actor=org.cio, phase=first, reason="not this quarter")
    moves = list(PhaseTransition.objects.order_by("phase__number").values_list(
        "phase__number", "from_status", "to_status", "reason", "facts"))  # fmt: skip
    assert moves == [
        (1, "planned", "cancelled", "not this quarter", {"objection": "cio"}),
        (2, "planned", "cancelled", "cancelled with phase 1: not this quarter",
         {"objection": "cio", "with_phase": 1}),
    ]  # fmt: skip
    assert AuditEvent.objects.filter(verb="initiative.phase_cancelled").count() == 2
    # One objection counts once; phases cancelled before their start are not "postponed".
    clock.set_now(dt.datetime(2026, 10, 25, tzinfo=dt.UTC))
    assert signals.rollouts_cancelled_after_objection(START, END).value == 1
    assert signals.initiatives_postponed(START, END).value == 0


def test_who_may_object_and_a_refusal_changes_nothing(org: Org) -> None:
    phase = started(org, create(org))
    events = AuditEvent.objects.count()
    for person in (org.lead, org.engineer, org.auditor, org.it_lead):
        with pytest.raises(PermissionDenied, match="sponsors, the CIO or the CISO"):
            phase_cancel(actor=person, phase=phase, reason="no")
    with pytest.raises(InputError, match="an objection says why"):
        phase_cancel(actor=org.cio, phase=phase, reason=" ")
    assert AuditEvent.objects.count() == events
    assert set(Phase.objects.values_list("status", flat=True)) == {"running", "planned"}
