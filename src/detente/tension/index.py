"""The Détente Tension Index, pure: normalise signals, weigh sub-indices, zones and hysteresis.

No database here: the services hand in the readings, the red-line facts and the zone history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ZONES = ("green", "amber", "red")
RANK = {z: i for i, z in enumerate(ZONES)}


def normalise(value: float, healthy: float, red_line: float) -> float:
    """clip((x − h) ÷ (r − h), 0, 1): 0 at the healthy value, 1 at the red line."""
    if red_line == healthy:
        return 0.0
    return min(1.0, max(0.0, (value - healthy) / (red_line - healthy)))


@dataclass(frozen=True)
class Reading:
    key: str
    name: str
    tag: str
    sub_index: str | None
    formula: str
    value: float | None
    normalised: float | None
    weight: float
    evidence: dict[str, list[int]] = field(default_factory=dict)
    facts: dict[str, float] = field(default_factory=dict)
    contribution: float = 0.0  # points of the 0-100 index this signal accounts for

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "tag": self.tag,
            "sub_index": self.sub_index,
            "formula": self.formula,
            "value": None if self.value is None else round(self.value, 4),
            "normalised": None if self.normalised is None else round(self.normalised, 4),
            "weight": self.weight,
            "contribution": round(self.contribution, 2),
            "evidence": self.evidence,
            "facts": self.facts,
        }


def sub_indices(readings: Sequence[Reading], names: Sequence[str]) -> dict[str, float | None]:
    """Weighted mean of each sub-index's normalised signals; signals without input drop out."""
    out: dict[str, float | None] = {}
    for name in names:
        parts = [
            (r.weight, r.normalised)
            for r in readings
            if r.sub_index == name and r.normalised is not None and r.weight > 0
        ]
        total = sum(w for w, _ in parts)
        out[name] = sum(w * n for w, n in parts) / total if total > 0 else None
    return out


def combine(subs: Mapping[str, float | None], weights: Mapping[str, float]) -> float:
    """100 × Σ w·sub over the sub-indices that have input (weights renormalised)."""
    parts = [(weights.get(k, 0.0), v) for k, v in subs.items() if v is not None]
    total = sum(w for w, _ in parts)
    return round(100 * sum(w * v for w, v in parts) / total, 1) if total > 0 else 0.0


def contributions(
    readings: Sequence[Reading], subs: Mapping[str, float | None], weights: Mapping[str, float]
) -> list[Reading]:
    """Each reading with the index points it accounts for (they sum to the index)."""
    active = {k: weights.get(k, 0.0) for k, v in subs.items() if v is not None}
    total = sum(active.values())
    out = []
    for r in readings:
        points = 0.0
        if r.sub_index in active and r.normalised is not None and total > 0:
            inside = sum(
                x.weight
                for x in readings
                if x.sub_index == r.sub_index and x.normalised is not None and x.weight > 0
            )
            if inside > 0:
                points = 100 * active[r.sub_index] / total * r.weight / inside * r.normalised
        out.append(
            Reading(
                r.key, r.name, r.tag, r.sub_index, r.formula, r.value, r.normalised, r.weight,
                r.evidence, r.facts, points,
            )
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class Trigger:
    key: str
    label: str
    severity: str  # "amber": lifts to at least amber; "red": lifts to red on its own
    evidence: dict[str, list[int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "severity": self.severity,
            "evidence": self.evidence,
        }


def raw_zone(index: float, triggers: Sequence[Trigger], *, amber_at: float, red_at: float) -> str:
    """Red: index ≥ red_at, two red lines, or a red trigger. Amber: ≥ amber_at or any trigger."""
    red_lines = [t for t in triggers if t.key.startswith("red_line")]
    if index >= red_at or len(red_lines) >= 2 or any(t.severity == "red" for t in triggers):
        return "red"
    if index >= amber_at or triggers:
        return "amber"
    return "green"


def with_hysteresis(raw: str, history: Sequence[tuple[str, str]], *, periods: int) -> str:
    """Up at once; down only after ``periods`` consecutive periods whose raw zone is below.

    ``history`` holds (zone, raw zone) of the preceding periods, oldest first.
    """
    if not history:
        return raw
    current = history[-1][0]
    if RANK[raw] >= RANK[current]:
        return raw
    recent = [r for _, r in history[-(periods - 1) :]] if periods > 1 else []
    window = [*recent, raw]
    if len(window) < periods or any(RANK[r] >= RANK[current] for r in window):
        return current
    return max(window, key=lambda z: RANK[z])


def slope(values: Sequence[float]) -> float:
    """Least-squares slope per period of the last three values (0 with fewer than two)."""
    tail = list(values)[-3:]
    n = len(tail)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(tail) / n
    num = sum((i - mean_x) * (y - mean_y) for i, y in enumerate(tail))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return round(num / den, 2)
