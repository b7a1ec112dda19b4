"""The initiatives' policy section (``initiatives:``): how the radar weighs the signals that
customer-facing rollouts contribute (docs/initiatives.md, docs/tension.md).

Referenced by one field of ``PolicyDocument``; checked by ``check_initiatives``. The radar reads
every signal's tuning from ``tension.signals``; ``fold_initiative_signals`` puts these there for
each key that ``tension.signals`` leaves unset (``tension.signals.<key>`` stays the general
override, field by field).
"""

from __future__ import annotations

import msgspec

from detente.core.errors import InputError


class InitiativeSignal(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One radar signal of initiatives: its weight within its sub-index, and the values that
    normalise to 0 (healthy) and to 1 (red line)."""

    weight: float
    healthy: float = 0.0
    red_line: float = 3.0


def _signal(weight: float, red_line: float) -> InitiativeSignal:
    return InitiativeSignal(weight=weight, healthy=0.0, red_line=red_line)


class InitiativeSignals(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The four signals (docs/reference/signals.md); a key not listed here is refused."""

    # decision friction: phases not started within a day of their plan (count a month)
    initiatives_postponed: InitiativeSignal = msgspec.field(
        default_factory=lambda: _signal(0.15, 3.0)
    )
    # decision friction: phases paused by a breach or by hand (the guardrails working: light)
    phases_paused: InitiativeSignal = msgspec.field(default_factory=lambda: _signal(0.1, 4.0))
    # communication: thresholds renegotiated outside the record
    guardrails_changed_without_decision: InitiativeSignal = msgspec.field(
        default_factory=lambda: _signal(0.25, 2.0)
    )
    # relationship: one side stopped a rollout (one a month is the red line)
    rollouts_cancelled_after_objection: InitiativeSignal = msgspec.field(
        default_factory=lambda: _signal(0.3, 1.0)
    )


class InitiativesPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    signals: InitiativeSignals = msgspec.field(default_factory=InitiativeSignals)


def check_initiatives(section: InitiativesPolicy) -> None:
    for key in InitiativeSignals.__struct_fields__:
        tuning: InitiativeSignal = getattr(section.signals, key)
        record = f"initiatives.signals.{key}"
        if tuning.weight < 0:
            raise InputError("must not be negative", record=record, field="weight")
        if tuning.healthy == tuning.red_line:
            raise InputError("healthy and red_line must differ", record=record, field="red_line")


def initiative_signal_tuning(section: InitiativesPolicy) -> dict[str, InitiativeSignal]:
    return {key: getattr(section.signals, key) for key in InitiativeSignals.__struct_fields__}
