"""The gate's JUnit XML against the schema CI tools accept (Jenkins xUnit's junit-10 shape, in
``fixtures/junit-jenkins.xsd``) with a real XML Schema validator, and read back by junitparser:
blocking = failure, accepted = skipped with the acceptance, warn = passed with output."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xmlschema
from junitparser import Failure, JUnitXml, Skipped

from detente.acceptances.tests.factories import approved, org
from detente.core import clock
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json
from detente.gates import outputs
from detente.gates.evaluate import GateRequest, evaluate
from detente.intel.services import intel_load
from detente.inventory.services import service_upsert

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
XSD = Path(__file__).parent / "fixtures" / "junit-jenkins.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def test_every_state_is_valid_junit_and_reads_back(
    samples: Path, tmp_path: Path, schema: xmlschema.XMLSchema
) -> None:
    clock.set_now(NOW)
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2026-08-07.json")
    people = org()
    service = service_upsert(slug="shop", name="Shop", owner=None, criticality="medium")
    # a KEV (blocks), a high without a fix (warns), a fixable critical that an approved
    # acceptance covers (skipped); the KEV's title holds an ANSI colour code (XML 1.0 cannot
    # carry ESC) and a NUL (the parser strips it)
    report = write_json(tmp_path / "t.json", trivy_report([
        trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="CRITICAL",
                   title="log4j \x1b[31mRCE\x1b[0m & <jndi> \x00 lookup"),
        trivy_vuln("CVE-2024-5000", pkg="libxml2", severity="HIGH"),
        trivy_vuln("CVE-2024-7000", pkg="zlib", severity="CRITICAL", fixed="1.3.1"),
    ]))  # fmt: skip
    scan_import(paths=[report], options=ImportOptions(service=service))
    acceptance = approved(people, list(Finding.objects.filter(vuln_id="CVE-2024-7000")), days=5)
    result = evaluate(GateRequest(service=service, version="1.0", paths=[report]))
    assert [(i.vuln_id, i.state) for i in result.items] == [
        ("CVE-2021-44228", "block"), ("CVE-2024-5000", "warn"), ("CVE-2024-7000", "accepted"),
    ]  # fmt: skip

    written = tmp_path / "gate.xml"
    written.write_text(outputs.junit(result), encoding="utf-8")

    schema.validate(str(written))  # raises XMLSchemaValidationError with the path on a mismatch
    junit = JUnitXml.fromfile(str(written))
    cases = {case.name: case for suite in junit for case in suite}
    assert sorted(cases) == [
        "CVE-2021-44228 in log4j-core 1.1.1k", "CVE-2024-5000 in libxml2 1.1.1k",
        "CVE-2024-7000 in zlib 1.1.1k",
    ]  # fmt: skip
    blocked = cases["CVE-2021-44228 in log4j-core 1.1.1k"].result
    assert isinstance(blocked[0], Failure)
    assert blocked[0].message == "blocked by kev"
    assert "log4j \ufffd[31mRCE\ufffd[0m & <jndi>  lookup" in (blocked[0].text or "")
    skipped = cases["CVE-2024-7000 in zlib 1.1.1k"].result
    assert isinstance(skipped[0], Skipped)
    assert skipped[0].message.startswith(f"accepted risk RA-{acceptance.pk} until ")
    assert cases["CVE-2024-5000 in libxml2 1.1.1k"].result == []  # a warning passes
    assert cases["CVE-2024-5000 in libxml2 1.1.1k"].system_out.startswith("warning (high-warn)")


def test_the_schema_refuses_what_jenkins_refuses(schema: xmlschema.XMLSchema) -> None:
    # the check is not vacuous: a skipped count on <testsuites> (what the gate wrote before) and
    # a suite without its failures count are both refused
    bad_root = (
        '<testsuites skipped="1"><testsuite name="g" tests="0" failures="0" errors="0"/>'
        "</testsuites>"
    )
    bad_suite = '<testsuites><testsuite name="g" tests="0" errors="0"/></testsuites>'
    assert not schema.is_valid(bad_root)
    assert not schema.is_valid(bad_suite)
    assert schema.is_valid(bad_root.replace(' skipped="1"', ""))
