"""The tension registry carries the signals initiatives contribute; their weights come from the
policy (``initiatives.signals`` in every pack), not from code; a period without a rollout in play
leaves them out."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.initiatives import signals
from detente.policy.document import pack_text, parse_policy
from detente.tension.signals import registered, tuned


def test_the_radar_registry_carries_the_initiative_signals_weighted_by_the_pack() -> None:
    by_key = {s.key: s for s in registered()}
    doc = parse_policy(pack_text("bod-26-04"))
    for key in signals.META:
        assert by_key[key].source == "detente.initiatives.signals"
        assert by_key[key].name == signals.META[key][0]
        assert by_key[key].weight == 0.0  # nothing in code ...
        pack = getattr(doc.initiatives.signals, key)
        assert pack.weight > 0  # ... the pack weighs it
        assert tuned(by_key[key], doc) == (pack.weight, pack.healthy, pack.red_line)


@pytest.mark.django_db
def test_without_a_rollout_in_play_the_signals_have_no_input() -> None:
    start, end = dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for function in signals.SIGNALS:
        assert function(start, end).value is None, function.__name__
