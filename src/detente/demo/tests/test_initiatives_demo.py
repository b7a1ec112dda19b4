"""The demo's MFA rollout: phase 1 done, phase 2 paused on a drop-off spike and resumed after a
go/no-go decision, phase 3 waiting for the CISO side; the metric history behind it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from detente.core import clock
from detente.demo.initiatives import build_initiatives_demo, demo_text
from detente.demo.org import PEOPLE
from detente.initiatives.models import Guardrail, MetricPoint, Phase, PhaseTransition
from detente.initiatives.selectors import initiative_detail
from detente.inventory.services import service_upsert
from detente.people.services import person_upsert

NOW = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)
DOCS = Path(__file__).resolve().parents[4] / "docs" / "examples" / "mfa-online-banking.yaml"


def test_the_docs_example_is_the_demo_file() -> None:
    assert DOCS.read_text() == demo_text()


@pytest.mark.django_db
def test_the_mfa_rollout_paused_at_phase_two_and_resumed_after_the_decision() -> None:
    clock.set_now(NOW)
    people = {email: person_upsert(name=n, email=email, role=role) for n, email, role in PEOPLE}
    service_upsert(slug="online-banking", name="Online Banking",
                   owner=people["owner.banking@demo.detente"])  # fmt: skip
    initiative = build_initiatives_demo(people)
    assert clock.now() == NOW  # the story's clock is put back

    phases = list(Phase.objects.filter(initiative=initiative).order_by("number"))
    assert [p.status for p in phases] == ["done", "resumed", "planned"]
    moves = [
        (t.phase.number, t.from_status, t.to_status, t.actor.email if t.actor else None)
        for t in PhaseTransition.objects.filter(phase__initiative=initiative)
    ]
    assert moves == [
        (1, "planned", "running", "cio@demo.detente"),
        (1, "running", "done", "ciso@demo.detente"),
        (2, "planned", "running", "cio@demo.detente"),
        (2, "running", "paused", None),
        (2, "paused", "resumed", "ciso@demo.detente"),
    ]
    pause = PhaseTransition.objects.get(to_status="paused")
    assert pause.at == dt.datetime(2026, 11, 12, 12, tzinfo=dt.UTC)  # spike 10:00 + 2 h window
    assert pause.reason.startswith("guardrail breached: Drop-off in the changed flow all 2 points")
    assert pause.decision is not None
    assert (pause.decision.status, pause.decision.chosen_option) == ("decided", 0)
    # 42 days of hourly points, four metrics.
    assert MetricPoint.objects.filter(initiative=initiative).count() == (42 * 24 + 1) * 4
    # Every guardrail of a phase that ran was judged on real points (none shows "not evaluated").
    for phase in phases[:2]:
        states = set(Guardrail.objects.filter(phase=phase).values_list("state", flat=True))
        assert states == {"healthy"}, phase
    pilot = Guardrail.objects.get(phase=phases[0], metric="support_tickets_per_1000")
    assert pilot.evaluated_at == phases[0].ended_at
    assert pilot.state_detail.startswith("24 points; latest ")  # a 1-day window of hourly points
    assert pilot.state_detail.endswith(", threshold 3 per_1000")
    detail = initiative_detail(initiative)
    assert (detail["current_phase"], detail["guardrails"], detail["risk"]["observed"]) == (
        2, "healthy", 17.0,
    )  # fmt: skip
    assert detail["phases"][2]["signatures"].keys() == {"cio"}
    # Every guardrail shows the latest value of its metric (a done phase: up to its end).
    for phase in detail["phases"]:
        for g in phase["guardrails"]:
            assert g["latest"] is not None, (phase["number"], g["metric"])
    pilot_end = phases[0].ended_at
    assert pilot_end is not None
    assert detail["phases"][0]["guardrails"][0]["latest"]["at"] == pilot_end.isoformat()
