"""SARIF, Semgrep, Bandit, Snyk, GitHub and gitleaks parsers on the real samples."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from typing import Any

import msgspec
import pytest

from detente.findings.parsers import ParsedFinding, ParseError, Severity, parse_stream
from detente.findings.parsers.registry import detect_format
from detente.findings.tests.parity import SCANS, manifest_records, severity_word

RECORDS = {record["local_path"]: record for record in manifest_records()}


def _parse(local_path: str, fmt: str) -> list[ParsedFinding]:
    path = SCANS / local_path
    with path.open("rb") as handle:
        return list(parse_stream(handle, path.name, fmt=fmt))


def _parse_bytes(data: bytes, fmt: str, name: str = "upload.json") -> list[ParsedFinding]:
    return list(parse_stream(io.BytesIO(data), name, fmt=fmt))


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


def _histogram(findings: list[ParsedFinding]) -> dict[str, int]:
    return dict(Counter(severity_word(f.severity) for f in findings))


# ---------------------------------------------------------------- SARIF

SARIF_FILES = [path for path, record in RECORDS.items() if record["scanner"] == "sarif"]


@pytest.mark.parametrize("local_path", SARIF_FILES)
def test_sarif_counts_and_severities_match_the_manifest(local_path: str) -> None:
    record = RECORDS[local_path]

    findings = _parse(local_path, "sarif")

    assert len(findings) == record["expected_findings"]
    # note → info, error → high, warning → medium, security-severity bands: DefectDojo's histogram
    assert _histogram(findings) == record["observed"]["by_severity"]


def test_sarif_flawfinder_first_finding_and_skipped_pass_result() -> None:
    findings = _parse("sarif/flawfinder.sarif", "sarif")

    first = findings[0]
    assert first.scanner == "flawfinder"
    assert first.vuln_id == "FF1048"
    assert first.severity is Severity.HIGH
    assert first.scanner_severity == "error"  # rule defaultConfiguration.level
    assert (first.file_path, first.line, first.cwe) == ("src/tree/param.cc", 29, 327)
    assert first.unique_id_from_tool == (
        "e6c1ad2b1d96ffc4035ed8df070600566ad240b8ded025dac30620f3fd4aa9fd"
    )
    assert first.identity == ("FF1048", "src/tree/param.cc", first.unique_id_from_tool)
    # 54 results in the file, one of kind "pass"
    assert len(findings) == 53
    assert len({f.unique_id_from_tool for f in findings}) == 49


def test_sarif_security_severity_score_and_word() -> None:
    grype = _parse("sarif/cxf-3.4.6.sarif", "sarif")
    assert grype[0].scanner == "grype"
    assert (grype[0].severity, grype[0].scanner_severity) == (Severity.LOW, "2.1")
    assert grype[0].aliases == ("CVE-2008-0732",)

    semgrep = _parse("sarif/issue_10191.json", "sarif")
    assert semgrep[0].scanner == "semgrep oss"
    assert Counter(f.scanner_severity for f in semgrep) == {"MEDIUM": 42, "CRITICAL": 34, "HIGH": 1}
    assert semgrep[0].cwe == 22


def test_sarif_suppressions_and_repository_asset() -> None:
    appendix = _parse("sarif/appendix_k.sarif", "sarif")
    assert appendix[0].suppressed is True  # state "accepted"
    assert appendix[0].title.startswith('Variable "ptr" was used without being initialized.')
    assert (appendix[0].asset_kind, appendix[0].asset_name) == (
        "repository",
        "https://github.com/example-corp/browser",
    )

    suppressed = [f.suppressed for f in _parse("sarif/suppression_test.sarif", "sarif")]
    assert suppressed.count(True) == 3
    assert len(suppressed) == 5


def test_sarif_bash_report_keeps_file_uris_and_internal_duplicates() -> None:
    findings = _parse("sarif/bash-report.sarif", "sarif")

    assert len(findings) == 27
    assert findings[0].file_path == "file:///home/damien/dd/docker/setEnv.sh"
    assert findings[0].unique_id_from_tool == (
        "scanFileHash:f196e70ba8d8dace|scanPrimaryLocationHash:47f57f9669991906"
    )
    assert len({f.unique_id_from_tool for f in findings}) == 9
    # the fabricated report repeats fingerprints across files: identity keeps the file apart
    assert len({f.identity for f in findings}) == 12


def test_sarif_codeql_cwe_from_tags() -> None:
    findings = _parse("sarif/codeQL-output.sarif", "sarif")
    assert findings[0].scanner == "codeql"
    assert findings[0].cwe == 390  # tag external/cwe/cwe-390


def test_sarif_gitleaks_never_keeps_the_secret() -> None:
    findings = _parse("sarif/gitleaks_7.5.0.sarif", "sarif")

    assert len(findings) == 8
    assert findings[0].line == 13
    for finding in findings:
        assert "AKIAIOSFODNN7EXAMPLE" not in repr(msgspec.structs.astuple(finding))


def _sarif(result: dict[str, Any], rules: list[dict[str, Any]] | None = None) -> bytes:
    driver: dict[str, Any] = {"name": "Tool", "rules": rules or []}
    return _json({"version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": [result]}]})


def test_sarif_defaults_to_warning_and_accepts_absent_results() -> None:
    only = _parse_bytes(_sarif({"ruleId": "R1", "message": {"text": "m"}}), "sarif")
    assert (only[0].severity, only[0].scanner_severity) == (Severity.MEDIUM, "warning")

    no_results = _json({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "X"}}}]})
    assert _parse_bytes(no_results, "sarif") == []


def test_sarif_rejected_suppression_is_not_suppressed() -> None:
    data = _sarif({"ruleId": "R", "suppressions": [{"kind": "inSource", "status": "rejected"}]})
    assert _parse_bytes(data, "sarif")[0].suppressed is False


@pytest.mark.parametrize(
    ("data", "record", "field"),
    [
        (_sarif({"ruleId": "R", "level": "fatal"}), "runs[0].results[0]", "level"),
        (
            _sarif(
                {"ruleId": "R"},
                [{"id": "R", "properties": {"security-severity": "severe"}}],
            ),
            "runs[0].results[0]",
            "rule.properties.security-severity",
        ),
        (_sarif({"ruleId": 7}), "runs[0].results[0]", "ruleId"),
        (_json({"runs": {"tool": 1}}), "document", "runs"),
        (_json({"runs": [{"tool": {"driver": {}}, "results": []}]}), "runs[0].tool.driver", "name"),
        (
            _sarif(
                {"ruleId": "R", "locations": [{"physicalLocation": {"region": {"startLine": "x"}}}]}
            ),
            "runs[0].results[0].locations[0]",
            "region.startLine",
        ),
    ],
)
def test_sarif_bad_input_names_record_and_field(data: bytes, record: str, field: str) -> None:
    with pytest.raises(ParseError) as caught:
        _parse_bytes(data, "sarif", name="bad.sarif")
    assert (caught.value.file, caught.value.record, caught.value.field) == (
        "bad.sarif",
        record,
        field,
    )


def test_sarif_truncated_and_not_utf8_are_refused() -> None:
    whole = (SCANS / "sarif/appendix_k.sarif").read_bytes()
    with pytest.raises(ParseError, match="not valid JSON"):
        _parse_bytes(whole[: len(whole) // 2], "sarif")
    with pytest.raises(ParseError) as caught:
        _parse_bytes(b'{"runs": ["\xff\xfe"]}', "sarif")
    assert caught.value.record == "document"


# ---------------------------------------------------------------- Semgrep


def test_semgrep_same_match_reported_twice_is_one_finding() -> None:
    findings = _parse("semgrep/repeated_findings.json", "semgrep")

    assert len(findings) == 1
    assert (findings[0].cwe, findings[0].line, findings[0].severity) == (696, 66, Severity.MEDIUM)


def test_semgrep_requires_login_is_not_an_id() -> None:
    findings = _parse("semgrep/fingerprint_test.json", "semgrep")

    assert [f.unique_id_from_tool for f in findings] == [None, None]
    assert findings[0].identity == (
        "python.lang.security.audit.dangerous-subprocess-use-tainted-env-args."
        "dangerous-subprocess-use-tainted-env-args",
        "sample/brute.py",
        "31",
    )


def test_semgrep_fingerprint_identity_survives_a_line_shift() -> None:
    line31 = _parse("semgrep/close_old_findings_report_line31.json", "semgrep")[0]
    line24 = _parse("semgrep/close_old_findings_report_second_run_line24.json", "semgrep")[0]
    other = _parse(
        "semgrep/close_old_findings_report_third_run_different_unique_id.json", "semgrep"
    )[0]

    assert (line31.line, line24.line) == (31, 24)
    assert line31.identity == line24.identity
    assert other.identity != line24.identity


def test_semgrep_many_vulns_histogram() -> None:
    findings = _parse("semgrep/many_vulns.json", "semgrep")
    assert _histogram(findings) == {"High": 13, "Medium": 35}
    assert Counter(f.scanner_severity for f in findings) == {"WARNING": 35, "ERROR": 13}


def test_semgrep_app_page_is_one_finding_per_repository() -> None:
    findings = _parse("semgrep/sca-deployments-vulns.json", "semgrep")

    assert len(findings) == 22  # DefectDojo: 18, merging equal title+file+line across repos
    first = findings[0]
    assert first.vuln_id == "ssc-82207871-bbda-49be-b1af-49fd927a2f93"
    assert first.aliases == ("CVE-2023-1428",)
    assert (first.component, first.component_version, first.fixed_in) == (
        "grpcio",
        "1.47.0",
        "1.53.0",
    )
    assert (first.file_path, first.line, first.cwe) == ("requirements3.txt", 222, 617)
    assert (first.asset_kind, first.asset_name) == ("repository", "example/rfv")
    assert len({f.asset_name for f in findings}) == 22
    assert _histogram(findings) == {"High": 21, "Critical": 1}


@pytest.mark.parametrize(
    ("data", "record", "field"),
    [
        (
            {
                "results": [
                    {
                        "check_id": "r",
                        "path": "a.py",
                        "start": {"line": 1},
                        "extra": {"severity": "LOUD"},
                    }
                ]
            },
            "results[0]",
            "extra.severity",
        ),
        ({"results": [{"check_id": "r", "start": {"line": 1}, "extra": {}}]}, "results[0]", "path"),
        ({"results": {"a": 1}}, "document", "results"),
        ({"vulns": [{"title": "x"}]}, "vulns[0]", "advisory"),
    ],
)
def test_semgrep_bad_input(data: Any, record: str, field: str) -> None:
    with pytest.raises(ParseError) as caught:
        _parse_bytes(_json(data), "semgrep")
    assert (caught.value.record, caught.value.field) == (record, field)


# ---------------------------------------------------------------- Bandit


def test_bandit_dd2_values_and_internal_duplicate() -> None:
    findings = _parse("bandit/dd2.json", "bandit")

    assert len(findings) == 165
    assert _histogram(findings) == {"Low": 23, "Medium": 142}
    first = findings[0]
    assert (first.vuln_id, first.file_path, first.line) == (
        "try_except_pass:B110",
        "dojo/benchmark/views.py",
        27,
    )
    assert first.identity == ("B110", "dojo/benchmark/views.py", "27")
    assert len({f.identity for f in findings}) == 164


def test_bandit_keeps_windows_separators() -> None:
    findings = _parse("bandit/many_vulns.json", "bandit")
    assert findings[0].file_path == "dojo/benchmark\\views.py"
    assert len({f.identity for f in findings}) == 213


@pytest.mark.parametrize(
    ("result", "field"),
    [
        ({"test_id": "B1", "filename": "a.py", "issue_severity": "SEVERE"}, "issue_severity"),
        ({"filename": "a.py", "issue_severity": "LOW"}, "test_id"),
        (
            {"test_id": "B1", "filename": "a.py", "issue_severity": "LOW", "line_number": "x"},
            "line_number",
        ),
    ],
)
def test_bandit_bad_input(result: dict[str, Any], field: str) -> None:
    with pytest.raises(ParseError) as caught:
        _parse_bytes(_json({"results": [result]}), "bandit")
    assert (caught.value.record, caught.value.field) == ("results[0]", field)


# ---------------------------------------------------------------- Snyk


def test_snyk_all_projects_array() -> None:
    findings = _parse("snyk/all_projects_issue4277.json", "snyk")

    assert len(findings) == 82
    first = findings[0]
    assert (first.vuln_id, first.cve, first.cwe) == (
        "SNYK-DOTNET-MICROSOFTASPNETCORE-174184",
        "CVE-2019-0815",
        200,
    )
    assert (first.component, first.component_version) == ("Microsoft.AspNetCore", "2.2.0")
    assert first.record == "[0].vulnerabilities[0]"
    assert (first.asset_kind, first.asset_name) == ("application", "project")
    assert first.identity[-1] == "project > Microsoft.AspNetCore.App > Microsoft.AspNetCore"
    assert first.cvss_score == 7.5


def test_snyk_container_image_asset_and_snyk_severity() -> None:
    findings = _parse("snyk/snykcontainer_issue_9270.json", "snyk")

    assert len(findings) == 25
    assert {(f.asset_kind, f.asset_name) for f in findings} == {("image", "sarim04/juiceshop")}
    # Snyk's own verdict (Debian "minor issue" → low), not the NVD score beside it
    assert _histogram(findings) == {"Low": 25}
    assert findings[0].cvss_score == 4.8


def test_snyk_null_cvss() -> None:
    finding = _parse("snyk/single_project_None_cvss.json", "snyk")[0]
    assert (finding.cvss_vector, finding.cvss_score) == (None, None)
    assert finding.aliases == ("SUSE-SU-2022:0141-1",)


def test_snyk_code_sarif_goes_through_the_snyk_format() -> None:
    path = SCANS / "snyk/snykcode_issue_9270.json"
    assert detect_format(path.read_bytes()[:65536], path.name) == "snyk"

    findings = _parse("snyk/snykcode_issue_9270.json", "snyk")

    assert len(findings) == 39
    assert findings[0].scanner == "snykcode"
    assert (findings[0].vuln_id, findings[0].cwe, findings[0].line) == ("javascript/XSS", 79, 216)


def test_snyk_error_object_is_refused() -> None:
    error = {"ok": False, "error": "Could not detect supported target files", "path": "/src"}
    with pytest.raises(ParseError, match="Snyk reported an error") as caught:
        _parse_bytes(_json(error), "snyk")
    assert caught.value.field == "error"


def test_snyk_unknown_severity_is_refused() -> None:
    data = {"vulnerabilities": [{"id": "SNYK-1", "severity": "urgent", "from": []}]}
    with pytest.raises(ParseError) as caught:
        _parse_bytes(_json(data), "snyk")
    assert (caught.value.record, caught.value.field) == ("vulnerabilities[0]", "severity")


# ---------------------------------------------------------------- GitHub


def test_github_repository_wrapper() -> None:
    finding = _parse("github_vulnerability/github_h2.json", "github")[0]

    assert (finding.vuln_id, finding.aliases) == ("GHSA-h376-j262-vhq6", ("CVE-2021-42392",))
    assert (finding.component, finding.cwe, finding.cvss_score) == ("com.h2database:h2", 502, 9.8)
    assert finding.file_path == "apache/cxf/syncope/cxf-syncope/pom.xml"
    assert finding.unique_id_from_tool == "RVA_kwDOAQoNos6MAo1b"
    assert finding.identity == (
        "GHSA-h376-j262-vhq6",
        "com.h2database:h2",
        "apache/cxf/syncope/cxf-syncope/pom.xml",
        "RVA_kwDOAQoNos6MAo1b",
    )


def test_github_no_fix_version_and_repository_url() -> None:
    finding = _parse("github_vulnerability/github-1-vuln-no-fix.json", "github")[0]
    assert (finding.component_version, finding.fixed_in) == ("1.5.0", None)
    assert (finding.asset_kind, finding.asset_name) == ("repository", "example-org/example-repo")


def test_github_search_wrapper_and_moderate() -> None:
    findings = _parse("github_vulnerability/github-5-vuln.json", "github")
    assert _histogram(findings) == {"Critical": 1, "High": 1, "Medium": 2, "Low": 1}
    assert findings[0].asset_name == "test-repository"
    assert findings[0].record == "data.search.nodes[0].vulnerabilityAlerts.nodes[0]"


def test_github_null_cvss_vector() -> None:
    findings = _parse("github_vulnerability/github_search4_null_cvss_vector.json", "github")
    assert [f.cvss_vector for f in findings] == [
        None,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    ]


def test_github_code_scanning_rest_list() -> None:
    findings = _parse("github_vulnerability/issue_9582.json", "github")

    assert len(findings) == 2
    first = findings[0]
    assert (first.scanner, first.vuln_id, first.severity) == (
        "codeql",
        "py/clear-text-storage-sensitive-data",
        Severity.HIGH,
    )
    assert (first.file_path, first.line, first.cwes) == (
        "Unsafe Deserialization/file.py",
        42,
        (312, 315, 359),
    )
    assert first.unique_id_from_tool == "https://api.github.com/repos/XX/YY/code-scanning/alerts/35"


def test_github_bad_input() -> None:
    node = {
        "securityVulnerability": {"severity": "SEVERE", "package": {"name": "p"}, "advisory": {}}
    }
    data = {"data": {"repository": {"vulnerabilityAlerts": {"nodes": [node]}}}}
    with pytest.raises(ParseError) as caught:
        _parse_bytes(_json(data), "github")
    assert (
        caught.value.record == "data.repository.vulnerabilityAlerts.nodes[0].securityVulnerability"
    )
    assert caught.value.field == "severity"

    with pytest.raises(ParseError) as caught:
        _parse_bytes(_json({"data": {"viewer": {}}}), "github")
    assert caught.value.record == "data"


# ---------------------------------------------------------------- gitleaks

GITLEAKS_SECRETS = {
    "gitleaks/data_many.json": [
        "c77e01c1e89682e4d4b94a059a7fd2b37ab326ed",
        "38c47f19e349153fa963bb3b3212fe8e-us11",
    ],
    "gitleaks/gitleaks8_many.json": ["secretAWSsecret", "dfjksdjfs3294dfjlsdaf213"],
    "gitleaks/version_7.5.0.json": ["AKIAIOSFODNN7EXAMPLE"],
}


@pytest.mark.parametrize("local_path", sorted(GITLEAKS_SECRETS))
def test_gitleaks_never_keeps_the_secret(local_path: str) -> None:
    findings = _parse(local_path, "gitleaks")

    assert len(findings) == RECORDS[local_path]["expected_findings"]
    for finding in findings:
        text = repr(msgspec.structs.astuple(finding))
        for secret in GITLEAKS_SECRETS[local_path]:
            assert secret not in text


def test_gitleaks_v8_identity_hashes_the_secret_and_merges_commits() -> None:
    findings = _parse("gitleaks/gitleaks8_many.json", "gitleaks")

    first = findings[0]
    assert (first.vuln_id, first.file_path, first.line, first.cwe) == (
        "aws-access-token",
        "/conf/aws.tf",
        2,
        798,
    )
    assert first.identity == (
        "aws-access-token",
        "/conf/aws.tf",
        "2",
        hashlib.sha256(b"secretAWSsecret").hexdigest(),
    )
    assert first.severity is Severity.HIGH


def test_gitleaks_v7_same_leak_in_several_commits_is_one_finding() -> None:
    findings = _parse("gitleaks/version_7.5.0.json", "gitleaks")

    assert len(findings) == 4  # 8 entries: each leak found in two commits
    assert findings[0].file_path == (
        "dojo/unittests/scans/gitlab_secret_detection_report/gitlab_secret_detection_report_1_vuln.json"
    )
    assert findings[0].line == 13
    assert findings[0].description is not None
    assert findings[0].description.count(",") >= 1  # both commits listed


def test_gitleaks_null_report_is_empty_when_forced_and_refused_by_detection() -> None:
    assert _parse("gitleaks/no_findings.json", "gitleaks") == []
    with pytest.raises(ParseError, match="JSON null"):
        detect_format(b"null\n", "gitleaks.json")


@pytest.mark.parametrize(
    ("data", "record", "field"),
    [
        ([{"RuleID": "r", "Secret": "s"}], "[0]", "File"),
        ([{"rule": "r", "file": "f", "lineNumber": "x", "offender": "s"}], "[0]", "lineNumber"),
        ({"leaks": []}, "document", None),
    ],
)
def test_gitleaks_bad_input(data: Any, record: str, field: str | None) -> None:
    with pytest.raises(ParseError) as caught:
        _parse_bytes(_json(data), "gitleaks")
    assert (caught.value.record, caught.value.field) == (record, field)


def _dependabot_node(alert_id: str) -> dict[str, Any]:
    return {
        "id": alert_id,
        "state": "OPEN",
        "securityVulnerability": {
            "severity": "HIGH",
            "package": {"name": "lodash", "ecosystem": "NPM"},
            "advisory": {
                "ghsaId": "GHSA-aaaa-bbbb-cccc",
                "summary": "Prototype pollution",
                "identifiers": [{"type": "CVE", "value": "CVE-2020-8203"}],
            },
        },
    }


def test_github_graphql_search_form_of_alerts_is_read_and_ids_never_collide() -> None:
    doc = {
        "data": {
            "repository": {
                "nameWithOwner": "acme/shop",
                "search": {"nodes": [_dependabot_node("RVA_1"), _dependabot_node("RVA_2")]},
            }
        }
    }
    data = json.dumps(doc).encode()
    assert detect_format(data, "alerts.json") == "github"
    findings = list(parse_stream(io.BytesIO(data), "alerts.json"))
    assert [f.record for f in findings] == [
        "data.repository.search.nodes[0]",
        "data.repository.search.nodes[1]",
    ]
    assert {f.asset_name for f in findings} == {"acme/shop"}
    assert findings[0].identity != findings[1].identity


def test_github_graphql_alerts_with_different_ids_are_two_findings() -> None:
    doc = {
        "data": {
            "repository": {
                "nameWithOwner": "acme/shop",
                "vulnerabilityAlerts": {
                    "nodes": [_dependabot_node("RVA_1"), _dependabot_node("RVA_2")]
                },
            }
        }
    }
    findings = list(parse_stream(io.BytesIO(json.dumps(doc).encode()), "a.json"))
    assert len({f.identity for f in findings}) == 2


def _sarif_log(*results: dict[str, Any], tool: str = "Trivy") -> bytes:
    return json.dumps(
        {
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": tool}}, "results": list(results)}],
        }
    ).encode()


def _physical(uri: str, line: int) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}}


def _sarif_findings(*results: dict[str, Any], tool: str = "Trivy") -> list[ParsedFinding]:
    return list(parse_stream(io.BytesIO(_sarif_log(*results, tool=tool)), "r.sarif"))


def test_sarif_a_result_with_several_locations_gives_one_finding_per_location() -> None:
    result = {
        "ruleId": "py/sql-injection",
        "message": {"text": "SQL built from user input"},
        "locations": [_physical("app/a.py", 3), _physical("app/b.py", 9), _physical("app/a.py", 3)],
    }
    findings = _sarif_findings(result, tool="CodeQL")
    assert [(f.file_path, f.line) for f in findings] == [("app/a.py", 3), ("app/b.py", 9)]
    assert len({f.identity for f in findings}) == 2


def test_sarif_a_fingerprinted_result_with_several_locations_keeps_them_apart() -> None:
    result = {
        "ruleId": "r",
        "message": {"text": "m"},
        "fingerprints": {"v1": "abc"},
        "locations": [_physical("a.py", 1), _physical("a.py", 2)],
    }
    findings = _sarif_findings(result)
    assert len({f.identity for f in findings}) == 2
    assert {f.unique_id_from_tool for f in findings} == {"abc"}


def test_sarif_without_fingerprints_the_package_separates_results() -> None:
    """Trivy's SARIF names the package in the message, Grype's too; others in properties."""

    def trivy(package: str) -> dict[str, Any]:
        return {
            "ruleId": "CVE-2024-1",
            "message": {"text": f"Package: {package}\nInstalled Version: 1.0\nFixed Version: 1.1"},
            "locations": [_physical("library/alpine", 1)],
        }

    by_message = _sarif_findings(trivy("openssl"), trivy("libcrypto"))
    assert len({f.identity for f in by_message}) == 2
    assert "package:openssl@1.0" in by_message[0].identity

    by_property = _sarif_findings(
        {"ruleId": "X", "message": {"text": "m"}, "properties": {"packageName": "lodash"}},
        {"ruleId": "X", "message": {"text": "m"}, "properties": {"packageName": "minimist"}},
        tool="Grype",
    )
    assert len({f.identity for f in by_property}) == 2


def test_sarif_logical_locations_and_messages_separate_results_without_a_place() -> None:
    logical = _sarif_findings(
        {"ruleId": "X", "message": {"text": "m"},
         "locations": [{"logicalLocations": [{"fullyQualifiedName": "Shop.Pay"}]}]},
        {"ruleId": "X", "message": {"text": "m"},
         "locations": [{"logicalLocations": [{"fullyQualifiedName": "Shop.Cart"}]}]},
    )  # fmt: skip
    assert len({f.identity for f in logical}) == 2
    nowhere = _sarif_findings(
        {"ruleId": "X", "message": {"text": "weak cipher on port 443"}},
        {"ruleId": "X", "message": {"text": "weak cipher on port 8443"}},
    )
    assert len({f.identity for f in nowhere}) == 2


def test_sarif_results_with_a_place_keep_their_former_identity() -> None:
    (finding,) = _sarif_findings(
        {"ruleId": "r", "message": {"text": "m"}, "locations": [_physical("a.py", 4)]}
    )
    assert finding.identity == ("r", "a.py", "4")


def test_sarif_an_accepted_suppression_is_kept_with_its_justification() -> None:
    accepted, absent, review, rejected = _sarif_findings(
        {"ruleId": "a", "message": {"text": "m"}, "locations": [_physical("a.py", 1)],
         "suppressions": [{"kind": "inSource", "status": "accepted",
                           "justification": "test fixture, not a real key"}]},
        {"ruleId": "b", "message": {"text": "m"}, "locations": [_physical("a.py", 1)],
         "suppressions": [{"kind": "external"}]},
        {"ruleId": "c", "message": {"text": "m"}, "locations": [_physical("a.py", 1)],
         "suppressions": [{"kind": "external", "status": "underReview"}]},
        {"ruleId": "d", "message": {"text": "m"}, "locations": [_physical("a.py", 1)],
         "suppressions": [{"kind": "external", "status": "rejected"}]},
    )  # fmt: skip
    assert (accepted.suppressed, absent.suppressed) == (True, True)
    assert (review.suppressed, rejected.suppressed) == (False, False)
    assert accepted.description == (
        "m\n\nSuppressed by the tool: test fixture, not a real key (inSource)"
    )
    assert absent.description == "m\n\nSuppressed by the tool: (external)"
