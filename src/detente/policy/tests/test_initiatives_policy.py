"""The policy's ``initiatives:`` section: the radar weights of the initiatives' signals, set in
every pack, validated with the field named, and read by the radar through ``tension.signals``."""

from __future__ import annotations

import pytest

from detente.core.errors import InputError
from detente.policy.document import PACKS, SignalTuning, pack_text, parse_policy

KEYS = (
    "initiatives_postponed",
    "phases_paused",
    "guardrails_changed_without_decision",
    "rollouts_cancelled_after_objection",
)


@pytest.mark.parametrize("pack", list(PACKS))
def test_every_pack_sets_the_four_weights_and_the_radar_reads_them(pack: str) -> None:
    text = pack_text(pack)
    assert "\ninitiatives:\n  # How the radar weighs" in text
    doc = parse_policy(text)
    assert {k: doc.tension.signals[k] for k in KEYS} == {
        "initiatives_postponed": SignalTuning(weight=0.15, healthy=0.0, red_line=3.0),
        "phases_paused": SignalTuning(weight=0.1, healthy=0.0, red_line=4.0),
        "guardrails_changed_without_decision": SignalTuning(weight=0.25, healthy=0.0, red_line=2.0),
        "rollouts_cancelled_after_objection": SignalTuning(weight=0.3, healthy=0.0, red_line=1.0),
    }


def _with(section: str, tension: str = "") -> str:
    text = pack_text("bod-26-04")
    start = text.index("\ninitiatives:\n")
    end = text.index("\ntension:\n")
    text = text[:start] + "\n" + section + text[end:]
    if tension:
        text = text.replace("  signals: {}  # per signal key", f"  signals: {tension}  #", 1)
    return text


def test_a_pack_value_changed_reaches_the_radar_and_tension_signals_still_override() -> None:
    doc = parse_policy(_with(
        "initiatives:\n  signals:\n    phases_paused: {weight: 0.4, red_line: 6}\n",
        tension="{rollouts_cancelled_after_objection: {weight: 0.9}}",
    ))  # fmt: skip
    assert doc.tension.signals["phases_paused"] == SignalTuning(0.4, 0.0, 6.0)
    # Unset keys keep the schema's defaults (the same as the packs').
    assert doc.tension.signals["initiatives_postponed"] == SignalTuning(0.15, 0.0, 3.0)
    # tension.signals.<key> overrides field by field; the rest comes from initiatives.signals.
    assert doc.tension.signals["rollouts_cancelled_after_objection"] == SignalTuning(0.9, 0.0, 1.0)
    assert doc.initiatives.signals.phases_paused.weight == 0.4


@pytest.mark.parametrize(
    ("section", "tension", "message"),
    [
        ("initiatives:\n  signals:\n    phases_pausd: {weight: 0.1}\n", "",
         "policy.yaml, record $.initiatives.signals: Object contains unknown field `phases_pausd`"),
        ("initiatives:\n  signals:\n    phases_paused: {weight: -0.1}\n", "",
         "policy.yaml, record initiatives.signals.phases_paused, field 'weight': must not be "
         "negative"),
        ("initiatives:\n  signals:\n    phases_paused: {weight: heavy}\n", "",
         "policy.yaml, record $.initiatives.signals.phases_paused.weight: Expected `float`, got "
         "`str`"),
        ("initiatives:\n  signals:\n    phases_paused: {healthy: 1}\n", "",
         "policy.yaml, record $.initiatives.signals.phases_paused: Object missing required field "
         "`weight`"),
        ("initiatives:\n  signals:\n    phases_paused: {weight: 1, healthy: 2, red_line: 2}\n",
         "", "policy.yaml, record initiatives.signals.phases_paused, field 'red_line': healthy "
         "and red_line must differ"),
        ("initiatives:\n  signals: {}\n", "{phases_paused: {healthy: 4}}",
         "policy.yaml, record tension.signals.phases_paused: healthy and red_line must differ "
         "(with initiatives.signals)"),
    ],
)  # fmt: skip
def test_bad_weights_are_refused_naming_the_record(
    section: str, tension: str, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_policy(_with(section, tension), source="policy.yaml")
    assert str(caught.value) == message
