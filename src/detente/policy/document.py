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


class AcceptanceRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_days: int
    signers: list[RoleName]


class Acceptances(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    by_class: dict[str, AcceptanceRule]
    max_renewals: int = 2
    escalation_signers: list[RoleName] = msgspec.field(default_factory=lambda: ["ciso", "cio"])
    cover_new_findings: bool = True
    require_controls_for_kev: bool = True
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


class PolicyDocument(msgspec.Struct, frozen=True, forbid_unknown_fields=True, dict=True):
    name: str
    pack: str
    deadlines: Deadlines
    acceptances: Acceptances
    incidents: Incidents = msgspec.field(default_factory=Incidents)

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
    if d.kev_class is not None and d.kev_class not in known:
        raise InputError(
            f"unknown deadline class {d.kev_class!r}", record="deadlines", field="kev_class"
        )
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
    except InputError as exc:
        raise exc.with_file(source) from None
    return doc


def pack_text(pack: str) -> str:
    try:
        filename = PACKS[pack]
    except KeyError:
        raise InputError(f"unknown policy pack {pack!r}; packs: {', '.join(PACKS)}") from None
    return resources.files("detente.policy.packs").joinpath(filename).read_text()
