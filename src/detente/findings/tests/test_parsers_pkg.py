"""Package scanners: Trivy, Grype and OSV-Scanner against the real samples and against bad input."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from typing import Any

import pytest

from detente.findings.parsers import ParsedFinding, ParseError, Severity, parse_stream
from detente.findings.parsers.osv import cvss3_base_score
from detente.findings.parsers.registry import detect_format
from detente.findings.tests.parity import SCANS, manifest_records, severity_word


def _parse(local_path: str, fmt: str) -> list[ParsedFinding]:
    path = SCANS / local_path
    with path.open("rb") as handle:
        return list(parse_stream(handle, path.name, fmt=fmt))


def _parse_bytes(data: bytes, fmt: str, name: str = "report.json") -> list[ParsedFinding]:
    return list(parse_stream(io.BytesIO(data), name, fmt=fmt))


def _refused(data: bytes, fmt: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        _parse_bytes(data, fmt, name="bad.json")
    assert "bad.json" in str(caught.value)
    return caught.value


def _histogram(findings: list[ParsedFinding]) -> dict[str, int]:
    return dict(Counter(severity_word(f.severity) for f in findings))


MANIFEST = {record["local_path"]: record for record in manifest_records()}

# ---------------------------------------------------------------- Trivy


@pytest.mark.parametrize(
    "local_path",
    [p for p in MANIFEST if p.startswith("trivy/")],
)
def test_trivy_severity_histogram_equals_the_manifest(local_path: str) -> None:
    findings = _parse(local_path, "trivy")

    assert len(findings) == MANIFEST[local_path]["expected_findings"]
    assert _histogram(findings) == MANIFEST[local_path]["observed"]["by_severity"]
    assert {f.scanner for f in findings} == {"trivy"}


def test_trivy_schema2_first_finding_has_every_field() -> None:
    first = _parse("trivy/scheme_2_many_vulns.json", "trivy")[0]

    assert first.vuln_id == "CVE-2020-15999"
    assert first.severity is Severity.MEDIUM
    assert first.scanner_severity == "MEDIUM"
    assert (first.component, first.component_version) == ("freetype", "2.9.1-r2")
    assert first.fixed_in == "2.9.1-r3"
    assert first.file_path == "app/libs/freetype-2.9.1-r2"
    assert first.cwe == 787
    assert (first.asset_kind, first.asset_name) == ("image", "teamdojo:latest")
    assert first.identity == ("CVE-2020-15999", "freetype", "app/libs/freetype-2.9.1-r2")
    assert first.record == "Results[0].Vulnerabilities[0]"
    assert first.title.startswith("freetype: Heap-based buffer overflow")


def test_trivy_keeps_the_vendor_severity_and_the_nvd_vector() -> None:
    # same CVE, same CVSS block; the vendor (ubuntu) word differs between the two files
    medium = _parse("trivy/cvss_severity_source.json", "trivy")[0]
    low = _parse("trivy/severity_prio.json", "trivy")[0]

    assert (medium.severity, low.severity) == (Severity.MEDIUM, Severity.LOW)
    for finding in (medium, low):
        assert finding.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N"
        assert finding.cvss_score == 6.5
        assert (
            finding.purl == "pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.14?arch=amd64&distro=ubuntu-22.04"
        )
        assert finding.asset_kind is None  # an SBOM input names no asset


def test_trivy_prefers_a_v3_vector_then_v4_and_keeps_a_comma_list_of_fixes() -> None:
    findings = _parse("trivy/cvssv4_severity_source.json", "trivy")

    first = findings[0]
    assert first.vuln_id == "CVE-2025-66614"
    assert first.fixed_in == "11.0.14, 10.1.49, 9.0.112"
    assert first.cvss_vector == "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N"  # redhat v3, no nvd
    assert first.unique_id_from_tool is not None
    assert first.unique_id_from_tool.startswith("sha256:")
    assert (first.asset_kind, first.asset_name) == ("repository", "lib/catalina.jar")
    assert first.file_path == "catalina.jar"


def test_trivy_v4_vector_when_no_source_has_v3() -> None:
    doc = {
        "SchemaVersion": 2,
        "Results": [
            {
                "Target": "x",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2026-1",
                        "PkgName": "p",
                        "Severity": "LOW",
                        "CVSS": {"ghsa": {"V40Vector": "CVSS:4.0/AV:N/AC:L", "V40Score": 2.3}},
                    }
                ],
            }
        ],
    }
    (finding,) = _parse_bytes(json.dumps(doc).encode(), "trivy")

    assert (finding.cvss_vector, finding.cvss_score) == ("CVSS:4.0/AV:N/AC:L", 2.3)


def test_trivy_not_affected_status_is_suppressed_and_others_are_not() -> None:
    findings = _parse("trivy/all_statuses.json", "trivy")

    suppressed = [f for f in findings if f.suppressed]
    assert len(findings) == 8
    assert len(suppressed) == 1
    assert suppressed[0].vex_state == "not_affected"
    assert all(f.vex_state is None for f in findings if not f.suppressed)


def test_trivy_legacy_list_uses_the_target_as_image() -> None:
    findings = _parse("trivy/legacy_many_vulns.json", "trivy")

    first = findings[0]
    assert (first.vuln_id, first.component, first.component_version) == (
        "CVE-2011-3374",
        "apt",
        "1.8.2.2",
    )
    assert first.cwe == 347
    assert {(f.asset_kind, f.asset_name) for f in findings} == {("image", "debian")}
    assert first.record == "[0].Vulnerabilities[0]"


def test_trivy_kubernetes_findings_belong_to_workloads() -> None:
    findings = _parse("trivy/kubernetes.json", "trivy")

    first = findings[0]
    assert first.vuln_id == "CVE-2020-27350"
    assert first.file_path == "gcr.io/google_samples/gb-redis-follower:v2 (debian 10.4)"
    assert first.asset_kind == "workload"
    assert first.asset_name is not None
    assert first.asset_name.endswith("/default/Deployment/redis-follower")
    assert first.asset_name.startswith("arn:aws:eks:us-east-1:576036489467:cluster/")
    misconfigs = [f for f in findings if f.record.startswith("Misconfigurations")]
    assert len(misconfigs) == 10
    assert misconfigs[0].vuln_id == "KSV001"
    assert misconfigs[0].line == 132


def test_trivy_kubernetes_resources_shape_without_cluster_name() -> None:
    findings = _parse("trivy/issue_10991.json", "trivy")

    first = findings[0]
    assert (first.vuln_id, first.aliases) == ("KSV116", ("AVD-KSV-0116",))
    assert first.asset_name == "default/Service/kubernetes"
    assert first.record == "Resources[0].Results[0].Misconfigurations[0]"


def test_trivy_secrets_never_carry_the_match() -> None:
    findings = _parse("trivy/misconfigurations_and_secrets.json", "trivy")
    secrets = [f for f in findings if ".Secrets[" in f.record]

    assert [(s.vuln_id, s.file_path, s.line) for s in secrets] == [
        ("github-pat", "Dockerfile", 24),
        ("github-pat", "secret.txt", 1),
    ]
    digest = hashlib.sha256(b"ENV GITHUB_PAT=*****").hexdigest()
    assert secrets[0].identity == ("github-pat", "Dockerfile", "24", digest)
    for secret in secrets:
        assert "GITHUB_PAT" not in repr(secret)


def test_trivy_licenses_are_findings() -> None:
    findings = _parse("trivy/license_scheme.json", "trivy")

    first = findings[0]
    assert (first.vuln_id, first.severity, first.component) == (
        "GPL-2.0",
        Severity.HIGH,
        "alpine-baselayout",
    )
    assert first.file_path == ""
    assert first.title == "License detected in OS Packages - GPL-2.0"


def _trivy_doc(*vulns: dict[str, Any]) -> bytes:
    return json.dumps(
        {"SchemaVersion": 2, "Results": [{"Target": "t", "Vulnerabilities": list(vulns)}]}
    ).encode()


def test_trivy_repeated_vulnerability_keeps_text_only_on_the_first() -> None:
    vuln = {
        "VulnerabilityID": "CVE-2026-0001",
        "PkgName": "a",
        "Severity": "HIGH",
        "Title": "t1",
        "Description": "long text",
        "References": [f"https://r/{i}" for i in range(15)],
        "CweIDs": ["CWE-79"],
    }
    data = _trivy_doc(vuln, {**vuln, "PkgName": "b"})

    first, repeat = _parse_bytes(data, "trivy")

    assert (first.description, len(first.references)) == ("long text", 10)
    assert (repeat.description, repeat.references) == (None, ())
    assert (repeat.title, repeat.cwe) == ("t1", 79)
    assert repeat.identity == ("CVE-2026-0001", "b", "t")


def test_trivy_wrong_type_names_the_json_path() -> None:
    data = _trivy_doc(
        {"VulnerabilityID": "CVE-1", "Severity": "LOW"},
        {"VulnerabilityID": "CVE-2", "Severity": 4},
    )
    error = _refused(data, "trivy")

    assert error.record == "Results[0].Vulnerabilities[1]"
    assert error.field == "Severity"


def test_trivy_results_not_a_list_is_refused() -> None:
    error = _refused(b'{"SchemaVersion": 2, "Results": {"a": 1}}', "trivy")

    assert (error.record, error.field) == ("document", "Results")


@pytest.mark.parametrize(
    ("vuln", "field"),
    [
        ({"VulnerabilityID": "CVE-1", "Severity": "SEVERE"}, "Severity"),
        ({"VulnerabilityID": "CVE-1"}, "Severity"),
        ({"PkgName": "x", "Severity": "LOW"}, "VulnerabilityID"),
        ({"VulnerabilityID": "CVE-1", "Severity": "LOW", "CVSS": {"nvd": {"V3Score": "x"}}}, None),
    ],
)
def test_trivy_bad_records_are_refused(vuln: dict[str, Any], field: str | None) -> None:
    error = _refused(_trivy_doc(vuln), "trivy")

    assert error.record is not None
    assert error.record.startswith("Results[0].Vulnerabilities[0]")
    if field:
        assert error.field == field


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n",
        b'{"SchemaVersion": 2, "Results": [{"Target": "t", "Vulnerabilities": [',
        b'{"SchemaVersion": 2, "ArtifactName": "\xff\xfe"}',
        b'[{"Target": "x", "Vulnerabilities": "nope"}]',
    ],
)
def test_trivy_unreadable_documents_are_refused(data: bytes) -> None:
    error = _refused(data, "trivy")

    assert error.record is not None


# ---------------------------------------------------------------- Grype


@pytest.mark.parametrize("local_path", [p for p in MANIFEST if p.startswith("anchore_grype/")])
def test_grype_severity_histogram_equals_the_manifest(local_path: str) -> None:
    findings = _parse(local_path, "grype")

    assert len(findings) == MANIFEST[local_path]["expected_findings"]
    assert _histogram(findings) == MANIFEST[local_path]["observed"]["by_severity"]


def test_grype_first_finding_and_negligible_is_info() -> None:
    findings = _parse("anchore_grype/check_all_fields.json", "grype")

    first = findings[0]
    assert first.vuln_id == "CVE-2004-0971"
    assert (first.severity, first.scanner_severity) == (Severity.INFO, "Negligible")
    assert (first.component, first.component_version) == ("libgssapi-krb5-2", "1.17-3+deb10u3")
    assert first.file_path == "/var/lib/dpkg/status"
    assert (first.asset_kind, first.asset_name) == ("image", "vulnerable-image:latest")
    assert first.title == "CVE-2004-0971 in libgssapi-krb5-2:1.17-3+deb10u3"
    assert first.cvss_vector == "AV:L/AC:L/Au:N/C:N/I:P/A:N"  # only NVD's v2 is known
    assert first.scanner == "grype"


def test_grype_ghsa_primary_carries_cves_as_aliases() -> None:
    findings = _parse("anchore_grype/check_all_fields.json", "grype")
    django = [f for f in findings if f.component == "Django"]

    assert len(django) == 1  # the file lists this match twice
    assert django[0].vuln_id == "GHSA-v6rh-hp5x-86rv"
    assert django[0].aliases == ("CVE-2021-44420",)
    assert django[0].cve == "CVE-2021-44420"
    assert django[0].fixed_in == "3.2.10"

    (other,) = _parse("anchore_grype/check_all_fields_different_ids_fabricated.json", "grype")
    assert other.cves == ("CVE-2021-1234", "CVE-2021-5678")


def test_grype_same_cve_and_package_on_two_paths_is_one_finding() -> None:
    (finding,) = _parse("anchore_grype/same_cve_different_paths.json", "grype")

    assert finding.vuln_id == "CVE-2021-33574"
    assert finding.file_path == "/usr/lib/x86_64-linux-gnu/libc.so.6"
    assert finding.identity[:3] == ("CVE-2021-33574", "libc6", "deb")


def test_grype_missing_severity_is_info_and_fix_versions_are_kept() -> None:
    findings = _parse("anchore_grype/issue_9618.json", "grype")
    unrated = [f for f in findings if f.scanner_severity == ""]

    assert len(unrated) == 1
    assert unrated[0].severity is Severity.INFO
    (fixed,) = _parse("anchore_grype/fix_available.json", "grype")
    (not_fixed,) = _parse("anchore_grype/fix_not_available.json", "grype")
    assert fixed.identity == not_fixed.identity
    assert fixed.fixed_in is not None
    assert not_fixed.fixed_in is None


def _grype_doc(matches: Any, **extra: Any) -> bytes:
    return json.dumps({"matches": matches, "descriptor": {"name": "grype"}, **extra}).encode()


def _match(vuln_id: str = "CVE-1", severity: Any = "High") -> dict[str, Any]:
    return {
        "vulnerability": {"id": vuln_id, "severity": severity},
        "artifact": {"name": "p", "version": "1", "type": "npm", "locations": [{"path": "/a"}]},
    }


def test_grype_ignored_matches_are_yielded_suppressed() -> None:
    ignored = {**_match("CVE-2"), "appliedIgnoreRules": [{"vex-status": "not_affected"}]}
    findings = _parse_bytes(_grype_doc([_match()], ignoredMatches=[ignored]), "grype")

    assert [(f.vuln_id, f.suppressed, f.vex_state) for f in findings] == [
        ("CVE-1", False, None),
        ("CVE-2", True, "not_affected"),
    ]


@pytest.mark.parametrize(
    ("data", "record", "field"),
    [
        (_grype_doc({"a": 1}), "document", "matches"),
        (json.dumps({"source": {}}).encode(), "document", "matches"),
        (_grype_doc([_match(severity="Severe")]), "matches[0].vulnerability", "severity"),
        (_grype_doc([{"artifact": {"name": "p"}}]), "matches[0]", "vulnerability"),
        (_grype_doc([{"vulnerability": {"id": "X"}}]), "matches[0]", "artifact"),
        (_grype_doc(["text"]), "matches[0]", None),
        (b'{"matches": [', "document", None),
        (b'{"matches": [], "x": "\xff"}', "document", None),
    ],
)
def test_grype_bad_input_is_refused(data: bytes, record: str, field: str | None) -> None:
    error = _refused(data, "grype")

    assert (error.record, error.field) == (record, field)


# ---------------------------------------------------------------- OSV-Scanner


def test_osv_groups_aliases_into_one_finding() -> None:
    findings = _parse("osv_scanner/many_findings.json", "osv")

    assert len(findings) == 37  # 66 OSV records in 37 alias groups
    by_id = {(f.vuln_id, f.component): f for f in findings}
    urllib3 = by_id[("GHSA-g4mx-q9vg-27p4", "urllib3")]
    assert urllib3.aliases == ("CVE-2023-45803", "PYSEC-2023-212")
    assert not any(f.vuln_id.startswith("PYSEC-2023-212") for f in findings)
    psr7 = by_id[("GHSA-q7rv-6hp3-vh96", "guzzlehttp/psr7")]
    assert "GHSA-wxmh-65f7-jcvw" in psr7.aliases
    assert psr7.cves == ("CVE-2022-24775", "CVE-2023-29197", "CVE-2023-29530")


def test_osv_first_finding() -> None:
    first = _parse("osv_scanner/many_findings.json", "osv")[0]

    assert first.vuln_id == "GHSA-25mq-v84q-4j7r"
    assert (first.severity, first.scanner_severity) == (Severity.HIGH, "HIGH")
    assert first.cve == "CVE-2022-31090"
    assert (first.component, first.component_version) == ("guzzlehttp/guzzle", "6.3.3")
    assert first.fixed_in == "6.5.8, 7.4.5"
    assert first.file_path == "/tmpcardmarket-api/composer.lock"
    assert first.purl == "pkg:composer/guzzlehttp/guzzle@6.3.3"
    assert first.cwes == (200, 212)
    assert first.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N"
    assert first.cvss_score == 7.7
    assert first.identity == ("GHSA-25mq-v84q-4j7r", "guzzlehttp/guzzle", first.file_path)


def test_osv_record_without_a_word_is_rated_from_its_vector() -> None:
    findings = _parse("osv_scanner/many_findings.json", "osv")
    (selenium,) = [f for f in findings if f.component == "selenium"]

    assert selenium.vuln_id == "PYSEC-2023-206"
    assert selenium.scanner_severity == ""
    assert selenium.severity is Severity.HIGH
    assert selenium.cvss_score == 7.5


def test_osv_malicious_package_without_rating_is_low_with_its_cwe() -> None:
    (finding,) = _parse("osv_scanner/some_findings.json", "osv")

    assert finding.vuln_id == "MAL-2023-1035"
    assert finding.aliases == ("GHSA-8348-2q94-ffjx",)
    assert (finding.severity, finding.scanner_severity) == (Severity.LOW, "")
    assert finding.cwe == 506
    assert finding.fixed_in is None


def test_osv_empty_file_is_empty_when_forced_and_refused_by_detection() -> None:
    assert _parse("osv_scanner/no_findings.json", "osv") == []
    with pytest.raises(ParseError, match="empty"):
        detect_format(b"", "no_findings.json")


def test_osv_max_severity_of_the_group_wins() -> None:
    doc = {
        "results": [
            {
                "source": {"path": "/r/go.mod"},
                "packages": [
                    {
                        "package": {"name": "m", "version": "1", "ecosystem": "Go"},
                        "vulnerabilities": [
                            {"id": "GO-1", "database_specific": {"severity": "LOW"}}
                        ],
                        "groups": [{"ids": ["GO-1"], "aliases": ["CVE-9"], "max_severity": "9.1"}],
                    }
                ],
            }
        ]
    }
    (finding,) = _parse_bytes(json.dumps(doc).encode(), "osv")

    assert (finding.severity, finding.scanner_severity, finding.cvss_score) == (
        Severity.CRITICAL,
        "9.1",
        9.1,
    )
    assert finding.aliases == ("CVE-9",)


def _osv_doc(package: Any) -> bytes:
    return json.dumps({"results": [{"source": {"path": "p"}, "packages": [package]}]}).encode()


@pytest.mark.parametrize(
    ("data", "record", "field"),
    [
        (json.dumps({"results": {}}).encode(), "document", "results"),
        (json.dumps({"other": []}).encode(), "document", "results"),
        (
            _osv_doc({"package": {"name": "x"}, "vulnerabilities": [{}]}),
            "results[0].packages[0].vulnerabilities[0]",
            "id",
        ),
        (
            _osv_doc(
                {
                    "package": {"name": "x"},
                    "vulnerabilities": [{"id": "A", "database_specific": {"severity": "SEVERE"}}],
                }
            ),
            "results[0].packages[0].vulnerabilities[0]",
            "severity",
        ),
        (_osv_doc({"package": {"name": "x"}, "groups": "no"}), "results[0].packages[0]", "groups"),
        (b'{"results": [', "document", None),
    ],
)
def test_osv_bad_input_is_refused(data: bytes, record: str, field: str | None) -> None:
    error = _refused(data, "osv")

    assert (error.record, error.field) == (record, field)


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N", 7.7),
        ("CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N", 4.2),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.1/AV:N/AC:L", None),
    ],
)
def test_cvss3_base_score(vector: str, score: float | None) -> None:
    assert cvss3_base_score(vector) == score


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'{"SchemaVersion": 2, "ArtifactName": "x", "Results": []}', "trivy"),
        (b'[{"Target": "a (alpine 3.1)", "Type": "alpine", "Vulnerabilities": null}]', "trivy"),
        (b'{"ClusterName": "c", "Resources": []}', "trivy"),
        (b'{"matches": [], "source": {}, "descriptor": {"name": "grype"}}', "grype"),
        (b'{"results": [{"source": {}, "packages": []}], "experimental_config": {}}', "osv"),
    ],
)
def test_detection_from_content(head: bytes, expected: str) -> None:
    assert detect_format(head, "scan.json") == expected


def test_trivy_records_are_decoded_one_by_one_and_a_bad_one_is_named() -> None:
    data = _trivy_doc({"VulnerabilityID": "CVE-1", "Severity": "LOW"}, {"VulnerabilityID": 7})
    error = _refused(data, "trivy")
    assert (error.record, error.field) == ("Results[0].Vulnerabilities[1]", "VulnerabilityID")
