"""npm audit (6 and 7+), pip-audit and generic CSV/JSON: real samples and bad input."""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

import pytest

from detente.findings.parsers import ParsedFinding, ParseError, Severity, parse_stream
from detente.findings.parsers.registry import detect_format
from detente.findings.tests.parity import (
    DELIBERATE_DIFFERENCES,
    SCANS,
    manifest_records,
    severity_word,
)

MINE = {"npm_audit", "npm_audit_7_plus", "pip_audit", "generic"}


def sample(path: str, fmt: str) -> list[ParsedFinding]:
    with (SCANS / path).open("rb") as handle:
        return list(parse_stream(handle, path, fmt=fmt))


def parse_bytes(data: bytes | str, fmt: str, name: str = "input") -> list[ParsedFinding]:
    raw = data.encode() if isinstance(data, str) else data
    return list(parse_stream(io.BytesIO(raw), name, fmt=fmt))


def refused(data: bytes | str | dict[str, Any] | list[Any], fmt: str) -> ParseError:
    if isinstance(data, (dict, list)):
        data = json.dumps(data)
    with pytest.raises(ParseError) as caught:
        parse_bytes(data, fmt, name="bad.json")
    assert "bad.json" in str(caught.value)
    return caught.value


def histogram(findings: list[ParsedFinding]) -> dict[str, int]:
    return dict(Counter(severity_word(f.severity) for f in findings))


# ---------------------------------------------------------------- manifest histograms

_FORMAT = {
    "npm_audit": "npm-audit",
    "npm_audit_7_plus": "npm-audit-7",
    "pip_audit": "pip-audit",
    "generic": "generic",
}
_RECORDS = [
    r for r in manifest_records() if r["scanner"] in MINE and r["expected_findings"] is not None
]
# where we split what DefectDojo folds, the severity histogram differs too (docs/formats/deps.md)
_OUR_HISTOGRAM = {
    "generic/generic_report1.csv": {"Low": 5},
    "generic/generic_report3.json": {"Medium": 1, "Critical": 4},
}


@pytest.mark.parametrize("record", _RECORDS, ids=lambda r: r["local_path"])
def test_severity_histogram_matches_manifest(record: dict[str, Any]) -> None:
    findings = sample(record["local_path"], _FORMAT[record["scanner"]])
    expected = _OUR_HISTOGRAM.get(record["local_path"], record["observed"]["by_severity"])
    assert histogram(findings) == expected
    assert len(findings) == DELIBERATE_DIFFERENCES.get(
        record["local_path"], record["expected_findings"]
    )


def test_deliberate_differences_are_only_the_documented_generic_ones() -> None:
    mine = {k: v for k, v in DELIBERATE_DIFFERENCES.items() if k.split("/")[0] in MINE}
    assert mine == {"generic/generic_report1.csv": 5, "generic/generic_report3.json": 5}


# ---------------------------------------------------------------- npm audit 6


def test_npm6_one_vuln_exact_fields() -> None:
    [finding] = sample("npm_audit/one_vuln.json", "npm-audit")
    assert finding.scanner == "npm-audit"
    assert finding.vuln_id == "CVE-2017-16042"
    assert finding.cve == "CVE-2017-16042"
    assert finding.severity is Severity.CRITICAL
    assert finding.scanner_severity == "critical"
    assert (finding.component, finding.component_version) == ("growl", "1.9.2")
    assert finding.purl == "pkg:npm/growl@1.9.2"
    assert finding.fixed_in == "1.10.2"
    assert finding.cwe == 94
    assert finding.identity == ("CVE-2017-16042", "growl")
    assert finding.record == "advisories[146]"
    assert finding.asset_kind is None
    assert finding.asset_name is None
    assert finding.file_path is None
    assert "mocha-jenkins-reporter>mocha>growl" in (finding.description or "")
    assert finding.references[0] == "https://www.npmjs.com/advisories/146"


def test_npm6_null_cwe_falls_back_to_1035() -> None:
    [finding] = sample("npm_audit/cwe_null.json", "npm-audit")
    assert finding.cwe == 1035


def test_npm6_ghsa_is_primary_and_json_string_cwe_is_read() -> None:
    findings = sample("npm_audit/multiple_cwes.json", "npm-audit")
    first = findings[0]
    assert first.vuln_id == "GHSA-whgm-jr23-g3j9"
    assert first.aliases == ("CVE-2021-23424",)
    assert first.cwe == 400
    assert first.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    assert first.cvss_score == 7.5
    # one finding per advisory, never per path: 41 advisories hold 55 version entries
    assert len({f.record for f in findings}) == 41


def test_npm6_empty_cwe_marker_is_no_cwe() -> None:
    findings = sample("npm_audit/many_vuln.json", "npm-audit")
    by_record = {f.record: f for f in findings}
    assert by_record["advisories[535]"].cwe == 1035


def test_npm6_error_object_is_an_error_not_zero_findings() -> None:
    with pytest.raises(ParseError) as caught:
        sample("npm_audit/empty_with_error.json", "npm-audit")
    assert "ENOAUDIT" in str(caught.value)
    assert "empty_with_error.json" in str(caught.value)
    with pytest.raises(ParseError, match="ENOAUDIT"):
        sample("npm_audit/empty_with_error.json", "npm-audit-7")


def test_npm7_report_given_to_npm6_parser_says_which_format() -> None:
    with pytest.raises(ParseError) as caught:
        sample("npm_audit/many_vuln_npm7.json", "npm-audit")
    assert "npm 7+" in str(caught.value)
    assert "--format npm-audit-7" in str(caught.value)
    head = (SCANS / "npm_audit/many_vuln_npm7.json").read_bytes()
    assert detect_format(head, "many_vuln_npm7.json") == "npm-audit-7"
    assert len(sample("npm_audit/many_vuln_npm7.json", "npm-audit-7")) == 15


def test_npm6_report_given_to_npm7_parser_says_which_format() -> None:
    with pytest.raises(ParseError, match="--format npm-audit"):
        sample("npm_audit/one_vuln.json", "npm-audit-7")


def _npm6(advisory: dict[str, Any]) -> dict[str, Any]:
    base = {"module_name": "left-pad", "severity": "high", "findings": []}
    return {"actions": [], "advisories": {"7": {**base, **advisory}}, "muted": []}


def test_npm6_unknown_severity_is_refused_naming_the_advisory() -> None:
    error = refused(_npm6({"severity": "severe"}), "npm-audit")
    assert (error.record, error.field) == ("advisories[7]", "severity")


def test_npm6_wrong_types_are_refused() -> None:
    error = refused({"actions": [], "advisories": []}, "npm-audit")
    assert error.record == "advisories"
    error = refused(_npm6({"findings": {"version": "1"}}), "npm-audit")
    assert (error.record, error.field) == ("advisories[7]", "findings")
    error = refused(_npm6({"cwe": "weakness"}), "npm-audit")
    assert error.field == "cwe"
    error = refused(_npm6({"module_name": None}), "npm-audit")
    assert error.field == "module_name"


def test_npm_truncated_and_not_utf8_are_refused() -> None:
    data = (SCANS / "npm_audit/one_vuln.json").read_bytes()
    assert refused(data[:300], "npm-audit").record == "document"
    assert refused(b'{"advisories": {"\xff\xfe": 1}}', "npm-audit").record == "document"


# ---------------------------------------------------------------- npm audit 7+


def test_npm7_one_finding_per_package_with_all_its_advisories() -> None:
    [finding] = sample("npm_audit_7_plus/one_vuln.json", "npm-audit-7")
    assert finding.vuln_id == "GHSA-gxpj-cx7g-858c"
    assert finding.aliases == ("GHSA-9vvw-cc9w-f27h",)
    assert finding.severity is Severity.HIGH  # the package's severity, not the first advisory's
    assert finding.scanner_severity == "high"
    assert finding.cwe == 400
    assert finding.cwes == (400, 1333)
    assert finding.component == "debug"
    assert finding.component_version is None
    assert finding.file_path == "node_modules/debug"
    assert finding.identity == ("GHSA-gxpj-cx7g-858c", "debug")
    assert finding.fixed_in is None  # the fix is an express upgrade, not a debug version
    assert "Also vulnerable through: ms" in (finding.description or "")


def test_npm7_transitive_entries_point_at_their_roots() -> None:
    findings = sample("npm_audit_7_plus/many_vulns.json", "npm-audit-7")
    ids = [(f.component, f.vuln_id) for f in findings]
    assert ids == [
        ("@vercel/fun", "NPM-TRANSITIVE"),
        ("@vercel/node", "NPM-TRANSITIVE"),
        ("debug", "GHSA-gxpj-cx7g-858c"),
        ("semver", "GHSA-c2qf-rxjj-qqgw"),
        ("undici", "GHSA-3787-6prv-h9w3"),
        ("vercel", "NPM-TRANSITIVE"),
    ]
    fun = findings[0]
    assert fun.severity is Severity.MEDIUM
    assert fun.scanner_severity == "moderate"
    assert fun.cwe == 1035
    assert fun.purl == "pkg:npm/%40vercel/fun"
    assert "GHSA-c2qf-rxjj-qqgw, GHSA-gxpj-cx7g-858c" in (fun.description or "")
    vercel = findings[-1]
    # vercel -> @vercel/fun, @vercel/node -> debug, semver, undici
    assert "GHSA-3787-6prv-h9w3, GHSA-c2qf-rxjj-qqgw, GHSA-gxpj-cx7g-858c" in (
        vercel.description or ""
    )


def test_npm7_empty_cwe_list_is_no_cwe() -> None:
    [finding] = sample("npm_audit_7_plus/issue_10801.json", "npm-audit-7")
    assert finding.cwe is None
    assert finding.severity is Severity.MEDIUM
    assert finding.cvss_score == 5.3


def test_npm7_old_npm_advisory_urls_give_npm_ids() -> None:
    findings = sample("npm_audit/many_vuln_npm7.json", "npm-audit-7")
    acorn = next(f for f in findings if f.component == "acorn")
    assert acorn.vuln_id == "NPM-1488"


def _npm7(entry: dict[str, Any]) -> dict[str, Any]:
    base = {"name": "x", "severity": "low", "via": ["y"]}
    return {"auditReportVersion": 2, "vulnerabilities": {"x": {**base, **entry}}}


def test_npm7_bad_input_is_refused() -> None:
    error = refused(_npm7({"via": [42]}), "npm-audit-7")
    assert error.record == "vulnerabilities[x].via[0]"
    error = refused(_npm7({"severity": "bad"}), "npm-audit-7")
    assert (error.record, error.field) == ("vulnerabilities[x]", "severity")
    error = refused(_npm7({"via": []}), "npm-audit-7")
    assert error.field == "via"
    error = refused({"auditReportVersion": 1, "vulnerabilities": {}}, "npm-audit-7")
    assert error.field == "auditReportVersion"
    error = refused(_npm7({"via": [{"title": "no id"}]}), "npm-audit-7")
    assert error.field == "source"


# ---------------------------------------------------------------- pip-audit


def test_pip_audit_old_and_new_shapes_agree() -> None:
    old = sample("pip_audit/many_vulns.json", "pip-audit")
    new = sample("pip_audit/many_vulns_new.json", "pip-audit")

    def key(f: ParsedFinding) -> tuple[Any, ...]:
        return (f.vuln_id, f.component, f.component_version, f.fixed_in, f.identity)

    assert [key(f) for f in old] == [key(f) for f in new]
    first = new[0]
    assert first.vuln_id == "PYSEC-2021-76"
    assert first.title == "PYSEC-2021-76 in aiohttp:3.6.2"
    assert (first.component, first.component_version) == ("aiohttp", "3.6.2")
    assert first.fixed_in == "3.7.4"
    assert first.purl == "pkg:pypi/aiohttp@3.6.2"
    assert first.record == "dependencies[1].vulns[0]"
    assert old[0].record == "[1].vulns[0]"


def test_pip_audit_severity_is_a_placeholder_medium() -> None:
    findings = sample("pip_audit/many_vulns_new.json", "pip-audit")
    assert {(f.severity, f.scanner_severity) for f in findings} == {(Severity.MEDIUM, "")}
    assert {f.cwe for f in findings} == {1395}


def test_pip_audit_skip_reason_gives_nothing() -> None:
    assert sample("pip_audit/zero_vulns_new.json", "pip-audit") == []
    assert sample("pip_audit/empty.json", "pip-audit") == []
    assert detect_format(b"[\n]\n", "empty.json") == "pip-audit"


def test_pip_audit_aliases_put_cves_first() -> None:
    data = [{"name": "Foo_Bar", "version": "1", "vulns": [
        {"id": "PYSEC-1", "fix_versions": [], "aliases": ["GHSA-aaaa-bbbb-cccc", "cve-2020-1"]}
    ]}]  # fmt: skip
    [finding] = parse_bytes(json.dumps(data), "pip-audit")
    assert finding.aliases == ("CVE-2020-1", "GHSA-aaaa-bbbb-cccc")
    assert finding.identity == ("PYSEC-1", "foo-bar")
    assert finding.fixed_in is None


def test_pip_audit_bad_input_is_refused() -> None:
    error = refused([{"name": "a", "version": "1", "vulns": [{"fix_versions": []}]}], "pip-audit")
    assert (error.record, error.field) == ("[0].vulns[0]", "id")
    error = refused({"dependencies": [{"name": "a", "vulns": {}}]}, "pip-audit")
    assert (error.record, error.field) == ("dependencies[0]", "vulns")
    error = refused({"dependencies": [{"name": "a"}]}, "pip-audit")
    assert error.field == "vulns"
    assert refused('"text"', "pip-audit").record == "document"
    assert refused(b'[{"name": "a", "vulns": [', "pip-audit").record == "document"


# ---------------------------------------------------------------- generic JSON


def test_generic_json_fields() -> None:
    first, second = sample("generic/generic_report1.json", "generic")
    assert first.scanner == "generic"
    assert first.vuln_id == "TEST1"
    assert first.aliases == ("CVE-2020-36234",)
    assert first.cve == "CVE-2020-36234"
    assert first.unique_id_from_tool == "3287f2d0-554f-491b-8516-3c349ead8ee5"
    assert first.identity == ("uid", "3287f2d0-554f-491b-8516-3c349ead8ee5", "")
    assert first.cwe == 261
    assert first.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:L/I:L/A:N"
    assert first.severity is Severity.MEDIUM
    assert first.scanner_severity == "Medium"
    assert "à qu'il est beau" in (first.description or "")
    assert second.vuln_id == "TEST2"


def test_generic_json_unknown_fields_are_refused_by_name() -> None:
    with pytest.raises(ParseError) as caught:
        sample("generic/generic_invalid.json", "generic")
    error = caught.value
    assert "invalid_field" in str(error)
    assert "last_status_update" in str(error)
    assert error.record == "findings[0]"


def test_generic_json_endpoints_become_one_finding_each() -> None:
    findings = sample("generic/generic_report3.json", "generic")
    assert [f.endpoint for f in findings[:3]] == [
        "exemple.com",
        "http://urlfiltering.paloaltonetworks.com/test-command-and-control",
        "https://urlfiltering.paloaltonetworks.com:2345/test-pest",
    ]
    assert [f.record for f in findings[:3]] == [
        "findings[0].endpoints[0]",
        "findings[1].endpoints[0]",
        "findings[1].endpoints[1]",
    ]
    assert findings[0].vuln_id == "CVE-2020-36234"
    assert (findings[0].file_path, findings[0].line) == ("src/first.cpp", 13)
    assert findings[1].identity != findings[2].identity


def test_generic_json_scanner_name_from_type() -> None:
    findings = sample("generic/test_import_report1.json", "generic")
    assert {f.scanner for f in findings} == {"unicorn"}
    # nothing names the flaw but the title: it is the id of last resort
    assert findings[0].vuln_id == "Henry Smith"
    assert findings[1].identity == findings[2].identity


def _generic(*findings: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {**top, "findings": [{"title": "t", "severity": "High", **f} for f in findings]}


def test_generic_duplicate_unique_id_with_other_content_is_refused() -> None:
    error = refused(
        _generic({"unique_id_from_tool": "u1"}, {"unique_id_from_tool": "u1", "line": 3}), "generic"
    )
    assert "findings[0]" in str(error)
    assert "findings[1]" in str(error)
    assert error.field == "unique_id_from_tool"
    same = parse_bytes(
        json.dumps(_generic({"unique_id_from_tool": "u1"}, {"unique_id_from_tool": "u1"})),
        "generic",
    )
    assert len(same) == 2


def test_generic_asset_extension_and_endpoint_objects() -> None:
    data = _generic(
        {
            "asset": {"kind": "host", "name": "db01"},
            "endpoints": [{"protocol": "https", "host": "db01", "port": 8443, "path": "admin"}],
            "false_p": True,
            "vulnerability_ids": ["GHSA-xxxx-yyyy-zzzz", "CVE-2024-1"],
        },
        type="MyScanner",
    )
    [finding] = parse_bytes(json.dumps(data), "generic")
    assert (finding.asset_kind, finding.asset_name) == ("host", "db01")
    assert finding.endpoint == "https://db01:8443/admin"
    assert finding.suppressed is True
    assert finding.scanner == "myscanner"
    assert finding.vuln_id == "CVE-2024-1"
    assert finding.aliases == ("GHSA-xxxx-yyyy-zzzz",)


@pytest.mark.parametrize(
    ("finding", "field"),
    [
        ({"severity": "Severe"}, "severity"),
        ({"severity": None}, "severity"),
        ({"title": ""}, "title"),
        ({"title": 5}, "title"),
        ({"cwe": "weak"}, "cwe"),
        ({"line": "x"}, "line"),
        ({"date": "2021-13-45"}, "date"),
        ({"active": "yes"}, "active"),
        ({"tags": "a,b"}, "tags"),
        ({"asset": {"kind": "laptop", "name": "x"}}, "asset.kind"),
        ({"asset": {"kind": "host"}}, "name"),
        ({"endpoints": [{"port": 1}]}, "host"),
        ({"endpoints": [{"host": "h", "scheme": "x"}]}, "scheme"),
    ],
)
def test_generic_json_bad_values_are_refused(finding: dict[str, Any], field: str) -> None:
    error = refused(_generic(finding), "generic")
    assert error.field == field
    assert (error.record or "").startswith("findings[0]")


def test_generic_json_bad_documents_are_refused() -> None:
    assert refused({"findings": {}}, "generic").field == "findings"
    assert refused({"findings": ["x"]}, "generic").record == "findings[0]"
    assert refused(b'{"findings": [{"title": ', "generic").record == "document"
    assert refused(b'{"findings": [{"title": "\xff"}]}', "generic").record == "document"


# ---------------------------------------------------------------- generic CSV


def test_generic_csv_one_finding_per_row() -> None:
    findings = sample("generic/generic_report1.csv", "generic")
    assert [f.cwe for f in findings] == [1, 2, 3, 4, 5]
    assert findings[0].endpoint == "https://vulnerable.endpoint.com/resource1/asdf"
    assert findings[0].record == "line 2"
    assert findings[0].vuln_id == "ASDF"
    assert len({f.identity for f in findings}) == 5


def test_generic_csv_month_first_dates_and_false_booleans() -> None:
    findings = sample("generic/generic_csv_defect_dojo.csv", "generic")
    assert [f.severity for f in findings] == [Severity.LOW] * 4
    assert findings[0].cwe is None  # CweId 0
    assert findings[0].title.startswith("Server leaks inodes via ETags")
    assert not any(f.suppressed for f in findings)


def test_generic_csv_empty_severity_is_info_and_ids_are_read() -> None:
    findings = sample("generic/generic_report4.csv", "generic")
    assert [(f.severity, f.scanner_severity) for f in findings] == [(Severity.INFO, "")] * 4
    assert [f.vuln_id for f in findings] == [
        "CVE-2015-9235",
        "GHSA-5mrr-rgp6-x4gr",
        "Title3",
        "Title4",
    ]
    assert findings[2].endpoint == "127.0.0.1:80"


def test_generic_csv_extension_columns() -> None:
    text = (
        "\ufeffTitle,Severity,Component Name,Component Version,File Path,Line,"
        "Unique Id From Tool,Asset Kind,Asset Name,FalsePositive,CVE\n"
        "SQLi,critical,lib,1.0,app.py,12,abc,repository,acme/web,TRUE,CVE-2024-2\n"
    )
    [finding] = parse_bytes(text, "generic")
    assert (finding.component, finding.component_version) == ("lib", "1.0")
    assert (finding.file_path, finding.line) == ("app.py", 12)
    assert finding.unique_id_from_tool == "abc"
    assert (finding.asset_kind, finding.asset_name) == ("repository", "acme/web")
    assert finding.suppressed is True
    assert finding.severity is Severity.CRITICAL
    assert finding.vuln_id == "CVE-2024-2"


@pytest.mark.parametrize(
    ("text", "record", "field"),
    [
        ("Title,Severity,Notes\nt,Low,x\n", "line 1", "Notes"),
        ("Title,Description\nt,x\n", "line 1", "Severity"),
        ("Title,Severity\nt,Severe\n", "line 2", "Severity"),
        ("Title,Severity\n,Low\n", "line 2", "Title"),
        ("Title,Severity,Date\nt,Low,31/31/2021\n", "line 2", "Date"),
        ("Title,Severity,Active\nt,Low,maybe\n", "line 2", "Active"),
        ("Title,Severity,CweId\nt,Low,abc\n", "line 2", "CweId"),
        ("Title,Severity\nt,Low,extra\n", "line 2", None),
        ("Title,Severity,Title\nt,Low,u\n", "line 1", "Title"),
        ("Title,Severity,Unique Id From Tool\na,Low,u\nb,Low,u\n", "line 3", "unique_id_from_tool"),
    ],
)
def test_generic_csv_bad_input_is_refused(text: str, record: str, field: str | None) -> None:
    error = refused(text, "generic")
    assert (error.record, error.field) == (record, field)


def test_generic_csv_not_utf8_is_refused() -> None:
    assert refused(b"Title,Severity\n\xff,Low\n", "generic").record == "document"


# ---------------------------------------------------------------- detection


def test_generic_detection_is_low_and_by_header() -> None:
    from detente.findings.parsers.generic import detect

    assert detect(b'{"findings": [{"title": "x", "severity": "Low"}]}', "x.json") == 10
    assert detect(b"Date,Title,CweId,Url,Severity\n", "x.csv") > 10
    assert detect(b"Plugin ID,CVE,CVSS,Risk,Host\n", "x.csv") == 0
    assert detect(b"Title,Severity,Plugin ID\n", "x.csv") == 0
    assert detect(b'{"results": []}', "x.json") == 0


def test_npm_detection_does_not_claim_other_errors() -> None:
    from detente.findings.parsers.npm_audit import detect_v6, detect_v7

    assert detect_v6(b'{"error": "boom"}', "x.json") == 0
    assert detect_v7(b'{"advisories": {}, "actions": []}', "x.json") == 0
    assert detect_v6(b'{"auditReportVersion": 2, "advisories": {}, "actions": []}', "x") == 0
