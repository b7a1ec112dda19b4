"""Incoming VEX (OpenVEX, CycloneDX, CSAF 2.0): recorded, reviewed, honoured by the gate, and
re-opened by a new product version or a changed statement."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding, Status
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json
from detente.gates.evaluate import GateRequest, evaluate
from detente.gates.models import VexState, VexStatement
from detente.gates.outputs import sarif
from detente.gates.vex import vex_apply, vex_review
from detente.gates.vex_in import version_matches
from detente.inventory.models import BusinessService
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
PURL = "pkg:deb/debian/libxml2@2.9.14"


def _report(tmp_path: Path, version: str) -> Path:
    return write_json(tmp_path / f"trivy-{version}.json", trivy_report(
        [trivy_vuln("CVE-2024-5000", pkg="libxml2", version=version, severity="HIGH",
                    fixed="2.12.7")]
    ))  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> tuple[BusinessService, Person, Person, Path]:
    clock.set_now(NOW)
    shop = service_upsert(slug="shop", name="Shop", owner=None, criticality="critical")
    engineer = person_upsert(name="Eva", email="eva@example.org", role=Role.ENGINEER)
    ciso = person_upsert(name="Carla", email="carla@example.org", role=Role.CISO)
    report = _report(tmp_path, "2.9.14")
    scan_import(paths=[report], options=ImportOptions(service=shop))
    return shop, engineer, ciso, report


def _openvex(tmp_path: Path, status: str = "not_affected", **extra: Any) -> Path:
    statement = {"vulnerability": {"name": "CVE-2024-5000"}, "products": [{"@id": PURL}],
                 "status": status, **extra}  # fmt: skip
    if status == "not_affected" and not extra:
        statement["justification"] = "vulnerable_code_not_in_execute_path"
    doc = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.org/vex/1",
           "author": "Debian LTS", "timestamp": "2026-11-01T00:00:00Z", "version": 1,
           "statements": [statement]}  # fmt: skip
    path = tmp_path / f"{status}.openvex.json"
    path.write_text(json.dumps(doc))
    return path


def _gate(shop: BusinessService, report: Path) -> Any:
    return evaluate(GateRequest(shop, "1.0", [report]))


def test_a_reviewed_not_affected_statement_passes_the_gate_and_a_new_version_reopens_it(
    world: tuple[BusinessService, Person, Person, Path], tmp_path: Path
) -> None:
    shop, engineer, ciso, report = world

    applied = vex_apply(actor=engineer, path=_openvex(tmp_path))
    pending = _gate(shop, report)
    statement, marked = vex_review(actor=ciso, statement=applied.statements[0].pk)
    reviewed = _gate(shop, report)
    newer = _gate(shop, _report(tmp_path, "2.9.15"))

    assert (applied.format, applied.findings, applied.not_affected) == ("openvex", 1, 0)
    assert pending.decision == "blocked"  # not reviewed yet: nothing changes
    assert marked == 1
    assert Finding.objects.get().status == Status.NOT_AFFECTED
    assert (statement.author, statement.issued_at, statement.document) == (
        "Debian LTS",
        dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        "not_affected.openvex.json",
    )
    assert reviewed.decision == "pass"
    assert [(i.state, i.vex["id"] if i.vex else None) for i in reviewed.items] == [
        ("not_affected", statement.pk)
    ]
    suppression = sarif(reviewed)["runs"][0]["results"][0]["suppressions"][0]
    assert suppression["properties"] == {"vex_statement": statement.pk}
    assert newer.decision == "blocked"
    assert newer.blocking[0].unblock.startswith(
        f"VEX-{statement.pk} says not affected for 2.9.14, not 2.9.15"
    )


def test_a_changed_statement_supersedes_and_reopens_and_facts_are_recorded(
    world: tuple[BusinessService, Person, Person, Path], tmp_path: Path
) -> None:
    _, _, ciso, _ = world
    first = vex_apply(actor=ciso, path=_openvex(tmp_path), review=True)

    second = vex_apply(actor=ciso, path=_openvex(tmp_path, "affected"))

    assert first.not_affected == 1
    assert second.reopened == 1
    assert Finding.objects.get().status == Status.OPEN
    assert list(VexStatement.objects.order_by("id").values_list("status", "state")) == [
        ("not_affected", VexState.SUPERSEDED), ("affected", VexState.RECORDED),
    ]  # fmt: skip
    assert list(AuditEvent.objects.filter(verb__startswith="vex.").values_list("verb", flat=True))\
        == ["vex.applied", "vex.applied"]  # fmt: skip


def test_cyclonedx_ranges_and_csaf_products_are_read(
    world: tuple[BusinessService, Person, Person, Path], tmp_path: Path
) -> None:
    _, _, ciso, _ = world
    cdx = tmp_path / "vex.cdx.json"
    cdx.write_text(json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"timestamp": "2026-10-30T10:00:00Z", "authors": [{"name": "Shop team"}]},
        "components": [{"bom-ref": "libxml2", "type": "library", "name": "libxml2",
                        "purl": PURL}],
        "vulnerabilities": [{"id": "CVE-2024-5000", "analysis": {
            "state": "not_affected", "justification": "code_not_reachable"},
            "affects": [{"ref": "libxml2", "versions": [
                {"range": "vers:deb/>=2.9.0|<2.10.0", "status": "unaffected"}]}]}],
    }))  # fmt: skip
    csaf = tmp_path / "vex.csaf.json"
    csaf.write_text(json.dumps({
        "document": {"csaf_version": "2.0", "category": "csaf_vex", "title": "libxml2",
                     "publisher": {"name": "Debian", "category": "vendor",
                                   "namespace": "https://debian.org"},
                     "tracking": {"current_release_date": "2026-10-31T00:00:00Z", "id": "x",
                                  "status": "final", "version": "1"}},
        "product_tree": {"branches": [{"category": "product_version", "name": "2.9.14",
            "product": {"product_id": "P1", "name": "libxml2 2.9.14",
                        "product_identification_helper": {"purl": PURL}}}]},
        "vulnerabilities": [{"cve": "CVE-2024-5000",
                             "product_status": {"known_not_affected": ["P1"]},
                             "flags": [{"label": "vulnerable_code_not_present",
                                        "product_ids": ["P1"]}]}],
    }))  # fmt: skip

    from_cdx = vex_apply(actor=ciso, path=cdx, review=True)
    from_csaf = vex_apply(actor=ciso, path=csaf)

    row = from_cdx.statements[0]
    assert (from_cdx.format, row.versions, row.author, from_cdx.findings) == (
        "cyclonedx",
        "vers:deb/>=2.9.0|<2.10.0",
        "Shop team",
        1,
    )
    assert (from_csaf.format, from_csaf.statements[0].justification, from_csaf.findings) == (
        "csaf",
        "vulnerable_code_not_present",
        1,
    )
    assert Finding.objects.get().status == Status.NOT_AFFECTED


def test_refusals_change_nothing(
    world: tuple[BusinessService, Person, Person, Path], tmp_path: Path
) -> None:
    _, engineer, _, _ = world
    bare = _openvex(tmp_path, "not_affected", status_notes="")
    not_vex = tmp_path / "x.json"
    not_vex.write_text('{"hello": 1}')

    with pytest.raises(InputError, match=r"record statements\[0\], field 'justification'"):
        vex_apply(actor=engineer, path=bare)
    with pytest.raises(InputError, match="not a VEX document"):
        vex_apply(actor=engineer, path=not_vex)
    with pytest.raises(PermissionDenied, match="policy lets ciso, security_lead review"):
        vex_apply(actor=engineer, path=_openvex(tmp_path), review=True)
    assert not VexStatement.objects.exists()
    assert Finding.objects.get().status == Status.OPEN


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [("", "1.0", True), ("2.9.14", "2.9.14", True), ("2.9.14", "2.9.15", False),
     ("vers:deb/>=2.9.0|<2.10.0", "2.9.14", True), ("vers:deb/>=2.9.0|<2.10.0", "2.10.1", False),
     ("vers:npm/*", "9.9.9", True), ("vers:pypi/<1.10", "1.9.2", True)],
)  # fmt: skip
def test_version_ranges(spec: str, version: str, expected: bool) -> None:
    assert version_matches(spec, version) is expected
