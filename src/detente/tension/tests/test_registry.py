"""The signal registry: declared once, contributors listed explicitly, evidence kinds declared."""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import pytest

from detente.core import clock
from detente.core.radar import Reading, SignalMeta
from detente.policy.services import active_policy
from detente.tension import registry
from detente.tension.facts import PeriodContext
from detente.tension.period import Period


def test_every_signal_declares_the_kinds_of_its_evidence() -> None:
    assert all(s.evidence for s in registry.registered()), [
        s.key for s in registry.registered() if not s.evidence
    ]


@pytest.mark.parametrize("module", registry.CONTRIBUTORS, ids=lambda m: m.__name__)
def test_each_contributor_describes_each_of_its_signals(module: ModuleType) -> None:
    functions = {f.__name__ for f in module.SIGNALS}
    assert functions, "a contributor without signals should not be listed"
    assert set(module.META) == functions
    assert all(isinstance(meta, SignalMeta) for meta in module.META.values())
    by_key = {s.key: s for s in registry.SIGNALS}
    for key, meta in module.META.items():
        entry = by_key[key]
        assert (entry.name, entry.evidence, entry.source) == (
            meta.name, meta.evidence, module.__name__,
        )  # fmt: skip
        assert entry.weight == 0.0  # a contribution moves the index only when the policy says


def test_a_contributed_function_without_a_description_still_shows() -> None:
    def late_things(start: dt.datetime, end: dt.datetime) -> Reading:
        """things late in the period (count)"""
        return Reading("late_things", 2, {"things": [3, 4], "oldest_days": 9})

    entry = registry.contributed(late_things, None, "tests")
    assert (entry.key, entry.name, entry.formula) == (
        "late_things", "Late things", "things late in the period (count)",
    )  # fmt: skip


def test_a_key_registered_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        registry._checked([registry.BUILT_IN[0], registry.BUILT_IN[0]])


@pytest.mark.django_db
def test_on_an_empty_organisation_values_carry_only_declared_evidence() -> None:
    clock.set_now(dt.datetime(2026, 3, 10, tzinfo=dt.UTC))
    doc, _ = active_policy()
    ctx = PeriodContext(Period(2026, 2), doc)
    values = registry.compute_all(ctx)
    assert set(values) == {s.key for s in registry.registered()}
    for signal in registry.registered():
        assert set(values[signal.key].evidence) <= set(signal.evidence), signal.key
