"""The regime registry: each regime declares its clocks once, and the registry is their order."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.incidents import clocks
from detente.incidents.clocks import dora, gdpr, nis2, sec
from detente.incidents.clocks.base import ClockSpec, Regime, Regimes, Run

AWARE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_the_registry_lists_each_regime_module_once_in_display_order() -> None:
    assert [r.name for r in clocks.REGIMES] == ["SEC", "GDPR", "NIS2", "DORA"]
    assert clocks.REGIMES == (sec.REGIME, gdpr.REGIME, nis2.REGIME, dora.REGIME)
    keys = [s.key for r in clocks.REGIMES for s in r.specs]
    assert list(clocks.CLOCKS) == keys
    assert len(set(keys)) == len(keys)


def test_a_regime_refuses_a_clock_that_names_another_regime() -> None:
    stray = ClockSpec("x_1", "OTHER", "x", "x")
    with pytest.raises(ValueError, match="declare another regime"):
        Regime(name="X", specs=(stray,), compute=lambda run: [], zone=lambda r: "UTC", sources="")


def test_due_times_are_shown_in_the_authority_zone_of_each_regime() -> None:
    regimes = Regimes(
        sec_registrant=True,
        gdpr_role="controller",
        us_timezone="America/Chicago",
        eu_timezone="Europe/Berlin",
    )
    facts = clocks.ClockFacts(aware_at=AWARE, personal_data=True)
    zones = {
        c.regime: clocks.display_zone(c, regimes)
        for c in clocks.compute_clocks(facts, regimes, AWARE)
    }
    assert zones == {
        "SEC": "America/Chicago",
        "GDPR": "Europe/Berlin",
        "NIS2": "Europe/Berlin",
        "DORA": "Europe/Berlin",
    }


def test_one_regime_computes_on_its_own_from_a_run() -> None:
    """A regime module is usable (and testable) alone: the run carries facts, profile and time."""
    run = Run.of(
        clocks.ClockFacts(aware_at=AWARE, nis2_significant=True),
        Regimes(nis2_entity="essential"),
        AWARE,
    )
    out = nis2.compute(run)
    assert [c.key for c in out] == [s.key for s in nis2.SPECS]
    assert out[0].due == AWARE + dt.timedelta(hours=24)
    assert all(c.regime == "NIS2" for c in out)
