"""The phase workflow: the transition table, signatures, the start gates, pause on breach with a
go/no-go decision, resume only through it, rollback, thresholds changed only through a decision —
and what every refusal leaves alone."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest

from detente.audit.models import AuditEvent
from detente.audit.services import audit_verify
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.decisions.models import DecisionRecord
from detente.decisions.services import decision_create, decision_decide
from detente.initiatives import services as svc
from detente.initiatives.csvfile import Point
from detente.initiatives.models import (
    ALLOWED,
    Guardrail,
    GuardrailChange,
    GuardrailSignature,
    Initiative,
    MetricPoint,
    Phase,
    PhaseStatus,
    PhaseTransition,
)
from detente.initiatives.services import _move
from detente.initiatives.tests.conftest import NOW, Org, create, ready, started
from detente.notifications.models import OutboxMessage

S = PhaseStatus
H = dt.timedelta(hours=1)


def _snapshot(phase: Phase) -> tuple[object, ...]:
    return (
        Phase.objects.filter(pk=phase.pk).values().get(),
        list(Guardrail.objects.filter(phase=phase).values().order_by("id")),
        AuditEvent.objects.count(),
        PhaseTransition.objects.count(),
        GuardrailSignature.objects.count(),
        GuardrailChange.objects.count(),
        DecisionRecord.objects.count(),
        OutboxMessage.objects.count(),
        MetricPoint.objects.count(),
    )


def _points(metric: str, values: list[float], *, start: dt.datetime) -> list[Point]:
    return [Point(metric, start + i * H, v) for i, v in enumerate(values)]


# ------------------------------------------------------------------ the transition table


@pytest.mark.parametrize(("start", "end"), list(itertools.product(S.values, S.values)))
def test_every_transition_is_allowed_or_refused_by_the_table(start: str, end: str) -> None:
    phase = Phase(pk=1, number=1, initiative_id=1, status=start)
    if end in ALLOWED[start]:
        _move(phase, end)
        assert phase.status == end
    else:
        with pytest.raises(RuleViolation):
            _move(phase, end)
        assert phase.status == start


def test_the_table_is_the_issue_s_lifecycle() -> None:
    assert {s: sorted(t) for s, t in ALLOWED.items()} == {
        "planned": ["cancelled", "running"],
        "running": ["cancelled", "done", "paused", "rolled_back"],
        "paused": ["cancelled", "resumed", "rolled_back"],
        "resumed": ["cancelled", "done", "paused", "rolled_back"],
        "rolled_back": [],
        "done": [],
        "cancelled": [],
    }


MOVES: dict[str, Callable[[Org, Phase], Phase]] = {
    S.RUNNING: lambda org, phase: svc.phase_start(actor=org.cio, phase=phase),
    S.PAUSED: lambda org, phase: svc.phase_pause(actor=org.cio, phase=phase, reason="by hand"),
    S.RESUMED: lambda org, phase: svc.phase_resume(actor=org.cio, phase=phase),
    S.ROLLED_BACK: lambda org, phase: svc.phase_rollback(actor=org.cio, phase=phase, reason="x"),
    S.DONE: lambda org, phase: svc.phase_complete(actor=org.cio, phase=phase),
    S.CANCELLED: lambda org, phase: svc.phase_cancel(actor=org.cio, phase=phase, reason="no"),
}


@pytest.mark.parametrize(("start", "end"), list(itertools.product(S.values, MOVES)))
def test_a_refused_move_changes_nothing_in_the_database(org: Org, start: str, end: str) -> None:
    if end in ALLOWED[start]:
        pytest.skip("allowed")
    phase = ready(org, create(org))
    Phase.objects.filter(pk=phase.pk).update(status=start)
    before = _snapshot(phase)
    with pytest.raises(RuleViolation):
        MOVES[end](org, phase)
    assert _snapshot(phase) == before


# ------------------------------------------------------------------ create and sign


def test_create_writes_phases_guardrails_and_an_audit_event(org: Org) -> None:
    initiative = create(org)
    assert (initiative.cio_sponsor, initiative.ciso_sponsor) == (org.cio, org.ciso)
    assert list(initiative.services.all()) == [org.service]
    phases = list(Phase.objects.filter(initiative=initiative).order_by("number"))
    assert [(p.number, p.status, p.share) for p in phases] == [(1, "planned", 5.0),
                                                              (2, "planned", 25.0)]  # fmt: skip
    assert list(
        Guardrail.objects.filter(phase=phases[1]).order_by("id").values_list("metric", "threshold")
    ) == [("login_success_rate", 97.0), ("drop_off_rate", 7.0), ("latency_p95", 1200.0)]
    event = AuditEvent.objects.get(verb="initiative.created")
    assert (event.subject_id, event.after) == (
        str(initiative.pk),
        {"title": "MFA for online-banking customers", "phases": 2, "source": "mfa.yaml",
         "cio_sponsor": org.cio.pk, "ciso_sponsor": org.ciso.pk},
    )  # fmt: skip


def test_a_sponsor_must_stand_on_the_right_side(org: Org) -> None:
    text = (
        (create.__globals__["MFA"])
        .read_text()
        .replace("cio_side: cio@example.org", "cio_side: lead@example.org")
    )
    with pytest.raises(InputError) as caught:
        create(org, text)
    assert str(caught.value) == (
        "mfa.yaml, record sponsors, field 'cio_side': Lea Lead (Security lead) cannot sponsor "
        "the cio side (CIO, IT lead, Service owner)"
    )
    assert Initiative.objects.count() == 0


def test_each_sponsor_signs_their_own_side_once_and_nobody_else_signs(org: Org) -> None:
    phase = Phase.objects.get(initiative=create(org), number=1)
    before = _snapshot(phase)
    for outsider in (org.lead, org.engineer, org.auditor):
        with pytest.raises(PermissionDenied):
            svc.guardrails_sign(actor=outsider, phase=phase)
    assert _snapshot(phase) == before
    signature = svc.guardrails_sign(actor=org.cio, phase=phase)
    assert (signature.side, signature.person, signature.guardrails[0]["threshold"]) == (
        "cio", org.cio, 97.0,
    )  # fmt: skip
    with pytest.raises(RuleViolation, match="already signed"):
        svc.guardrails_sign(actor=org.cio, phase=phase)
    assert GuardrailSignature.objects.filter(phase=phase).count() == 1


def test_a_phase_starts_only_when_signed_by_both_with_its_comms_done(org: Org) -> None:
    initiative = create(org)
    phase = Phase.objects.get(initiative=initiative, number=1)
    svc.guardrails_sign(actor=org.cio, phase=phase)
    before = _snapshot(phase)
    with pytest.raises(RuleViolation) as caught:
        svc.phase_start(actor=org.cio, phase=phase)
    assert str(caught.value).endswith("guardrails not signed by the CISO side")
    svc.guardrails_sign(actor=org.ciso, phase=phase)
    before = _snapshot(phase)
    with pytest.raises(RuleViolation) as caught:
        svc.phase_start(actor=org.cio, phase=phase)
    assert str(caught.value).endswith("communications not done: 1. Pilot customers (e-mail)")
    assert _snapshot(phase) == before
    svc.comms_complete(actor=org.cio, phase=phase, item=1)
    svc.phase_start(actor=org.ciso, phase=phase)
    phase.refresh_from_db()
    assert (phase.status, phase.started_at) == ("running", NOW)


def test_phase_two_waits_for_phase_one_to_be_done(org: Org) -> None:
    initiative = create(org)
    started(org, initiative, 1)
    second = ready(org, initiative, 2)
    with pytest.raises(RuleViolation, match="phase 1 is running, not done"):
        svc.phase_start(actor=org.cio, phase=second)
    svc.phase_complete(actor=org.ciso, phase=Phase.objects.get(initiative=initiative, number=1))
    assert svc.phase_start(actor=org.cio, phase=second).status == "running"


def test_comms_items_are_ticked_by_their_owner_or_a_sponsor(org: Org) -> None:
    phase = Phase.objects.get(initiative=create(org), number=2)
    with pytest.raises(PermissionDenied):
        svc.comms_complete(actor=org.engineer, phase=phase, item=1)
    done = svc.comms_complete(actor=org.lead, phase=phase, item=1)
    assert (done.comms[0]["done_by"], done.comms[0]["done_at"]) == (
        "lead@example.org", NOW.isoformat(),
    )  # fmt: skip
    with pytest.raises(InputError, match="has 2 communication item"):
        svc.comms_complete(actor=org.cio, phase=phase, item=3)


# ------------------------------------------------------------------ breach, pause, go/no-go


def test_a_breach_over_the_window_pauses_the_phase_notifies_and_opens_a_decision(
    org: Org,
) -> None:
    initiative = create(org)
    phase = started(org, initiative)
    start = NOW
    svc.metrics_record(actor=org.cio, initiative=initiative, source="test", points=[
        *_points("login_success_rate", [98.5, 98.4, 96.1, 95.8], start=start),
        *_points("drop_off_rate", [4.1, 4.0, 4.2, 4.0], start=start),
        *_points("support_tickets_per_1000", [1.1], start=start),
    ])  # fmt: skip

    # One bad point between good ones is noise: the 2-hour window still holds a good point.
    report = svc.guardrails_evaluate(now=start + 2 * H)
    assert (report.guardrails, report.healthy, report.breached, report.paused) == (3, 3, 0, [])

    # At 03:00 the window (01:00, 03:00] holds 96.1 and 95.8: both below 97 %.
    outbox = OutboxMessage.objects.count()
    report = svc.guardrails_evaluate(now=start + 3 * H)
    assert (report.breached, report.paused) == (1, [phase.pk])
    phase.refresh_from_db()
    assert phase.status == "paused"
    login = Guardrail.objects.get(phase=phase, metric="login_success_rate")
    assert (login.state, login.state_detail) == (
        "breached", "all 2 points of the last 2 h below 97 % (worst 95.8 %)",
    )  # fmt: skip
    decision = phase.go_no_go
    assert decision is not None
    assert (decision.status, decision.pressure_point, decision.title) == (
        "open", "customer_change", "Go/no-go: MFA for online-banking customers, phase 1 paused",
    )  # fmt: skip
    assert [o["title"] for o in decision.options] == [
        "Go: resume phase 1", "No-go: roll phase 1 back",
    ]  # fmt: skip
    assert decision.options[0]["facts"] == [
        "Login success rate: all 2 points of the last 2 h below 97 % (worst 95.8 %); baseline "
        "98.6 %",
        "Phase 1 covers 5 % of users",
    ]
    assert (
        "account-takeover incidents per quarter: baseline 42, expected 6"
        in (decision.options[0]["business_benefit"])
    )
    transition = PhaseTransition.objects.get(phase=phase, to_status="paused")
    assert (transition.actor, transition.decision) == (None, decision)
    assert transition.facts["breached"][0]["series"] == [
        [(start + i * H).isoformat(), v] for i, v in enumerate([98.5, 98.4, 96.1, 95.8])
    ]
    messages = OutboxMessage.objects.filter(event="initiative.paused")
    assert sorted(messages.values_list("target", flat=True)) == [
        "cio@example.org", "ciso@example.org",
    ]  # fmt: skip
    assert OutboxMessage.objects.count() == outbox + 2
    audit_verify()

    # A paused phase is not evaluated again; the decision stays the one to take.
    assert svc.guardrails_evaluate(now=start + 4 * H).paused == []


def _paused(org: Org) -> Phase:
    initiative = create(org)
    phase = started(org, initiative)
    svc.metrics_record(actor=None, initiative=initiative, source="test",
                       points=_points("drop_off_rate", [9.0, 9.5, 11.0], start=NOW))  # fmt: skip
    svc.metrics_record(actor=None, initiative=initiative, source="test",
                       points=_points("login_success_rate", [98.0] * 3, start=NOW))  # fmt: skip
    clock.set_now(NOW + 2 * H)
    svc.guardrails_evaluate()
    phase.refresh_from_db()
    assert phase.status == "paused"
    return phase


def test_resume_needs_the_go_no_go_decision_decided_for_go(org: Org) -> None:
    phase = _paused(org)
    decision = phase.go_no_go
    assert decision is not None
    before = _snapshot(phase)
    with pytest.raises(RuleViolation, match=f"needs the go/no-go decision DR-{decision.pk}"):
        svc.phase_resume(actor=org.cio, phase=phase)
    assert _snapshot(phase) == before
    decision_decide(actor=org.cio, record=decision, decision="Go on with a clearer SMS text",
                    chosen_option=0, ciso_recommendation_followed=True,
                    why_blank="test record")  # fmt: skip
    with pytest.raises(PermissionDenied):
        svc.phase_resume(actor=org.lead, phase=phase)
    resumed = svc.phase_resume(actor=org.ciso, phase=phase)
    assert (resumed.status, resumed.go_no_go) == ("resumed", None)
    last = PhaseTransition.objects.filter(phase=phase).last()
    assert last is not None
    assert (last.to_status, last.decision, last.reason) == (
        "resumed", decision, "Go on with a clearer SMS text",
    )  # fmt: skip


def test_a_no_go_decision_refuses_resume_and_rollback_is_recorded(org: Org) -> None:
    phase = _paused(org)
    decision = phase.go_no_go
    assert decision is not None
    decision_decide(
        actor=org.ciso,
        record=decision,
        decision="Roll back",
        chosen_option=1,
        why_blank="test record",
    )
    with pytest.raises(RuleViolation, match="decided against going on"):
        svc.phase_resume(actor=org.cio, phase=phase)
    rolled = svc.phase_rollback(actor=org.cio, phase=phase, reason="drop-off too high")
    assert (rolled.status, rolled.ended_at) == ("rolled_back", NOW + 2 * H)
    last = PhaseTransition.objects.filter(phase=phase).last()
    assert last is not None
    assert (last.to_status, last.actor, last.reason, last.decision) == (
        "rolled_back", org.cio, "drop-off too high", decision,
    )  # fmt: skip
    assert OutboxMessage.objects.filter(event="initiative.rolled_back").count() == 2


def test_a_manual_pause_also_opens_a_decision(org: Org) -> None:
    phase = started(org, create(org))
    with pytest.raises(InputError):
        svc.phase_pause(actor=org.ciso, phase=phase, reason=" ")
    paused = svc.phase_pause(actor=org.ciso, phase=phase, reason="fraud wave on SMS codes")
    assert paused.status == "paused"
    assert paused.go_no_go is not None
    assert paused.go_no_go.question == (
        "Phase 1 (Pilot with staff and volunteers) paused: fraud wave on SMS codes. Resume or "
        "roll back?"
    )


# ------------------------------------------------------------------ metric unavailable


def test_silence_is_unavailable_never_healthy(org: Org) -> None:
    initiative = create(org)
    phase = started(org, initiative)
    svc.metrics_record(actor=None, initiative=initiative, source="test",
                       points=_points("login_success_rate", [98.0], start=NOW))  # fmt: skip
    report = svc.guardrails_evaluate(now=NOW + H)
    assert (report.healthy, report.unavailable, report.breached) == (0, 3, 0)
    states = dict(Guardrail.objects.filter(phase=phase).values_list("metric", "state_detail"))
    assert states == {
        "login_success_rate": "1 point(s) in the last 2 h; 2 needed",
        "drop_off_rate": "0 point(s) in the last 2 h; 2 needed",
        "support_tickets_per_1000": "0 point(s) in the last 24 h; 1 needed",
    }
    phase.refresh_from_db()
    assert phase.status == "running"


def test_a_failed_source_stays_unavailable_until_it_answers(org: Org) -> None:
    initiative = create(org)
    phase = started(org, initiative)
    svc.metrics_record(actor=None, initiative=initiative, source="test",
                       points=_points("login_success_rate", [98.0, 98.2], start=NOW))  # fmt: skip
    guardrail = Guardrail.objects.get(phase=phase, metric="login_success_rate")
    svc.guardrail_mark_unavailable(guardrail=guardrail, detail="prometheus: connection refused")
    svc.guardrails_evaluate(now=NOW + H)
    guardrail.refresh_from_db()
    assert (guardrail.state, guardrail.state_detail) == (
        "unavailable", "source: prometheus: connection refused",
    )  # fmt: skip


def test_metrics_refuse_unknown_metrics_and_duplicates_and_write_nothing(org: Org) -> None:
    initiative = create(org)
    with pytest.raises(InputError) as caught:
        svc.metrics_record(actor=None, initiative=initiative, source="push", points=[
            Point("login_success_rate", NOW, 98.0), Point("login_success_rate", NOW, 97.0),
        ])  # fmt: skip
    assert str(caught.value) == (
        "push, record points[1], field 'at': login_success_rate at 2026-10-05T08:00:00+00:00 "
        "appears twice"
    )
    with pytest.raises(InputError, match="guards no metric 'nps'"):
        svc.metrics_record(actor=None, initiative=initiative, source="push",
                           points=[Point("nps", NOW, 30.0)])  # fmt: skip
    assert MetricPoint.objects.count() == 0
    # The same time again replaces the value: uploads are idempotent.
    svc.metrics_record(actor=None, initiative=initiative, source="a",
                       points=[Point("drop_off_rate", NOW, 4.0)])  # fmt: skip
    svc.metrics_record(actor=None, initiative=initiative, source="b",
                       points=[Point("drop_off_rate", NOW, 4.5)])  # fmt: skip
    assert list(MetricPoint.objects.values_list("value", flat=True)) == [4.5]


# ------------------------------------------------------------------ thresholds


def _decided(org: Org, pressure_point: str = "customer_change") -> DecisionRecord:
    record = decision_create(
        actor=org.ciso, title="Relax drop-off for phase 1", pressure_point=pressure_point,
        question="Accept 8 % drop-off during the pilot?",
        options=[{"title": "Relax", "business_benefit": "pilot continues"}],
    )  # fmt: skip
    return decision_decide(
        actor=org.cio,
        record=record,
        decision="Relax to 8 %",
        chosen_option=0,
        why_blank="test record",
    )


def test_a_signed_threshold_changes_only_through_a_decided_decision(org: Org) -> None:
    phase = ready(org, create(org))
    guardrail = Guardrail.objects.get(phase=phase, metric="drop_off_rate")
    before = _snapshot(phase)
    with pytest.raises(RuleViolation, match="only through a decision record"):
        svc.guardrail_change_threshold(actor=org.cio, guardrail=guardrail, threshold="8 %")
    open_record = decision_create(
        actor=org.ciso, title="t", pressure_point="customer_change", question="q?",
        options=[{"title": "a", "business_benefit": "b"}],
    )  # fmt: skip
    before = _snapshot(phase)
    with pytest.raises(RuleViolation, match="is not decided yet"):
        svc.guardrail_change_threshold(actor=org.cio, guardrail=guardrail, threshold="8 %",
                                       decision=open_record)  # fmt: skip
    with pytest.raises(RuleViolation, match="not about a customer-facing change"):
        svc.guardrail_change_threshold(actor=org.cio, guardrail=guardrail, threshold="8 %",
                                       decision=_decided(org, "patching"))  # fmt: skip
    assert _snapshot(phase)[:2] == before[:2]
    assert GuardrailChange.objects.count() == 0
    with pytest.raises(InputError) as caught:
        svc.guardrail_change_threshold(actor=org.cio, guardrail=guardrail, threshold="8 ms",
                                       decision=_decided(org))  # fmt: skip
    assert str(caught.value) == (
        f"record guardrail {guardrail.pk}, field 'threshold': '8 ms' is in ms, this metric is "
        "measured in %"
    )
    decision = _decided(org)
    change = svc.guardrail_change_threshold(actor=org.cio, guardrail=guardrail, threshold="8 %",
                                            decision=decision)  # fmt: skip
    guardrail.refresh_from_db()
    assert (guardrail.threshold, change.old_threshold, change.decision) == (8.0, 7.0, decision)


def test_before_anyone_signs_a_sponsor_may_adjust_a_threshold(org: Org) -> None:
    phase = Phase.objects.get(initiative=create(org), number=1)
    guardrail = Guardrail.objects.get(phase=phase, metric="drop_off_rate")
    svc.guardrail_change_threshold(actor=org.ciso, guardrail=guardrail, threshold=6.5)
    guardrail.refresh_from_db()
    assert guardrail.threshold == 6.5
    with pytest.raises(PermissionDenied):
        svc.guardrail_change_threshold(actor=org.engineer, guardrail=guardrail, threshold=6)
