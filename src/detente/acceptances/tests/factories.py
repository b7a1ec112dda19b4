"""Approved (and other) acceptances built through the real services on a real sample scan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from detente.acceptances.models import RiskAcceptance, ScopeKind
from detente.acceptances.services import acceptance_reject, acceptance_request, acceptance_sign
from detente.core import clock
from detente.findings.models import Finding
from detente.findings.services import scan_import
from detente.people.models import Person, Role
from detente.people.services import person_upsert

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
GRYPE = "scans/anchore_grype/check_all_fields.json"


@dataclass(frozen=True)
class Org:
    engineer: Person
    ciso: Person
    cio: Person


def org() -> Org:
    return Org(
        engineer=person_upsert(name="Eva Engineer", email="eva@example.org", role=Role.ENGINEER),
        ciso=person_upsert(name="Carla CISO", email="carla@example.org", role=Role.CISO),
        cio=person_upsert(name="Ivo CIO", email="ivo@example.org", role=Role.CIO),
    )


def import_grype(samples: Path) -> dict[str, list[Finding]]:
    """The Grype sample: CVE-2021-32626 (redis) and GHSA-v6rh-hp5x-86rv (Django) are 14-day
    findings (signed by CISO and CIO, deferrable by up to 30 days)."""
    scan_import(paths=[samples / GRYPE])
    by_vuln: dict[str, list[Finding]] = {}
    for finding in Finding.objects.order_by("id"):
        by_vuln.setdefault(finding.vuln_id, []).append(finding)
    return by_vuln


def requested(people: Org, findings: list[Finding], *, days: int = 10) -> RiskAcceptance:
    return acceptance_request(
        actor=people.engineer,
        title="Wait for the vendor's patched image",
        scope=ScopeKind.FINDINGS,
        justification="Quarter-end freeze on the payment service",
        compensating_controls="WAF rule 9410 blocks the vector",
        until=clock.today() + dt.timedelta(days=days),
        finding_ids=[f.pk for f in findings],
    )


def approved(people: Org, findings: list[Finding], *, days: int = 10) -> RiskAcceptance:
    acceptance = requested(people, findings, days=days)
    acceptance_sign(actor=people.ciso, acceptance=acceptance)
    return acceptance_sign(actor=people.cio, acceptance=acceptance)


def rejected(people: Org, findings: list[Finding]) -> RiskAcceptance:
    acceptance = requested(people, findings, days=5)
    return acceptance_reject(actor=people.ciso, acceptance=acceptance, reason="Patch exists")
