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


# A signal whose contribution moved by less than this many index points did not move the zone.
MOVED_AT = 0.05


def explain_change(
    history: Sequence[Mapping[str, Any]],
    *,
    period: str,
    index: float,
    zone: str,
    raw: str,
    signals: Sequence[Mapping[str, Any]],
    triggers: Sequence[Mapping[str, Any]],
    periods_to_step_down: int,
) -> dict[str, Any] | None:
    """Why the zone changed from the month before: None when it did not.

    ``history`` holds the unbroken run of preceding months' snapshots as mappings (period, index,
    zone, raw_zone, signals, triggers), oldest first; empty when there is none (the first month is
    explained against a green baseline with no signal, so a first month that opens amber or red
    says why too). A rise is explained against the month before; a step down against the last
    month whose own zone still held the old zone (hysteresis kept the zone since, so the signals
    that brought it down moved over those months, not only in the last one).

    The explanation names every signal whose contribution to the index moved (points before,
    after and the delta, the moves towards the new zone first, with this month's evidence
    records, or the baseline's for a signal that fell to nothing), the red lines and triggers
    that appeared or cleared (a trigger lifts the zone on its own), the index before and after,
    and how hysteresis bore on the change."""
    before = history[-1] if history else None
    previous_zone = before["zone"] if before is not None else "green"
    if zone == previous_zone:
        return None
    up = RANK[zone] > RANK[previous_zone]
    if not up:
        before = next(
            (h for h in reversed(history) if RANK[h["raw_zone"]] >= RANK[previous_zone]), before
        )
    earlier = {s["key"]: s for s in (before or {}).get("signals", [])}
    now = {s["key"]: s for s in signals}
    moved = []
    for key in [*now, *(k for k in earlier if k not in now)]:
        old, new = earlier.get(key), now.get(key)
        was = float(old["contribution"]) if old else 0.0
        is_ = float(new["contribution"]) if new else 0.0
        delta = round(is_ - was, 2)
        if abs(delta) < MOVED_AT:
            continue
        shown = new if new is not None and (is_ > 0 or old is None) else old
        assert shown is not None
        moved.append(
            {
                "key": key,
                "name": shown["name"],
                "sub_index": shown.get("sub_index"),
                "before": round(was, 2),
                "after": round(is_, 2),
                "delta": delta,
                "value_before": old.get("value") if old else None,
                "value_after": new.get("value") if new else None,
                "evidence": {k: v for k, v in (shown.get("evidence") or {}).items() if v},
            }
        )
    # Towards the new zone first: up, the biggest rises; down, the biggest falls.
    moved.sort(key=lambda m: (-m["delta"] if up else m["delta"], m["key"]))
    old_triggers = {t["key"]: t for t in (before or {}).get("triggers", [])}
    new_triggers = {t["key"]: t for t in triggers}
    index_before = float(before["index"]) if before is not None else 0.0
    if up:
        reason = "entered at once (the radar goes up without waiting)"
    else:
        reason = (
            f"stepped down after {periods_to_step_down} month(s) whose own zone was below "
            f"{previous_zone} (hysteresis)"
        )
    return {
        "period": period,
        "from_zone": previous_zone,
        "to_zone": zone,
        "direction": "up" if up else "down",
        "raw_zone": raw,
        "index_before": round(index_before, 1),
        "index_after": round(index, 1),
        "index_delta": round(index - index_before, 1),
        "signals": moved,
        "triggers_added": [dict(t) for k, t in new_triggers.items() if k not in old_triggers],
        "triggers_cleared": [dict(t) for k, t in old_triggers.items() if k not in new_triggers],
        "hysteresis": reason,
        "since": before["period"] if before is not None else None,
    }
