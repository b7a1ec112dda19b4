"""The initiative file: YAML validated into typed, immutable objects (msgspec Structs), then checked
(cohorts within 100 %, every guardrail with a baseline, thresholds in the metric's unit).

Errors name the file, the entry (``phases[1].guardrails[0]``) and the field. Pure: no database.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

import msgspec
import yaml

from detente.core.errors import InputError

Quantity = str | float | int


@dataclass(frozen=True)
class MetricKind:
    label: str
    unit: str
    direction: str  # "below" or "above": the side of the threshold that breaches


# The guardrail metrics the issue names; anything else is ``metric: custom`` with a unit and a
# direction of its own.
KINDS: dict[str, MetricKind] = {
    "login_success_rate": MetricKind("Login success rate", "%", "below"),
    "drop_off_rate": MetricKind("Drop-off in the changed flow", "%", "above"),
    "support_tickets_per_1000": MetricKind(
        "Support tickets per 1,000 active users", "per_1000", "above"
    ),
    "conversion_rate": MetricKind("Conversion", "%", "below"),
    "latency_p95": MetricKind("Latency p95", "ms", "above"),
}
UNITS = ("%", "ms", "per_1000", "count", "ratio")
# Written units and the factor to the stored unit.
_ALIASES: dict[str, tuple[str, float]] = {
    "%": ("%", 1.0),
    "percent": ("%", 1.0),
    "ms": ("ms", 1.0),
    "s": ("ms", 1000.0),
    "per_1000": ("per_1000", 1.0),
    "per 1000": ("per_1000", 1.0),
    "‰": ("per_1000", 1.0),
    "count": ("count", 1.0),
    "ratio": ("ratio", 1.0),
}
_QUANTITY = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(.*?)\s*$")
_WINDOW = re.compile(r"^\s*(\d+)\s*(m|h|d)\s*$")
_METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Sponsors(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cio_side: str
    ciso_side: str


class Risk(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reduces: str
    baseline: float
    expected: float
    findings: list[int] = []
    threats: list[str] = []
    incident_types: list[str] = []


class CohortIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    share: Quantity
    segment: str = ""
    region: str = ""
    channel: str = ""


class GuardrailIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    metric: str
    baseline: Quantity
    threshold: Quantity
    window: str = "1h"
    action: Literal["pause", "notify"] = "pause"
    min_points: int = 2
    name: str = ""  # custom metrics: the series' key
    label: str = ""
    unit: str = ""  # custom metrics
    direction: Literal["below", "above"] | None = None  # custom metrics
    promql: str = ""


class CommsIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    audience: str
    message: str
    channel: str
    date: dt.date
    owner: str


class PhaseIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    cohorts: list[CohortIn]
    start: dt.date
    end: dt.date
    guardrails: list[GuardrailIn]
    entry_criteria: list[str] = []
    comms: list[CommsIn] = []


class InitiativeIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    title: str
    sponsors: Sponsors
    risk: Risk
    phases: list[PhaseIn]
    description: str = ""
    services: list[str] = []


# ------------------------------------------------------------------------- checked result


@dataclass(frozen=True)
class GuardrailSpec:
    metric: str
    label: str
    unit: str
    direction: str
    baseline: float
    threshold: float
    window_minutes: int
    min_points: int
    action: str
    promql: str


@dataclass(frozen=True)
class PhaseSpec:
    name: str
    cohorts: list[dict[str, object]]
    share: float
    start: dt.date
    end: dt.date
    entry_criteria: list[str]
    comms: list[dict[str, object]]
    guardrails: list[GuardrailSpec]


@dataclass(frozen=True)
class InitiativeSpec:
    title: str
    description: str
    cio_sponsor: str
    ciso_sponsor: str
    services: list[str]
    risk: Risk
    phases: list[PhaseSpec]


def quantity(value: Quantity, *, unit: str, record: str, field: str) -> float:
    """A number in ``unit``: bare (taken as the metric's unit) or written with its unit."""
    if isinstance(value, bool):
        raise InputError("expected a number", record=record, field=field)
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY.match(value)
    if match is None:
        raise InputError(f"expected a number with its unit, got {value!r}", record=record,
                         field=field)  # fmt: skip
    number, written = float(match.group(1)), match.group(2).strip().lower()
    if not written:
        return number
    alias = _ALIASES.get(written)
    if alias is None:
        raise InputError(f"unknown unit {written!r}; units: {', '.join(UNITS)}", record=record,
                         field=field)  # fmt: skip
    if alias[0] != unit:
        raise InputError(f"{value!r} is in {alias[0]}, this metric is measured in {unit}",
                         record=record, field=field)  # fmt: skip
    return number * alias[1]


def window_minutes(text: str, *, record: str) -> int:
    match = _WINDOW.match(text)
    if match is None:
        raise InputError(f"expected a window such as 30m, 2h or 1d, got {text!r}", record=record,
                         field="window")  # fmt: skip
    minutes = int(match.group(1)) * {"m": 1, "h": 60, "d": 1440}[match.group(2)]
    if not 1 <= minutes <= 31 * 1440:
        raise InputError("a window lies between 1 minute and 31 days", record=record,
                         field="window")  # fmt: skip
    return minutes


def _guardrail(raw: GuardrailIn, record: str) -> GuardrailSpec:
    if raw.metric == "custom":
        if not _METRIC_NAME.match(raw.name):
            raise InputError("a custom metric needs a name (lower case, digits, _)",
                             record=record, field="name")  # fmt: skip
        if raw.unit not in UNITS:
            raise InputError(f"a custom metric needs a unit: {', '.join(UNITS)}", record=record,
                             field="unit")  # fmt: skip
        if raw.direction is None:
            raise InputError("a custom metric says whether it breaches below or above",
                             record=record, field="direction")  # fmt: skip
        kind = MetricKind(raw.label or raw.name.replace("_", " "), raw.unit, raw.direction)
        key = raw.name
    else:
        found = KINDS.get(raw.metric)
        if found is None:
            raise InputError(f"unknown metric {raw.metric!r}; metrics: "
                             f"{', '.join([*KINDS, 'custom'])}", record=record,
                             field="metric")  # fmt: skip
        if raw.unit and raw.unit != found.unit:
            raise InputError(f"{raw.metric} is measured in {found.unit}, not {raw.unit}",
                             record=record, field="unit")  # fmt: skip
        if raw.direction and raw.direction != found.direction:
            raise InputError(f"{raw.metric} breaches {found.direction} its threshold",
                             record=record, field="direction")  # fmt: skip
        kind, key = found, raw.metric
    baseline = quantity(raw.baseline, unit=kind.unit, record=record, field="baseline")
    threshold = quantity(raw.threshold, unit=kind.unit, record=record, field="threshold")
    if kind.unit == "%":
        for name, number in (("baseline", baseline), ("threshold", threshold)):
            if not 0 <= number <= 100:
                raise InputError(f"a percentage lies between 0 and 100, got {number:g}",
                                 record=record, field=name)  # fmt: skip
    # A threshold already breached by the baseline would pause the phase the moment it starts.
    if (kind.direction == "below" and threshold > baseline) or (
        kind.direction == "above" and threshold < baseline
    ):
        raise InputError(
            f"the threshold {threshold:g} {kind.unit} is breached by the baseline "
            f"{baseline:g} {kind.unit} ({key} breaches {kind.direction} its threshold)",
            record=record, field="threshold",
        )  # fmt: skip
    if not 1 <= raw.min_points <= 10_000:
        raise InputError("between 1 and 10000", record=record, field="min_points")
    return GuardrailSpec(
        metric=key, label=raw.label or kind.label, unit=kind.unit, direction=kind.direction,
        baseline=baseline, threshold=threshold,
        window_minutes=window_minutes(raw.window, record=record), min_points=raw.min_points,
        action=raw.action, promql=raw.promql.strip(),
    )  # fmt: skip


def _phase(raw: PhaseIn, record: str) -> PhaseSpec:
    if not raw.name.strip():
        raise InputError("a phase needs a name", record=record, field="name")
    if not raw.cohorts:
        raise InputError("a phase needs at least one cohort", record=record, field="cohorts")
    cohorts: list[dict[str, object]] = []
    for index, cohort in enumerate(raw.cohorts):
        where = f"{record}.cohorts[{index}]"
        share = quantity(cohort.share, unit="%", record=where, field="share")
        if not 0 < share <= 100:
            raise InputError(f"a share lies above 0 and at most 100 %, got {share:g}",
                             record=where, field="share")  # fmt: skip
        cohorts.append({"share": share, "segment": cohort.segment, "region": cohort.region,
                        "channel": cohort.channel})  # fmt: skip
    total = round(sum(float(str(c["share"])) for c in cohorts), 6)
    if total > 100:
        raise InputError(f"the cohorts add up to {total:g} %, more than 100 %", record=record,
                         field="cohorts")  # fmt: skip
    if raw.end < raw.start:
        raise InputError("the phase ends before it starts", record=record, field="end")
    if not raw.guardrails:
        raise InputError("a phase needs at least one guardrail", record=record,
                         field="guardrails")  # fmt: skip
    guardrails = [_guardrail(g, f"{record}.guardrails[{i}]") for i, g in enumerate(raw.guardrails)]
    seen: set[str] = set()
    for index, guardrail in enumerate(guardrails):
        if guardrail.metric in seen:
            raise InputError(f"{guardrail.metric} is guarded twice in this phase",
                             record=f"{record}.guardrails[{index}]", field="metric")  # fmt: skip
        seen.add(guardrail.metric)
    comms: list[dict[str, object]] = []
    for index, item in enumerate(raw.comms):
        where = f"{record}.comms[{index}]"
        for name in ("audience", "message", "channel", "owner"):
            if not str(getattr(item, name)).strip():
                raise InputError("must not be empty", record=where, field=name)
        comms.append({"audience": item.audience, "message": item.message,
                      "channel": item.channel, "date": item.date.isoformat(),
                      "owner": item.owner.strip().lower(), "done_by": None,
                      "done_at": None})  # fmt: skip
    return PhaseSpec(
        name=raw.name.strip(), cohorts=cohorts, share=total, start=raw.start, end=raw.end,
        entry_criteria=[c.strip() for c in raw.entry_criteria if c.strip()], comms=comms,
        guardrails=guardrails,
    )  # fmt: skip


def check(doc: InitiativeIn) -> InitiativeSpec:
    if not doc.title.strip():
        raise InputError("an initiative needs a title", field="title")
    if not doc.risk.reduces.strip():
        raise InputError("name the risk figure it reduces", record="risk", field="reduces")
    if not doc.phases:
        raise InputError("an initiative needs at least one phase", field="phases")
    phases = [_phase(p, f"phases[{i}]") for i, p in enumerate(doc.phases)]
    for index in range(1, len(phases)):
        if phases[index].start < phases[index - 1].start:
            raise InputError("phases are listed in the order they start",
                             record=f"phases[{index}]", field="start")  # fmt: skip
    return InitiativeSpec(
        title=doc.title.strip(), description=doc.description.strip(),
        cio_sponsor=doc.sponsors.cio_side.strip().lower(),
        ciso_sponsor=doc.sponsors.ciso_side.strip().lower(),
        services=list(doc.services), risk=doc.risk, phases=phases,
    )  # fmt: skip


def parse_initiative(text: str, *, source: str = "initiative") -> InitiativeSpec:
    """Validate an initiative file; errors name the file, the entry and the field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({exc})".replace("\n", " "), file=source) from None
    if not isinstance(raw, dict):
        raise InputError("expected a mapping at the top level", file=source)
    try:
        doc = msgspec.convert(raw, InitiativeIn)
    except msgspec.ValidationError as exc:
        message = str(exc)
        text, _, where = message.partition(" - at `")
        path = where.rstrip("`").removeprefix("$").lstrip(".") or None
        field = None
        named = re.search(r"field `([^`]+)`", text)
        if named:
            field = named.group(1)
        elif path and "." in path and not path.endswith("]"):
            path, _, field = path.rpartition(".")
        elif path and "[" not in path:
            path, field = None, path
        raise InputError(text, file=source, record=path or None, field=field) from None
    try:
        return check(doc)
    except InputError as exc:
        raise exc.with_file(source) from None
