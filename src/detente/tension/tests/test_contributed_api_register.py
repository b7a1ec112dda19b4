"""The API register contributes its three signals to the radar's registry."""

from __future__ import annotations

from detente.tension.signals import registered


def test_the_radar_registry_reads_the_api_register_signals() -> None:
    keys = {s.key: s.source for s in registered()}
    for name in ("apis_exposed_without_valid_test", "pentest_backlog_age",
                 "promotions_refused_then_forced"):  # fmt: skip
        assert keys[name] == "detente.api_register.signals"
