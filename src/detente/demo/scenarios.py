"""Four years in the life of a CIO-CISO pair, made through the real services, month by month.

``build_scenario("calm" | "simmering" | "overt" | "covert")`` moves the clock through twelve
months: small Trivy reports (written to a temporary folder) are imported, acceptances requested,
signed, expired and renewed, decisions recorded, incidents declared and briefed, both leaders answer
the pulse, and the radar is computed at each month's end. Nothing is written past the services.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from detente.acceptances.models import RiskAcceptance, ScopeKind
from detente.acceptances.services import (
    acceptance_reject,
    acceptance_renew,
    acceptance_request,
    acceptance_sign,
    acceptances_expire,
    acceptances_reconcile,
)
from detente.core import clock
from detente.core.errors import InputError
from detente.decisions.services import decision_create, decision_decide
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding
from detente.findings.services import scan_import
from detente.incidents.services import briefing_acknowledge, briefing_issue, incident_declare
from detente.inventory.models import BusinessService
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.policy.services import policy_ensure_default
from detente.tension.models import TensionSnapshot
from detente.tension.services import pulse_answer, radar_compute
from detente.tension.signals import Period

NAMES = ("calm", "simmering", "overt", "covert")
ARTIFACT = "registry.scenario.detente/core-banking:1"

Pulse = tuple[int, int, int, int, int, int, int, int, int, int]  # P1..P10


@dataclass(frozen=True)
class Month:
    new: int = 2  # findings newly reported this month
    fixed_share: float = 1.0  # share of the open, uncovered findings fixed by the mid-month scan
    accept: int = 0  # acceptances requested and approved this month
    covered_fixed: bool = True  # the findings they cover are fixed before they expire
    reject: int = 0  # acceptance requests the CISO rejects
    renew_chain: bool = False  # renew the oldest acceptance chain late in the month
    decisions: tuple[tuple[str, bool], ...] = ()  # (escalation level, CISO's advice followed)
    incident: str | None = None  # "prompt" (SEV2 briefed in time) or "late" (SEV1, CIO told late)
    cio: Pulse = (4, 4, 4, 4, 4, 4, 2, 1, 5, 1)
    ciso: Pulse = (4, 4, 4, 4, 4, 4, 2, 1, 5, 1)
    guess_off: int = 0  # how far each leader's guess of the other's P3/P9 is off
    pulse: bool = True  # False: a holiday month, nobody answers the pulse
    incidents: int = 1  # how many incidents of ``incident``'s kind (a bad month has several)


CALM = Month(accept=0, decisions=(("team", True),))
_SIMMER = Month(
    new=4,
    fixed_share=0.5,
    accept=2,
    reject=1,
    decisions=(("leaders", False), ("team", True)),
    cio=(3, 3, 3, 3, 3, 3, 3, 2, 4, 2),
    ciso=(3, 3, 3, 3, 3, 3, 3, 2, 4, 2),
    guess_off=1,
)
_OVERT = Month(
    new=3,
    fixed_share=0.7,
    accept=1,
    reject=1,
    decisions=(("executive", False), ("executive", False), ("leaders", True)),
    cio=(2, 2, 2, 2, 2, 2, 5, 4, 3, 4),
    ciso=(2, 2, 2, 2, 2, 2, 5, 5, 2, 3),
    guess_off=2,
)
_COVERT = Month(
    new=4,
    fixed_share=0.0,
    accept=1,
    covered_fixed=False,
    renew_chain=True,
    cio=(4, 4, 4, 4, 4, 4, 1, 1, 4, 1),
    ciso=(4, 4, 4, 4, 4, 4, 1, 1, 4, 2),
)


def _plan(name: str) -> list[Month]:
    if name == "calm":
        return [
            replace(CALM, accept=1 if m % 3 == 0 else 0, incident="prompt" if m == 5 else None)
            for m in range(12)
        ]
    if name == "simmering":
        return [CALM, CALM] + [
            replace(
                _SIMMER,
                decisions=_SIMMER.decisions + ((("facilitator", True),) if m % 3 == 0 else ()),
            )
            for m in range(10)
        ]
    if name == "overt":
        return [CALM, _SIMMER] + [
            replace(_OVERT, incident="late" if m == 1 else None) for m in range(10)
        ]
    if name == "covert":
        return [replace(_COVERT, renew_chain=m > 0) for m in range(12)]
    raise InputError(f"unknown scenario {name!r}; scenarios: {', '.join(NAMES)}")


@dataclass
class _World:
    cio: Person
    ciso: Person
    it_lead: Person
    folder: Path
    present: list[str] = field(default_factory=list)  # vulnerability ids still reported
    covered: set[str] = field(default_factory=set)  # kept open on purpose (covert)
    serial: int = 0
    imports: int = 0
    chain: RiskAcceptance | None = None
    fix_next: set[str] = field(default_factory=set)  # covered, fixed before expiry
    service: BusinessService | None = None  # the business service the scanned image belongs to


def _at(period: Period, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(period.year, period.month, day, hour, tzinfo=dt.UTC)


def _report(world: _World) -> None:
    """Write and import a Trivy report listing what is present now."""
    world.imports += 1
    vulns = [
        {
            "VulnerabilityID": vuln,
            "PkgName": f"lib{vuln.rsplit('-', 1)[1]}",
            "InstalledVersion": "1.0.0",
            "FixedVersion": "1.0.1",
            "Severity": "HIGH",
            "Title": f"Flaw {vuln}",
        }
        for vuln in world.present
    ]
    # A finding without a deadline keeps the scope alive when everything else is fixed (an empty
    # report would close nothing).
    baseline = {"VulnerabilityID": "GHSA-base-line-0001", "PkgName": "baseline"}
    vulns.append({**baseline, "InstalledVersion": "1.0.0", "Severity": "UNKNOWN"})
    report = {
        "SchemaVersion": 2,
        "ArtifactName": ARTIFACT,
        "ArtifactType": "container_image",
        "Results": [{"Target": "core-banking", "Class": "os-pkgs", "Type": "debian",
                     "Vulnerabilities": vulns}],
    }  # fmt: skip
    path = world.folder / f"trivy-{world.imports:03d}.json"
    path.write_text(json.dumps(report))
    options = ImportOptions(service=world.service) if world.service is not None else None
    for scan in scan_import(paths=[path], actor=world.ciso, options=options):
        acceptances_reconcile(scan=scan, actor=world.ciso)


def _findings(vulns: list[str]) -> list[int]:
    return list(
        Finding.objects.filter(vuln_id__in=vulns).order_by("id").values_list("id", flat=True)
    )


def _accept(world: _World, vulns: list[str], *, approve: bool) -> RiskAcceptance:
    acceptance = acceptance_request(
        actor=world.it_lead,
        title=f"Defer {', '.join(vulns)} to the next window",
        scope=ScopeKind.FINDINGS,
        finding_ids=_findings(vulns),
        justification="The core-banking release train ships the fix in the next window.",
        compensating_controls="Segmented; WAF rule on the affected path.",
        until=clock.today() + dt.timedelta(days=7),
    )
    if not approve:
        return acceptance_reject(
            actor=world.ciso, acceptance=acceptance, reason="Fixable now; no deferral."
        )
    acceptance_sign(actor=world.ciso, acceptance=acceptance)
    return acceptance_sign(actor=world.cio, acceptance=acceptance)


def _decide(world: _World, level: str, followed: bool, number: int) -> None:
    record = decision_create(
        actor=world.ciso,
        title=f"Patch window #{number} for core banking",
        pressure_point="patching",
        question="Patch in this week's window or defer to the next?",
        options=[
            {"title": "Patch now", "business_benefit": "Closes the exposure this week",
             "facts": ["Exploit code is public"]},
            {"title": "Defer", "business_benefit": "No change during month-end close",
             "facts": ["Month-end close runs until the 5th"]},
        ],
        company_first="Customer trust and month-end close both matter.",
        cio_position="Defer: month-end close comes first.",
        ciso_position="Patch now: the exploit is public.",
        informed=["Head of Retail"],
        win_win="Patch the exposed nodes now, the rest after close.",
        escalation_level=level,
    )  # fmt: skip
    decision_decide(
        actor=world.cio, record=record, decision="Patch now." if followed else "Defer.",
        chosen_option=0 if followed else 1, ciso_recommendation_followed=followed,
        why_blank="scenario record: only the options are written down",
    )  # fmt: skip


def _incident(world: _World, period: Period, kind: str) -> None:
    clock.set_now(_at(period, 15, 10))
    incident = incident_declare(
        actor=world.ciso,
        title="Credential stuffing against online banking"
        if kind == "prompt"
        else "Ransomware on the batch servers",
        type="account_compromise" if kind == "prompt" else "ransomware",
        severity="sev2" if kind == "prompt" else "sev1",
        lead=world.ciso,
        cio=world.cio,
        ciso=world.ciso,
    )
    clock.set_now(_at(period, 15, 10) + dt.timedelta(minutes=30))
    briefing = briefing_issue(actor=world.ciso, incident=incident, status_summary="Contained.")
    # Prompt: the CIO reads it at once; late: the CIO hears of it that evening.
    delay = dt.timedelta(minutes=10) if kind == "prompt" else dt.timedelta(hours=8)
    clock.set_now(clock.now() + delay)
    briefing_acknowledge(actor=world.cio, briefing=briefing)


def _pulse(world: _World, period: Period, plan: Month) -> None:
    clock.set_now(_at(period, 25))

    def answers(values: Pulse) -> dict[str, int]:
        return {f"P{n}": v for n, v in enumerate(values, start=1)}

    def guess(of: Pulse) -> dict[str, int]:
        return {
            "P3": max(1, min(5, of[2] + plan.guess_off)),
            "P9": max(1, min(5, of[8] + plan.guess_off)),
        }

    pulse_answer(actor=world.cio, answers=answers(plan.cio), meta=guess(plan.ciso), period=period)
    pulse_answer(actor=world.ciso, answers=answers(plan.ciso), meta=guess(plan.cio), period=period)


def _month(world: _World, period: Period, plan: Month, number: int) -> None:
    # Day 2: the month's scan reports what is new.
    clock.set_now(_at(period, 2))
    new = []
    for _ in range(plan.new):
        world.serial += 1
        new.append(f"CVE-2026-{10000 + world.serial}")
    world.present.extend(new)
    _report(world)
    acceptances_expire()
    # Day 3: acceptances and decisions.
    clock.set_now(_at(period, 3))
    for index in range(plan.accept):
        vulns = new[index : index + 1]
        if not vulns:
            break
        acceptance = _accept(world, vulns, approve=True)
        if plan.covered_fixed:
            world.fix_next.update(vulns)
        else:
            world.covered.update(vulns)
            if world.chain is None:
                world.chain = acceptance
    for index in range(plan.reject):
        vulns = new[-1 - index :][:1]
        if vulns:
            _accept(world, vulns, approve=False)
    for i, (level, followed) in enumerate(plan.decisions):
        _decide(world, level, followed, number * 10 + i)
    # Day 9: the mid-month scan shows the fixes.
    clock.set_now(_at(period, 9))
    candidates = [v for v in world.present if v not in world.covered]
    fixed = set(candidates[: math.ceil(len(candidates) * plan.fixed_share)]) | world.fix_next
    world.fix_next = set()
    world.present = [v for v in world.present if v not in fixed]
    _report(world)
    acceptances_expire()
    if plan.incident:
        for _ in range(plan.incidents):
            _incident(world, period, plan.incident)
    clock.set_now(_at(period, 20))
    acceptances_expire()
    if plan.pulse:
        _pulse(world, period, plan)
    # Day 26: the oldest chain is renewed again (silently: nobody disagrees).
    clock.set_now(_at(period, 26))
    acceptances_expire()
    if plan.renew_chain and world.chain is not None:
        renewal = acceptance_renew(
            actor=world.it_lead, acceptance=world.chain, until=clock.today() + dt.timedelta(days=7),
            justification="Still waiting for the release train.",
        )  # fmt: skip
        acceptance_sign(actor=world.ciso, acceptance=renewal)
        world.chain = acceptance_sign(actor=world.cio, acceptance=renewal)


def build_scenario(
    name: str,
    *,
    start: Period | None = None,
    cast: dict[Role, Person] | None = None,
    service: BusinessService | None = None,
) -> list[TensionSnapshot]:
    """Twelve months of history from ``start`` (default: the twelve months before this one);
    returns the radar's snapshot for each month. ``cast`` (CIO, CISO, IT lead) and ``service``
    put the year on an existing organisation (the demo's) instead of the scenario's own people."""
    return build_year(_plan(name), start=start, cast=cast, service=service)


def build_year(
    plan: list[Month],
    *,
    start: Period | None = None,
    cast: dict[Role, Person] | None = None,
    service: BusinessService | None = None,
    between: Callable[[int, TensionSnapshot], None] | None = None,
) -> list[TensionSnapshot]:
    """The months of ``plan`` from ``start``; ``between(number, snapshot)`` runs after each
    month's radar (a generated year uses it to start a reset when the radar turns red)."""
    first = start or Period.of(clock.now())
    if start is None:
        for _ in range(len(plan)):
            first = first.previous()
    policy_ensure_default()
    names = ((Role.CIO, "Claire Scenario"), (Role.CISO, "Sam Scenario"), (Role.IT_LEAD, "Tom Lead"))
    people = cast or {
        role: person_upsert(name=label, email=f"{role}@scenario.detente", role=role)
        for role, label in names
    }
    snapshots = []
    # frozen_at restores whatever the clock was (real time in the CLI) when the year is built.
    with (
        clock.frozen_at(clock.now()),
        tempfile.TemporaryDirectory(prefix="detente-scenario-") as folder,
    ):
        world = _World(
            cio=people[Role.CIO], ciso=people[Role.CISO], it_lead=people[Role.IT_LEAD],
            folder=Path(folder), service=service,
        )  # fmt: skip
        period = first
        for number, month in enumerate(plan):
            _month(world, period, month, number)
            clock.set_now(period.end + dt.timedelta(minutes=10))
            snapshots.append(radar_compute(period=period, actor=None))
            if between is not None:
                between(number, snapshots[-1])
            period = period.next()
    return snapshots
