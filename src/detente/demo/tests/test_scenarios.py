"""The four scenarios, built through the real services, and what the radar says about each."""

from __future__ import annotations

import pytest

from detente.demo.scenarios import build_scenario
from detente.tension.models import TensionSnapshot
from detente.tension.signals import Period

pytestmark = pytest.mark.django_db
START = Period(2026, 1)


def _signal(snapshot: TensionSnapshot, key: str) -> dict[str, object]:
    return next(s for s in snapshot.signals if s["key"] == key)


def _zones(snapshots: list[TensionSnapshot]) -> list[str]:
    return [s.zone for s in snapshots]


def test_calm_stays_green_all_year() -> None:
    snapshots = build_scenario("calm", start=START)

    assert [s.period for s in snapshots] == [p.label for p in START.until(Period(2026, 12))]
    assert _zones(snapshots) == ["green"] * 12
    assert all(s.triggers == [] for s in snapshots)
    assert max(s.index for s in snapshots) < 10
    assert snapshots[0].actions["action"].startswith("Reinforce the five principles")


def test_simmering_reaches_amber_without_going_red() -> None:
    snapshots = build_scenario("simmering", start=START)

    zones = _zones(snapshots)
    assert zones[:2] == ["green", "green"]
    assert "amber" in zones
    assert "red" not in zones
    amber = next(s for s in snapshots if s.zone == "amber")
    assert 35 <= amber.index < 60
    assert amber.actions["action"].startswith("Structured decision meeting")
    assert amber.actions["agenda"]
    assert _signal(amber, "override_rate")["evidence"]["decisions"]  # type: ignore[index]


def test_overt_reaches_red() -> None:
    snapshots = build_scenario("overt", start=START)

    zones = _zones(snapshots)
    assert zones[0] == "green"
    assert "red" in zones
    red = next(s for s in snapshots if s.zone == "red")
    keys = {t["key"] for t in red.triggers}
    assert "red_line_5" in keys  # escalations to the executive
    assert red.actions["action"].startswith("Reset facilitated by an independent third party")
    assert red.actions["briefing_pack"]["top_signals"]
    assert any(t["key"] == "red_line_3" for s in snapshots for t in s.triggers)  # the late SEV1


def test_covert_is_caught_by_the_silence_detector() -> None:
    snapshots = build_scenario("covert", start=START)

    caught = [
        s for s in snapshots if s.zone != "green" and any(t["key"] == "silence" for t in s.triggers)
    ]
    assert caught
    first = caught[0]
    # The index alone would say green: no escalation, no override, no open disagreement.
    assert first.index < 35
    assert _signal(first, "task_conflict")["value"] == 1.0
    assert _signal(first, "perception_gap")["value"] is not None
    assert float(_signal(first, "perception_gap")["value"]) <= 0.25  # type: ignore[arg-type]
    assert _signal(first, "escalations")["value"] == 0.0
    assert first.sub_indices["risk_debt"] >= 0.5
    assert "What are we not saying?" in first.actions["agenda"][0]
