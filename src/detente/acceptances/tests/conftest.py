"""An organisation with every role, a service and findings in each deadline class."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from detente.core import clock
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding
from detente.findings.services import findings_reevaluate, scan_import
from detente.findings.tests.factories import LOCAL_LOW, trivy_report, trivy_vuln, write_json
from detente.intel.services import intel_load
from detente.inventory.models import Asset, BusinessService
from detente.inventory.services import asset_set_exposure, service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
# Not in KEV, not automatable (UI:R), partial impact: on an exposed asset BOD row 2 → 60 days.
REMOTE_UI = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:N"


@dataclass
class Org:
    cio: Person
    ciso: Person
    security_lead: Person
    it_lead: Person
    owner: Person
    other_owner: Person
    engineer: Person
    auditor: Person
    service: BusinessService
    asset: Asset
    kev: Finding  # 3 days & forensic triage: CISO + CIO, at most 7 days
    sixty: Finding  # 60 days: security lead + service owner, at most 90 days
    report: Path


@pytest.fixture
def org(db: None, samples: Path, tmp_path: Path) -> Org:
    clock.set_now(NOW)
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    other_owner = person_upsert(
        name="Other owner", email="other@example.org", role=Role.SERVICE_OWNER
    )
    service = service_upsert(slug="shop", name="Shop", owner=people[Role.SERVICE_OWNER])
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2026-08-07.json")
    report = write_json(
        tmp_path / "shop.json",
        trivy_report(
            [
                trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="CRITICAL"),
                trivy_vuln("CVE-2024-5000", pkg="libxml2", severity="MEDIUM", vector=REMOTE_UI),
                trivy_vuln("CVE-2024-6000", pkg="zlib", severity="LOW", vector=LOCAL_LOW),
            ]
        ),
    )
    scan_import(paths=[report], options=ImportOptions(service=service))
    asset = Asset.objects.get()
    asset_set_exposure(asset=asset, publicly_exposed=True)
    findings_reevaluate()
    return Org(
        cio=people[Role.CIO],
        ciso=people[Role.CISO],
        security_lead=people[Role.SECURITY_LEAD],
        it_lead=people[Role.IT_LEAD],
        owner=people[Role.SERVICE_OWNER],
        other_owner=other_owner,
        engineer=people[Role.ENGINEER],
        auditor=people[Role.AUDITOR],
        service=service,
        asset=asset,
        kev=Finding.objects.get(cve="CVE-2021-44228"),
        sixty=Finding.objects.get(cve="CVE-2024-5000"),
        report=report,
    )
