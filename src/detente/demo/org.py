"""The demo organisation: people, business services, real scans, real intelligence."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from detente.access.services import account_set_password
from detente.core.errors import InputError
from detente.demo.api_register import build_api_register
from detente.demo.gate import build_gate_demo
from detente.demo.initiatives import build_initiatives_demo
from detente.demo.organisation import demo_organisation
from detente.findings.importer import ImportOptions
from detente.findings.models import ScanImport
from detente.findings.services import findings_reevaluate, scan_import
from detente.intel.services import intel_load
from detente.inventory.models import Asset
from detente.inventory.services import asset_set_exposure
from detente.people.models import Person, Role
from detente.policy.services import policy_ensure_default

# The same people and services as demo/org.yaml (a test keeps them equal); other modules read them.
PEOPLE = (
    ("Claire Dubois", "cio@demo.detente", Role.CIO),
    ("Sam Okafor", "ciso@demo.detente", Role.CISO),
    ("Priya Raman", "security.lead@demo.detente", Role.SECURITY_LEAD),
    ("Tom Becker", "it.lead@demo.detente", Role.IT_LEAD),
    ("Lena Novak", "owner.banking@demo.detente", Role.SERVICE_OWNER),
    ("Marco Silva", "owner.payments@demo.detente", Role.SERVICE_OWNER),
    ("Noor Haddad", "owner.platform@demo.detente", Role.SERVICE_OWNER),
    ("Ada Mensah", "engineer@demo.detente", Role.ENGINEER),
    ("Rui Costa", "change.manager@demo.detente", Role.CHANGE_MANAGER),
    ("Iris Lang", "auditor@demo.detente", Role.AUDITOR),
)

# slug, name, owner email, criticality, customer-facing, data classification
SERVICES = (
    (
        "online-banking",
        "Online Banking",
        "owner.banking@demo.detente",
        "critical",
        True,
        "restricted",
    ),
    ("payments-api", "Payments API", "owner.payments@demo.detente", "critical", True, "restricted"),
    ("hr-portal", "HR Portal", "owner.platform@demo.detente", "medium", False, "confidential"),
    (
        "dev-platform",
        "Developer Platform",
        "owner.platform@demo.detente",
        "high",
        False,
        "internal",
    ),
)


@dataclass(frozen=True)
class DemoScan:
    path: str  # under samples/scans
    service: str
    asset: str | None  # for files that do not name what they scanned
    exposed: bool | None  # what the owner says about the scanned assets (None: not said yet)


SCANS = (
    DemoScan("trivy/scheme_2_many_vulns.json", "online-banking", None, True),
    DemoScan("zap/zap-results-first-scan.xml", "online-banking", None, True),
    DemoScan("snyk/single_project_many_vulns.json", "online-banking", "banking-web", False),
    DemoScan("dependency_check/PR6439.xml", "payments-api", "payments-core", True),
    DemoScan("cyclonedx/log4j.json", "payments-api", "payments-sbom", True),
    DemoScan("sarif/codeQL-output.sarif", "payments-api", "payments-repo", False),
    DemoScan("anchore_grype/many_vulns.json", "hr-portal", None, False),
    DemoScan("tenable/nessus/nessus_with_cvssv3.nessus", "dev-platform", None, None),
)

INTEL = (
    "intel/known_exploited_vulnerabilities_2026-08-07.json",
    "intel/epss_scores-current_SAMPLE_head_tail.csv",
    "intel/vulnrichment_CVE-2021-44228_CISA-ADP_excerpt.json",
)


def samples_dir() -> Path:
    """``DETENTE_SAMPLES``, else ``shared/samples`` beside the working folder or the checkout."""
    if env := os.environ.get("DETENTE_SAMPLES"):
        return Path(env)
    candidates = [Path.cwd().parent / "shared" / "samples", Path.cwd() / "shared" / "samples"]
    here = Path(__file__).resolve()
    candidates += [parent.parent / "shared" / "samples" for parent in here.parents]
    for candidate in candidates:
        if (candidate / "scans" / "manifest.json").exists():
            return candidate
    raise InputError(
        "the demo needs the sample data (shared/samples beside the checkout); set DETENTE_SAMPLES"
    )


def demo_accounts(password: str) -> list[Person]:
    """Give every demo person a sign-in account with ``password``."""
    people = list(Person.objects.filter(email__endswith="@demo.detente").order_by("id"))
    for person in people:
        account_set_password(person=person, password=password)
    return people


def build_demo(*, progress: Callable[[str], None] = lambda _msg: None) -> list[ScanImport]:
    samples = samples_dir()
    policy_ensure_default()
    people, services = demo_organisation()  # demo/org.yaml, applied like any organisation file
    ciso: Person = people["ciso@demo.detente"]
    for rel in INTEL:
        load = intel_load(path=samples / rel, actor=ciso)
        progress(f"loaded {load.get_kind_display()}: {load.records} records from {Path(rel).name}")
    imports: list[ScanImport] = []
    engineer = people["engineer@demo.detente"]
    for scan in SCANS:
        options = ImportOptions(service=services[scan.service], asset_name=scan.asset)
        (result,) = scan_import(
            paths=[samples / "scans" / scan.path], actor=engineer, options=options
        )
        imports.append(result)
        progress(
            f"imported {Path(scan.path).name}: {result.parsed} findings "
            f"({result.new} new, {result.unchanged} unchanged) into {scan.service}"
        )
        if scan.exposed is not None:
            owner = services[scan.service].owner
            for asset in Asset.objects.filter(scopes__last_import=result).distinct():
                asset_set_exposure(asset=asset, publicly_exposed=scan.exposed, actor=owner)
    findings_reevaluate(actor=ciso)
    build_gate_demo(samples=samples, progress=progress)
    build_api_register(samples=samples, people=people, services=services, progress=progress)
    build_initiatives_demo(people, progress=progress)
    return imports
