"""The signal registry: every signal the radar computes, declared once.

A signal has a key, a name, an overt/covert tag, the sub-index it feeds, a documented formula, the
kinds of evidence its values carry, and default thresholds (``healthy`` normalises to 0,
``red_line`` to 1; the policy's ``tension.signals`` overrides them). The built-in signals'
formulas are in ``formulas.py`` and read through the data loader (``facts.py``).

Domains below this layer contribute signals through their ``<app>/signals.py`` (the contract is
``core.radar``: functions ``(start, end) -> Reading``, ``SIGNALS``, ``META``). They are listed in
``CONTRIBUTORS`` below by an explicit import, so the layer check sees each edge: contributing a
new domain is one import and one entry there. Contributed signals enter the index with weight 0
until the policy gives them one (``tension.signals.<key>.weight``): they are shown with their
evidence from day one, but do not move a calibrated index by being added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from detente.api_register import signals as api_register_signals
from detente.core.radar import Reading, SignalMeta, SubIndex, Tag
from detente.gates import signals as gate_signals
from detente.initiatives import signals as initiative_signals
from detente.planning import signals as planning_signals
from detente.policy.document import PolicyDocument
from detente.tension import formulas as f
from detente.tension.facts import EVIDENCE_LIMIT, PeriodContext
from detente.tension.formulas import SignalValue

SUB_INDICES: tuple[SubIndex, ...] = (
    "decision_friction",
    "risk_debt",
    "communication",
    "relationship",
)

# The domains that contribute signals (each module: SIGNALS and META, see ``core.radar``).
CONTRIBUTORS: tuple[ModuleType, ...] = (
    initiative_signals,
    planning_signals,
    gate_signals,
    api_register_signals,
)


@dataclass(frozen=True)
class Signal:
    key: str
    name: str
    tag: Tag
    sub_index: SubIndex | None  # None: shown and used by triggers, not weighted
    formula: str
    healthy: float
    red_line: float
    weight: float
    compute: Callable[[PeriodContext], SignalValue]
    evidence: tuple[str, ...] = ()  # the kinds of ids a value's evidence may carry
    source: str = "detente.tension"


BUILT_IN: tuple[Signal, ...] = (
    Signal("escalations", "Escalations beyond the leaders", "overt", "decision_friction",
           "decisions escalated to executive or facilitator level, trailing 91 days (count)",
           0.0, 3.0, 0.5, f.escalations, ("decisions",)),
    Signal("override_rate", "Outcomes against the CISO's recommendation", "overt",
           "decision_friction",
           "decided records with ciso_recommendation_followed = false ÷ decided records that say, "
           "trailing 91 days", 0.1, 0.5, 0.5, f.override_rate, ("decisions",)),
    Signal("acceptance_requests", "New acceptance requests", "covert", "risk_debt",
           "acceptances first requested in the period (renewals excluded)", 1.0, 6.0, 0.15,
           f.acceptance_requests, ("acceptances",)),
    Signal("acceptance_renewals", "Renewals per acceptance in force", "covert", "risk_debt",
           "mean renewal count of acceptances approved and in force at the period end "
           "(≥ 2 is chronic)", 0.5, 2.0, 0.15, f.acceptance_renewals, ("acceptances",)),
    Signal("expired_open", "Expired acceptances, risk still open", "covert", "risk_debt",
           "acceptances expired by the period end, not renewed, with a covered finding still "
           "open (count)", 0.0, 3.0, 0.2, f.expired_open, ("acceptances",)),
    Signal("overdue_findings", "Overdue remediation", "covert", "risk_debt",
           "findings open at the period end past their policy deadline and not under an "
           "acceptance in force ÷ findings open", 0.05, 0.5, 0.3, f.overdue_findings,
           ("findings",)),
    Signal("overdue_kev", "Overdue known-exploited, exposed", "covert", "risk_debt",
           "KEV-listed findings on exposed assets open past their deadline at the period end, "
           "not under an acceptance in force (count)", 0.0, 3.0, 0.2, f.overdue_kev,
           ("findings",)),
    Signal("briefing_latency", "Time to inform the CIO", "overt", "communication",
           "median over SEV1/SEV2 incidents declared in the trailing 91 days of (first CIO "
           "acknowledgement − declaration) ÷ policy first-brief time; unacknowledged count to the "
           "period end", 1.0, 3.0, 1.0, f.briefing_latency, ("incidents",)),
    Signal("coordination", "Relational coordination (pulse P1-P6)", "perception", "relationship",
           "mean of P1-P6 over both leaders; normalised (5 − mean) ÷ 4", 5.0, 1.0, 0.3,
           f.coordination, ("pulses",)),
    Signal("relationship_conflict", "Relationship conflict (pulse P8)", "perception",
           "relationship", "max of the two leaders' P8; normalised (x − 1) ÷ 4", 1.0, 5.0, 0.3,
           f.pulse_max("P8"), ("pulses",)),
    Signal("perception_gap", "Perception gap", "covert", "relationship",
           "mean |CIO − CISO| over P1-P9 and |guess − actual| on the meta items; normalised ÷ 4",
           0.0, 4.0, 0.2, f.perception_gap, ("pulses",)),
    Signal("downplay", "Pressure to downplay (pulse P10)", "covert", "relationship",
           "max of the two leaders' P10; normalised (x − 1) ÷ 4", 1.0, 5.0, 0.2, f.pulse_max("P10"),
           ("pulses",)),
    Signal("task_conflict", "Open disagreement (pulse P7)", "overt", None,
           "max of the two leaders' P7 (1 never … 5 very often); healthy when ≥ 2 with P8 ≤ 2; "
           "feeds the silence detector", 1.0, 5.0, 0.0, f.pulse_max("P7"), ("pulses",)),
    Signal("voice", "Voice (pulse P9)", "perception", None,
           "min of the two leaders' P9; ≤ 2 in two consecutive pulses is a red line", 5.0, 1.0,
           0.0, f.voice, ("pulses",)),
)  # fmt: skip


# ----------------------------------------------------------------------------- contributed


def _split_evidence(raw: dict[str, Any]) -> tuple[dict[str, list[int]], dict[str, float]]:
    """Lists of ids (or of dicts with an ``id``) are evidence; plain numbers are facts."""
    evidence: dict[str, list[int]] = {}
    facts: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            facts[key] = float(value)
        elif isinstance(value, list | tuple):
            ids = [v.get("id") if isinstance(v, dict) else v for v in value]
            evidence[key] = [int(i) for i in ids if isinstance(i, int)][:EVIDENCE_LIMIT]
    return evidence, facts


def contributed(
    function: Callable[[dt.datetime, dt.datetime], Reading], meta: SignalMeta | None, source: str
) -> Signal:
    """A contributed function as a registry entry (weight 0, thresholds 0 and 3 by default)."""
    key = function.__name__
    if meta is None:
        name = key.replace("_", " ").capitalize()
        meta = SignalMeta(name, "covert", None, function.__doc__ or "")

    def run(ctx: PeriodContext) -> SignalValue:
        got = function(ctx.start, ctx.end)
        evidence, facts = _split_evidence(dict(got.evidence or {}))
        return SignalValue(None if got.value is None else float(got.value), evidence, facts)

    return Signal(
        key, meta.name, meta.tag, meta.sub_index, meta.formula, 0.0, 3.0, 0.0, run,
        tuple(meta.evidence), source,
    )  # fmt: skip


def _from(module: ModuleType) -> list[Signal]:
    meta: dict[str, SignalMeta] = getattr(module, "META", {})
    return [
        contributed(function, meta.get(function.__name__), module.__name__)
        for function in getattr(module, "SIGNALS", ())
    ]


def _checked(signals: Sequence[Signal]) -> tuple[Signal, ...]:
    seen: set[str] = set()
    for signal in signals:
        if signal.key in seen:
            raise ValueError(f"signal {signal.key!r} is registered twice")
        seen.add(signal.key)
    return tuple(signals)


SIGNALS: tuple[Signal, ...] = _checked(
    [*BUILT_IN, *(signal for module in CONTRIBUTORS for signal in _from(module))]
)


# Apps above tension (e.g. ``detente.meetings``) cannot be listed in ``CONTRIBUTORS``: tension may
# not import them. Each registers its signals once, from its ``AppConfig.ready``.
_ABOVE: dict[str, Signal] = {}


def register(signal: Signal) -> Signal:
    """Register a signal of an app above tension (called from its ``AppConfig.ready``)."""
    known = next((s for s in SIGNALS if s.key == signal.key), None) or _ABOVE.get(signal.key)
    if known is not None and known is not signal:
        raise ValueError(f"signal {signal.key!r} is registered twice")
    _ABOVE[signal.key] = signal
    return signal


def registered() -> list[Signal]:
    """Every signal: built-in first, then the contributors' in ``CONTRIBUTORS`` order, then those
    of apps above tension in the order they registered."""
    return [*SIGNALS, *_ABOVE.values()]


def tuned(signal: Signal, doc: PolicyDocument) -> tuple[float, float, float]:
    """(weight, healthy, red_line) after the policy's overrides."""
    tuning = doc.tension.signals.get(signal.key)
    if tuning is None:
        return signal.weight, signal.healthy, signal.red_line
    return (
        signal.weight if tuning.weight is None else tuning.weight,
        signal.healthy if tuning.healthy is None else tuning.healthy,
        signal.red_line if tuning.red_line is None else tuning.red_line,
    )


def compute_all(
    ctx: PeriodContext, signals: Iterable[Signal] | None = None
) -> dict[str, SignalValue]:
    return {s.key: s.compute(ctx) for s in (signals if signals is not None else registered())}
