"""The gate's rules, one by one, on small real Trivy reports and the real KEV catalogue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from detente.core import clock
from detente.core.errors import InputError
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding, Status
from detente.findings.services import scan_import
from detente.findings.tests.factories import LOCAL_LOW, trivy_report, trivy_vuln, write_json
from detente.gates.evaluate import GateRequest, Result, evaluate
from detente.gates.models import ALLOWED, OverrideStatus
from detente.gates.selectors import baseline_for
from detente.intel.models import EpssScore
from detente.intel.services import intel_load
from detente.inventory.models import Asset, BusinessService
from detente.inventory.services import service_upsert
from detente.policy.document import pack_text, parse_policy
from detente.policy.services import policy_activate

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def service(samples: Path) -> BusinessService:
    clock.set_now(NOW)
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2026-08-07.json")
    return service_upsert(slug="shop", name="Shop", owner=None, criticality="medium")


def _gate(service: BusinessService, path: Path, **extra: Any) -> Result:
    return evaluate(GateRequest(service=service, version="1.0", paths=[path], **extra))


def _states(result: Result) -> list[tuple[str, str, list[str], list[str]]]:
    return [(i.vuln_id, i.state, i.rules, i.warns) for i in result.items]


def test_kev_blocks_high_without_fix_only_warns_and_low_passes(
    service: BusinessService, tmp_path: Path
) -> None:
    report = write_json(tmp_path / "t.json", trivy_report([
        trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="CRITICAL"),
        trivy_vuln("CVE-2024-5000", pkg="libxml2", severity="HIGH"),
        trivy_vuln("CVE-2024-6000", pkg="zlib", severity="LOW", vector=LOCAL_LOW),
    ]))  # fmt: skip

    result = _gate(service, report)

    assert result.decision == "blocked"
    assert _states(result) == [
        ("CVE-2021-44228", "block", ["kev"], ["high-warn"]),
        ("CVE-2024-5000", "warn", [], ["high-warn"]),
        ("CVE-2024-6000", "pass", [], []),
    ]
    assert result.blocking[0].unblock.startswith(
        "request an acceptance (after importing the report): detente accept request "
        "--service shop --cve CVE-2021-44228"
    )
    assert not Finding.objects.exists()  # deciding imports nothing


def test_a_fixable_high_blocks_only_on_a_service_of_the_rule_criticality(
    service: BusinessService, tmp_path: Path
) -> None:
    report = write_json(tmp_path / "t.json", trivy_report(
        [trivy_vuln("CVE-2024-5000", pkg="libxml2", severity="HIGH", fixed="2.12.7")]
    ))  # fmt: skip

    medium = _gate(service, report)
    service.criticality = "critical"
    service.save()
    critical = _gate(service, report)

    assert (medium.decision, critical.decision) == ("pass", "blocked")
    assert critical.blocking[0].rules == ["high-with-fix-critical-service"]
    assert critical.blocking[0].unblock == "upgrade libxml2 to 2.12.7"


def test_a_critical_blocks_on_an_internet_facing_service_while_its_asset_is_exposed(
    service: BusinessService, tmp_path: Path
) -> None:
    # the default pack's critical-internet-facing: no fix needed, keyed on the service's
    # internet_facing and the asset's exposure (unknown, or not stored yet, counts as exposed)
    report = write_json(tmp_path / "t.json", trivy_report(
        [trivy_vuln("CVE-2024-5000", pkg="libxml2", severity="CRITICAL")]
    ))  # fmt: skip

    internal = _gate(service, report)
    service.internet_facing = True
    service.save()
    facing_new_asset = _gate(service, report)
    scan_import(paths=[report], options=ImportOptions(service=service))
    facing_unknown = _gate(service, report)
    Asset.objects.update(publicly_exposed=False)
    facing_unexposed = _gate(service, report)

    assert _states(internal) == [("CVE-2024-5000", "warn", [], ["high-warn"])]
    assert _states(facing_new_asset) == [
        ("CVE-2024-5000", "block", ["critical-internet-facing"], ["high-warn"])
    ]
    assert facing_unknown.decision == "blocked"
    assert _states(facing_unexposed) == [("CVE-2024-5000", "warn", [], ["high-warn"])]


def test_scope_keys_of_a_rule_combine_with_its_conditions(
    service: BusinessService, tmp_path: Path
) -> None:
    # a policy's own rule: on an unexposed asset of a critical service, only a KEV warns
    doc = pack_text("bod-26-04").replace(
        "    - {id: kev, kev: true, description: known exploited (CISA KEV)}\n",
        "    - {id: kev, kev: true, exposed: true, description: KEV on an exposed asset}\n"
        "    - {id: kev-inside, level: warn, kev: true, exposed: false, criticality: [critical]}\n",
    )
    policy_activate(text=doc, source="test")
    report = write_json(tmp_path / "t.json", trivy_report(
        [trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="HIGH")]
    ))  # fmt: skip
    scan_import(paths=[report], options=ImportOptions(service=service))
    Asset.objects.update(publicly_exposed=False)

    medium = _gate(service, report)
    service.criticality = "critical"
    service.save()
    critical = _gate(service, report)
    Asset.objects.update(publicly_exposed=None)
    unknown = _gate(service, report)

    assert _states(medium) == [("CVE-2021-44228", "warn", [], ["high-warn"])]
    assert _states(critical) == [("CVE-2021-44228", "warn", [], ["kev-inside", "high-warn"])]
    assert _states(unknown) == [("CVE-2021-44228", "block", ["kev"], ["high-warn"])]


def test_epss_threshold_is_keyed_by_model_version(service: BusinessService, tmp_path: Path) -> None:
    doc = pack_text("bod-26-04").replace('min_epss: {"*": 0.5}', 'min_epss: {"v2026.06.15": 0.4}')
    policy_activate(text=doc, source="test")
    EpssScore.objects.create(cve_id="CVE-2024-5000", epss=0.45, percentile=0.9,
                             model_version="v2026.06.15")  # fmt: skip
    EpssScore.objects.create(cve_id="CVE-2024-5001", epss=0.95, percentile=0.99,
                             model_version="v2023.03.01")  # fmt: skip
    report = write_json(tmp_path / "t.json", trivy_report([
        trivy_vuln("CVE-2024-5000", pkg="a", severity="MEDIUM"),
        trivy_vuln("CVE-2024-5001", pkg="b", severity="MEDIUM"),
    ]))  # fmt: skip

    result = _gate(service, report)

    assert _states(result) == [
        ("CVE-2024-5000", "block", ["epss"], []),
        ("CVE-2024-5001", "pass", [], []),  # another model's score does not compare
    ]
    assert (result.items[0].epss, result.items[0].epss_model) == (0.45, "v2026.06.15")


def test_secrets_block_and_the_report_is_a_secrets_scan(
    service: BusinessService, samples: Path
) -> None:
    result = _gate(service, samples / "scans/gitleaks/data_many.json")

    assert result.decision == "blocked"
    assert {i.rules[0] for i in result.blocking} == {"secrets"}
    assert result.scan_kinds == ["secrets"]


def test_a_false_positive_never_blocks_and_a_past_deadline_finding_blocks(
    service: BusinessService, tmp_path: Path
) -> None:
    report = write_json(tmp_path / "t.json", trivy_report([
        trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="CRITICAL"),
        trivy_vuln("CVE-2024-5000", pkg="libxml2", severity="MEDIUM"),
    ]))  # fmt: skip
    scan_import(paths=[report], options=ImportOptions(service=service))
    Finding.objects.filter(cve="CVE-2021-44228").update(status=Status.FALSE_POSITIVE)
    deadline = Finding.objects.get(cve="CVE-2024-5000").deadline
    assert deadline is not None

    before = _gate(service, report)
    clock.set_now(deadline + dt.timedelta(seconds=1))
    after = _gate(service, report)

    assert _states(before) == [
        ("CVE-2021-44228", "false_positive", ["kev"], ["high-warn"]),
        ("CVE-2024-5000", "pass", [], []),
    ]
    assert _states(after)[0] == ("CVE-2024-5000", "block", ["past-deadline"], [])


def test_baseline_lets_only_new_findings_block(service: BusinessService, tmp_path: Path) -> None:
    old = write_json(tmp_path / "old.json", trivy_report([
        trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="CRITICAL"),
    ]))  # fmt: skip
    new = write_json(tmp_path / "new.json", trivy_report([
        trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="CRITICAL"),
        trivy_vuln("CVE-2021-45046", pkg="log4j-core", severity="CRITICAL"),
    ]))  # fmt: skip
    base = baseline_for(service=service, baseline=str(old), options=ImportOptions(service=service))

    result = _gate(service, new, baseline=base.keys, baseline_label=base.label)

    assert base.label == "reports old.json"
    assert _states(result) == [
        ("CVE-2021-45046", "block", ["kev"], ["high-warn"]),
        ("CVE-2021-44228", "baseline", ["kev"], ["high-warn"]),
    ]


def test_unknown_format_is_an_input_error(service: BusinessService, tmp_path: Path) -> None:
    bad = tmp_path / "x.txt"
    bad.write_text("not a report")

    with pytest.raises(InputError, match="format not recognised"):
        _gate(service, bad)


def test_gate_section_refusals_name_the_rule() -> None:
    text = pack_text("bod-26-04")

    with pytest.raises(InputError, match=r"gate.rules\[0\] \(kev\): a rule needs at least one"):
        parse_policy(text.replace("{id: kev, kev: true,", "{id: kev,"))
    with pytest.raises(InputError, match="rule id 'kev' is used twice"):
        parse_policy(text.replace("{id: secrets,", "{id: kev,"))
    with pytest.raises(InputError, match="Object contains unknown field `severity`"):
        parse_policy(text.replace("{id: kev, kev: true,", "{id: kev, severity: high,"))


def test_override_transitions_follow_the_allowed_table() -> None:
    assert {
        OverrideStatus.PENDING: {
            OverrideStatus.CONFIRMED,
            OverrideStatus.REJECTED,
            OverrideStatus.ESCALATED,
        },
        OverrideStatus.ESCALATED: {OverrideStatus.CONFIRMED, OverrideStatus.REJECTED},
        OverrideStatus.CONFIRMED: set(),
        OverrideStatus.REJECTED: set(),
    } == ALLOWED
