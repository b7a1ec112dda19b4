"""The tension registry carries the signals initiatives contribute (weight 0 until the policy
gives them one)."""

from __future__ import annotations

from detente.initiatives import signals
from detente.tension.signals import registered


def test_the_radar_registry_carries_the_initiative_signals() -> None:
    by_key = {s.key: s for s in registered()}
    for key in signals.META:
        assert by_key[key].source == "detente.initiatives.signals"
        assert (by_key[key].name, by_key[key].weight) == (signals.META[key][0], 0.0)
