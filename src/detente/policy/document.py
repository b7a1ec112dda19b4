"""The policy document: YAML validated into typed, immutable objects (msgspec Structs).

Unknown keys are refused, so a typo in a policy never passes silently.
"""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from typing import Literal

import msgspec
import yaml

from detente.core.errors import InputError
from detente.policy.api_register import ApiRegisterPolicy, check_api_register
from detente.policy.gate import Gate
from detente.policy.initiatives import (
    InitiativesPolicy,
    check_initiatives,
    initiative_signal_tuning,
)
from detente.policy.service_rules import ServiceDeadlineRule

YesNo = Literal["yes", "no"]
Impact = Literal["partial", "total"]
SeverityName = Literal["critical", "high", "medium", "low", "info"]
RoleName = Literal[
    "cio", "ciso", "security_lead", "it_lead", "service_owner", "engineer", "change_manager"
]

PACKS = {
    "bod-26-04": "bod_26_04.yaml",
    "fedramp": "fedramp.yaml",
    "pci-dss-4": "pci_dss_4.yaml",
}


class DeadlineClass(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    label: str
    days: int | None  # None: fix on the next system upgrade (no calendar deadline)
    forensic_triage: bool = False


class Bod2604Row(msgspec.Struct, frozen=True, array_like=True):
    in_kev: YesNo
    publicly_exposed: YesNo
    automatable: YesNo
    technical_impact: Impact
    deadline_class: str


class Deadlines(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    classes: dict[str, DeadlineClass]
    by_severity: dict[SeverityName, str]
    cve_rule: Literal["bod-26-04", "severity"] = "bod-26-04"
    bod_26_04: list[Bod2604Row] = []
    kev_due_date: Literal["earliest", "ignore"] = "ignore"
    kev_class: str | None = None  # severity packs: every KEV-listed finding gets at least this
    restart_on_reopen: bool = False
    by_service: list[ServiceDeadlineRule] = []  # policy/service_rules.py


class AcceptanceRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_days: int
    signers: list[RoleName]


class Acceptances(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    by_class: dict[str, AcceptanceRule]
    max_renewals: int = 2
    escalation_signers: list[RoleName] = msgspec.field(default_factory=lambda: ["ciso", "cio"])
    cover_new_findings: bool = True
    require_controls_for_kev: bool = True
    # On expiry the findings reopen; true: their deadlines count again from the expiry.
    restart_deadline_on_expiry: bool = False
    reminder_days: list[int] = msgspec.field(default_factory=lambda: [30, 7, 1])


IncidentSeverityName = Literal["sev1", "sev2", "sev3", "sev4"]


class BriefingCadence(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    first_within_hours: float | None  # after declaration; None: no CIO briefing required
    every_hours: float | None  # between briefings afterwards; None: no further cadence


def _default_cadence() -> dict[IncidentSeverityName, BriefingCadence]:
    return {
        "sev1": BriefingCadence(first_within_hours=1, every_hours=2),
        "sev2": BriefingCadence(first_within_hours=4, every_hours=6),
        "sev3": BriefingCadence(first_within_hours=24, every_hours=24),
        "sev4": BriefingCadence(first_within_hours=None, every_hours=None),
    }


class Incidents(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cadence: dict[IncidentSeverityName, BriefingCadence] = msgspec.field(
        default_factory=_default_cadence
    )
    reminder_minutes_before: int = 30  # remind the incident lead this long before a briefing


WorkKind = Literal["package", "image", "host", "other"]


def _default_effort() -> dict[WorkKind, float]:
    return {"package": 1.0, "image": 2.0, "host": 4.0, "other": 2.0}


def _default_remedy_cost() -> dict[str, float]:
    return {"extra_window": 5.0, "emergency_change": 20.0, "deferral": 0.0}


class EmergencyRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    roles: list[RoleName] = msgspec.field(default_factory=lambda: ["cio", "change_manager"])
    max_per_month: int = 2  # per business service, per calendar month (UTC)


class Planning(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Patch planning (see docs/planning.md): effort by kind of work, horizon, penalties."""

    effort_hours: dict[WorkKind, float] = msgspec.field(default_factory=_default_effort)
    horizon_days: int = 120
    late_factor: float = 10.0  # each day past a deadline weighs this many exposure-days
    unplanned_extra_days: int = 30  # unplanned work counts as done this long after the horizon
    exact_max_pairs: int = 40_000  # CP-SAT up to this many (item, occurrence) pairs; else greedy
    solver_seconds: float = 10.0
    emergency: EmergencyRule = msgspec.field(default_factory=EmergencyRule)
    # Remedy costs, in weighted exposure-day equivalents, added to the exposure a remedy leaves.
    remedy_cost: dict[str, float] = msgspec.field(default_factory=_default_remedy_cost)


SubIndexName = Literal["decision_friction", "risk_debt", "communication", "relationship"]


AnyRoleName = Literal[
    "cio", "ciso", "security_lead", "it_lead", "service_owner", "engineer", "change_manager",
    "auditor",
]  # fmt: skip


def _default_radar_readers() -> list[AnyRoleName]:
    return ["cio", "ciso", "security_lead", "it_lead", "auditor"]


def _default_radar_computers() -> list[RoleName]:
    return ["cio", "ciso", "security_lead"]


def _default_tension_weights() -> dict[SubIndexName, float]:
    return {
        "decision_friction": 0.25,
        "risk_debt": 0.25,
        "communication": 0.20,
        "relationship": 0.30,
    }


class SignalTuning(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Override one radar signal (keys in docs/tension.md); unset fields keep the defaults."""

    weight: float | None = None  # within its sub-index
    healthy: float | None = None  # value that normalises to 0
    red_line: float | None = None  # value that normalises to 1


class Tension(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The tension radar (docs/tension.md): sub-index weights, zones, hysteresis, red lines."""

    weights: dict[SubIndexName, float] = msgspec.field(default_factory=_default_tension_weights)
    signals: dict[str, SignalTuning] = msgspec.field(default_factory=dict)
    amber_at: float = 35.0
    red_at: float = 60.0
    periods_to_step_down: int = 2  # consecutive periods below a zone before the zone drops
    silence_periods: int = 2  # quiet periods (no escalation, override or open disagreement)
    silence_risk_debt: float = 0.5  # ... while risk debt is at least this (0-1)
    silence_downplay: float = 3.0  # ... or pressure to downplay (P10) is at least this
    renewals_red_line: int = 3  # an acceptance renewed this often is a red line
    expired_open_days: int = 30  # expired this long with its findings still open: a red line
    pulse_conflict_red: int = 4  # P8 at or above, two pulses running: red
    pulse_voice_red: int = 2  # P9 at or below, two pulses running: red
    # Who reads the radar (pages, API, homes) and who computes it (branch homes, issue 18).
    radar_readers: list[AnyRoleName] = msgspec.field(default_factory=_default_radar_readers)
    radar_computers: list[RoleName] = msgspec.field(default_factory=_default_radar_computers)


class PolicyDocument(msgspec.Struct, frozen=True, forbid_unknown_fields=True, dict=True):
    name: str
    pack: str
    deadlines: Deadlines
    acceptances: Acceptances
    incidents: Incidents = msgspec.field(default_factory=Incidents)
    planning: Planning = msgspec.field(default_factory=Planning)
    tension: Tension = msgspec.field(default_factory=Tension)
    gate: Gate = msgspec.field(default_factory=Gate)
    api_register: ApiRegisterPolicy = msgspec.field(default_factory=ApiRegisterPolicy)
    initiatives: InitiativesPolicy = msgspec.field(default_factory=InitiativesPolicy)

    @cached_property
    def bod_table(self) -> dict[tuple[bool, bool, bool, bool], tuple[int, str]]:
        """(in_kev, exposed, automatable, total_impact) -> (row number, class id)."""
        return {
            (
                r.in_kev == "yes",
                r.publicly_exposed == "yes",
                r.automatable == "yes",
                r.technical_impact == "total",
            ): (number, r.deadline_class)
            for number, r in enumerate(self.deadlines.bod_26_04)
        }


def _check(doc: PolicyDocument) -> None:
    known = _check_deadlines(doc)
    _check_acceptances(doc, known)
    _check_incidents(doc)
    _check_planning(doc)
    _check_tension(doc)
    check_api_register(doc.api_register)
    check_initiatives(doc.initiatives)


def _check_deadlines(doc: PolicyDocument) -> set[str]:
    """The deadline section's references are to known classes; returns the known classes."""
    d = doc.deadlines
    known = set(d.classes)
    for severity, cls in d.by_severity.items():
        if cls not in known:
            raise InputError(
                f"unknown deadline class {cls!r}", record="deadlines.by_severity", field=severity
            )
    missing = {"critical", "high", "medium", "low", "info"} - set(d.by_severity)
    if missing:
        raise InputError(
            f"missing severities: {', '.join(sorted(missing))}", record="deadlines.by_severity"
        )
    for number, row in enumerate(d.bod_26_04):
        if row.deadline_class not in known:
            raise InputError(
                f"unknown deadline class {row.deadline_class!r}",
                record=f"deadlines.bod_26_04[{number}]",
                field="deadline_class",
            )
    if d.cve_rule == "bod-26-04" and (len(doc.bod_table) != 16 or len(d.bod_26_04) != 16):
        raise InputError(
            "the BOD 26-04 table needs exactly the 16 distinct input combinations",
            record="deadlines.bod_26_04",
        )
    for number, service_rule in enumerate(d.by_service):
        if service_rule.at_most not in known:
            raise InputError(
                f"unknown deadline class {service_rule.at_most!r}",
                record=f"deadlines.by_service[{number}]",
                field="at_most",
            )
    if d.kev_class is not None and d.kev_class not in known:
        raise InputError(
            f"unknown deadline class {d.kev_class!r}", record="deadlines", field="kev_class"
        )
    return known


def _check_acceptances(doc: PolicyDocument, known: set[str]) -> None:
    for cls, rule in doc.acceptances.by_class.items():
        if cls not in known:
            raise InputError(f"unknown deadline class {cls!r}", record="acceptances.by_class")
        if rule.max_days <= 0 or not rule.signers:
            raise InputError(
                "needs a positive max_days and at least one signer",
                record=f"acceptances.by_class.{cls}",
            )
    for cls in known - set(doc.acceptances.by_class):
        raise InputError(
            f"no acceptance rule for deadline class {cls!r}", record="acceptances.by_class"
        )


def _check_incidents(doc: PolicyDocument) -> None:
    missing_sev = {"sev1", "sev2", "sev3", "sev4"} - set(doc.incidents.cadence)
    if missing_sev:
        raise InputError(
            f"missing severities: {', '.join(sorted(missing_sev))}", record="incidents.cadence"
        )
    for sev, cadence in doc.incidents.cadence.items():
        hours = (cadence.first_within_hours, cadence.every_hours)
        if any(h is not None and h <= 0 for h in hours):
            raise InputError("hours must be positive", record=f"incidents.cadence.{sev}")
    if doc.incidents.reminder_minutes_before < 0:
        raise InputError(
            "must not be negative", record="incidents", field="reminder_minutes_before"
        )


def _check_planning(doc: PolicyDocument) -> None:
    p = doc.planning
    if set(p.effort_hours) != {"package", "image", "host", "other"}:
        raise InputError("give the effort of package, image, host and other", record="planning")
    if any(hours <= 0 for hours in p.effort_hours.values()):
        raise InputError("efforts must be positive", record="planning", field="effort_hours")
    if p.horizon_days <= 0 or p.late_factor < 0 or p.unplanned_extra_days < 0:
        raise InputError("horizon must be positive, penalties not negative", record="planning")
    if p.emergency.max_per_month < 0 or not p.emergency.roles:
        raise InputError("needs roles and a non-negative limit", record="planning.emergency")
    unknown = set(p.remedy_cost) - {"extra_window", "emergency_change", "deferral"}
    if unknown:
        raise InputError(f"unknown remedies: {', '.join(sorted(unknown))}", record="planning")


def _check_tension(doc: PolicyDocument) -> None:
    t = doc.tension
    if any(w < 0 for w in t.weights.values()) or sum(t.weights.values()) <= 0:
        raise InputError("weights must not be negative nor all zero", record="tension.weights")
    if not 0 < t.amber_at < t.red_at <= 100:
        raise InputError("needs 0 < amber_at < red_at <= 100", record="tension")
    if t.periods_to_step_down < 1 or t.silence_periods < 1:
        raise InputError("periods must be at least 1", record="tension")
    for key, tuning in t.signals.items():
        if tuning.weight is not None and tuning.weight < 0:
            raise InputError(
                "must not be negative", record=f"tension.signals.{key}", field="weight"
            )
        if None not in (tuning.healthy, tuning.red_line) and tuning.healthy == tuning.red_line:
            raise InputError("healthy and red_line must differ", record=f"tension.signals.{key}")


def _yaml_booleans_to_words(raw: object) -> None:
    """YAML 1.1 reads bare yes/no as booleans; the BOD table means the SSVC words."""
    if not isinstance(raw, dict) or not isinstance(raw.get("deadlines"), dict):
        return
    rows = raw["deadlines"].get("bod_26_04")
    if isinstance(rows, list):
        raw["deadlines"]["bod_26_04"] = [
            [("yes" if v else "no") if isinstance(v, bool) else v for v in row]
            if isinstance(row, list)
            else row
            for row in rows
        ]


def parse_policy(text: str, *, source: str = "policy") -> PolicyDocument:
    """Validate a YAML policy document; errors name the file, the path and the field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({exc})".replace("\n", " "), file=source) from None
    _yaml_booleans_to_words(raw)
    try:
        doc = msgspec.convert(raw, PolicyDocument)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rpartition(" - at `")[2].rstrip("`") if " - at `" in message else None
        text = message.split(" - at `", maxsplit=1)[0]
        raise InputError(text, file=source, record=path) from None
    try:
        _check(doc)
        return _fold_contributed_tuning(doc)
    except InputError as exc:
        raise exc.with_file(source) from None


def _fold_contributed_tuning(doc: PolicyDocument) -> PolicyDocument:
    """The radar reads each signal's tuning from ``tension.signals``: sections that tune the
    signals of their own domain (``initiatives.signals``) fill what it leaves unset there."""
    merged = dict(doc.tension.signals)
    for key, tuning in initiative_signal_tuning(doc.initiatives).items():
        own = merged.get(key, SignalTuning())
        merged[key] = SignalTuning(
            weight=tuning.weight if own.weight is None else own.weight,
            healthy=tuning.healthy if own.healthy is None else own.healthy,
            red_line=tuning.red_line if own.red_line is None else own.red_line,
        )
        if merged[key].healthy == merged[key].red_line:
            raise InputError(
                "healthy and red_line must differ (with initiatives.signals)",
                record=f"tension.signals.{key}",
            )
    tension = msgspec.structs.replace(doc.tension, signals=merged)
    return msgspec.structs.replace(doc, tension=tension)


def pack_text(pack: str) -> str:
    try:
        filename = PACKS[pack]
    except KeyError:
        raise InputError(f"unknown policy pack {pack!r}; packs: {', '.join(PACKS)}") from None
    return resources.files("detente.policy.packs").joinpath(filename).read_text()
