"""Nessus XML, Tenable CSV, OWASP ZAP, OWASP Dependency-Check and CycloneDX parsers.

Exact values come from the real samples under shared/samples/scans; malformed inputs are small
hand-written documents that must be refused with a ParseError naming the record and the field.
"""

from __future__ import annotations

import io
import json
from collections import Counter

import pytest

from detente.findings.parsers import ParseError, parse_stream
from detente.findings.parsers.base import ParsedFinding, Severity
from detente.findings.parsers.registry import detect_format
from detente.findings.tests.parity import SCANS, manifest_records


def _sample(path: str, fmt: str) -> list[ParsedFinding]:
    with (SCANS / path).open("rb") as handle:
        return list(parse_stream(handle, path, fmt=fmt))


def _parse(data: bytes, fmt: str, name: str = "input") -> list[ParsedFinding]:
    return list(parse_stream(io.BytesIO(data), name, fmt=fmt))


def _refused(data: bytes, fmt: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        _parse(data, fmt, name="bad-file")
    assert "bad-file" in str(caught.value)
    return caught.value


def _histogram(findings: list[ParsedFinding]) -> dict[str, int]:
    return dict(Counter(f.severity.value.capitalize() for f in findings))


def _manifest(path: str) -> dict[str, object]:
    return next(r for r in manifest_records() if r["local_path"] == path)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<ROOT>&lol3;</ROOT>
"""


def _bomb(root: str) -> bytes:
    return BILLION_LAUGHS.replace(b"ROOT", root.encode())


# ---------------------------------------------------------------- Nessus .nessus


def test_nessus_item_takes_severity_from_the_report_item_not_cvss3() -> None:
    # given a PHP finding Nessus rated 2 (Medium) whose CVSS v3 score is 7.5
    (finding,) = _sample("tenable/nessus/issue_6992.nessus", "nessus")

    # then the tool's own @severity wins; the v3 vector and score are kept beside it
    assert finding.severity is Severity.MEDIUM
    assert finding.scanner_severity == "Medium"
    assert finding.vuln_id == "142591"
    assert finding.title == "PHP < 7.3.24 Multiple Vulnerabilities"
    assert finding.cvss_vector == "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    assert finding.cvss_score == 7.5
    assert (finding.asset_kind, finding.asset_name) == ("host", "testphp.vulnweb.com")
    assert finding.endpoint == "testphp.vulnweb.com:80/tcp"
    assert finding.identity == ("142591", "80", "tcp")
    assert finding.component == "php"


def test_nessus_yields_one_finding_per_report_item_and_info_items() -> None:
    findings = _sample("tenable/nessus/nessus_v_unknown.xml", "nessus")

    assert len(findings) == 296
    assert _histogram(findings) == {"Info": 266, "Medium": 23, "Low": 7}
    # DefectDojo's 32 are exactly our items merged by severity + title across hosts and ports
    assert (
        len({(f.severity, f.title) for f in findings})
        == _manifest("tenable/nessus/nessus_v_unknown.xml")["expected_findings"]
    )
    assert findings[0].title == "Nessus Scan Information"
    assert findings[0].severity is Severity.INFO


def test_nessus_keeps_every_cve_of_an_item_and_both_copies_of_a_repeated_item() -> None:
    findings = _sample("tenable/nessus/nessus_with_cvssv3.nessus", "nessus")

    assert len(findings) == 49
    # one item appears twice in the file: both yielded, the importer merges them
    assert len({(f.asset_name, f.identity) for f in findings}) == 48
    (mysql,) = [f for f in findings if f.identity == ("31649", "80", "tcp")]
    assert len(mysql.aliases) == 15
    assert mysql.aliases[0] == "CVE-2006-1015"
    assert all(alias.startswith("CVE-") for alias in mysql.aliases)


def test_nessus_was_report_is_an_application_asset() -> None:
    findings = _sample("tenable/nessus_was/nessus_was_many_vuln.xml", "nessus")

    assert _histogram(findings) == {"High": 1, "Info": 1, "Low": 3}
    first = findings[0]
    assert first.title == "Cross-Site Scripting (XSS)"
    assert (first.asset_kind, first.asset_name) == ("application", "http://google.com/")
    assert first.cwe is None  # the manifest asserts no CWE; the xref CWE:79 is not read


NESSUS_ITEM = (
    b'<?xml version="1.0" ?><NessusClientData_v2><Report name="r">'
    b'<ReportHost name="10.0.0.1"><HostProperties><tag name="host-fqdn">a.example</tag>'
    b"</HostProperties>ITEM</ReportHost></Report></NessusClientData_v2>"
)


def _nessus(item: bytes) -> bytes:
    return NESSUS_ITEM.replace(b"ITEM", item)


def test_nessus_refuses_an_entity_bomb() -> None:
    error = _refused(_bomb("NessusClientData_v2"), "nessus")
    assert error.record == "document"


def test_nessus_refuses_unknown_severity_naming_the_item() -> None:
    item = b'<ReportItem port="0" protocol="tcp" severity="7" pluginID="1" pluginName="x"/>'
    error = _refused(_nessus(item), "nessus")
    assert (error.record, error.field) == ("ReportHost[0].ReportItem[0]", "severity")


def test_nessus_refuses_an_item_without_plugin_id() -> None:
    item = b'<ReportItem port="0" protocol="tcp" severity="1" pluginName="x"/>'
    error = _refused(_nessus(item), "nessus")
    assert error.field == "pluginID"


def test_nessus_refuses_a_truncated_file_and_another_root() -> None:
    data = (SCANS / "tenable/nessus/issue_6992.nessus").read_bytes()
    assert _refused(data[: len(data) // 2], "nessus").record == "document"
    assert "root element" in str(_refused(b"<NessusClientData/>", "nessus"))


def test_nessus_refuses_text_that_is_not_utf8() -> None:
    item = b'<ReportItem port="0" protocol="tcp" severity="1" pluginID="1" pluginName="\xff"/>'
    assert _refused(_nessus(item), "nessus").record == "document"


# ---------------------------------------------------------------- Tenable CSV


@pytest.mark.parametrize(
    ("path", "count", "histogram"),
    [
        ("tenable/nessus/nessus-template.csv", 5, {"High": 1, "Medium": 3, "Critical": 1}),
        ("tenable/nessus/nessus_many_vuln.csv", 4, {"Medium": 4}),
        ("tenable/nessus/nessus_many_vuln2-all.csv", 29, {"Info": 28, "Medium": 1}),
        ("tenable/nessus/nessus_new.csv", 99, {"Low": 99}),
        ("tenable/tenable_many_vuln.csv", 9, {"High": 3, "Medium": 6}),
        ("tenable/issue_9612.csv", 3, {"Critical": 3}),
    ],
)
def test_tenable_csv_counts_one_finding_per_plugin_host_port(
    path: str, count: int, histogram: dict[str, int]
) -> None:
    findings = _sample(path, "tenable-csv")
    assert len(findings) == count
    assert _histogram(findings) == histogram


def test_tenable_csv_merges_the_rows_nessus_writes_per_cve() -> None:
    findings = _sample("tenable/tenable_many_vuln.csv", "tenable-csv")

    (mariadb,) = [
        f for f in findings if f.vuln_id == "176703" and (f.asset_name or "").startswith("ip-127")
    ]
    assert len(mariadb.aliases) == 10
    assert mariadb.aliases[0] == "CVE-2021-46666"
    assert mariadb.endpoint == "ip-127-0-0-1.us-west-2.compute.internal:0/tcp"
    assert mariadb.severity is Severity.HIGH
    assert mariadb.scanner_severity == "High"


def test_tenable_sc_csv_reads_component_from_cpe_and_host_from_ip() -> None:
    findings = _sample("tenable/nessus/nessus_many_vuln.csv", "tenable-csv")
    assert findings[0].component == "md5"
    assert findings[0].cve == "CVE-2004-2761"
    assert findings[3].aliases == ("CVE-2013-2566", "CVE-2015-2808")

    # issue_9612: the same plugin on two IPs is two findings (DefectDojo merges them: 2)
    sc = _sample("tenable/issue_9612.csv", "tenable-csv")
    assert [(f.asset_name, f.identity) for f in sc] == [
        ("2.3.4.5", ("73756", "1433", "tcp")),
        ("2.3.4.5", ("73756", "5555", "tcp")),
        ("1.2.3.4", ("73756", "1433", "tcp")),
    ]


def test_tenable_io_csv_is_semicolon_separated_and_titled_by_plugin_name() -> None:
    path = SCANS / "tenable/nessus/nessus_new.csv"
    assert detect_format(path.read_bytes()[:65536], path.name) == "tenable-csv"

    first = _sample("tenable/nessus/nessus_new.csv", "tenable-csv")[0]
    # DefectDojo titles these rows with the asset name ("Blah1"); we use the plugin's name
    assert first.title == "Network daemons not managed by the package system"
    assert (first.vuln_id, first.asset_name, first.severity) == ("33851", "Blah1", Severity.LOW)
    assert first.cvss_vector == "CVSS:3.0/AV:N/AC:H/PR:L/UI:N/S:U/C:N/I:L/A:N"


NESSUS_CSV_HEADER = b"Plugin ID,CVE,CVSS,Risk,Host,Protocol,Port,Name,,Synopsis,\n"


def test_tenable_csv_blank_and_duplicate_header_names_do_not_shift_columns() -> None:
    data = (
        b"Plugin ID,CVE,Risk,Host,,Protocol,Port,Name,,Risk\n"
        b"10,CVE-2020-0001,High,h1,junk,TCP,443,Thing,junk,Low\n"
    )
    (finding,) = _parse(data, "tenable-csv")
    assert (finding.severity, finding.endpoint, finding.title) == (
        Severity.HIGH,
        "h1:443/tcp",
        "Thing",
    )


def test_tenable_csv_skips_fixed_rows_and_blank_rows() -> None:
    data = (
        b"age_in_days;asset.id;asset.host_name;definition.id;definition.name;port;protocol;"
        b"severity;state\n"
        b"1;a;h1;10;Open one;22;TCP;high;ACTIVE\n"
        b"1;a;h1;11;Fixed one;22;TCP;high;FIXED\n"
        b";;;;;;;;\n"
    )
    (finding,) = _parse(data, "tenable-csv")
    assert (finding.vuln_id, finding.severity) == ("10", Severity.HIGH)


def test_tenable_csv_refuses_unknown_severity_naming_row_and_column() -> None:
    data = NESSUS_CSV_HEADER + b"10,,,Severe,h1,tcp,80,Thing,,s,\n"
    error = _refused(data, "tenable-csv")
    assert (error.record, error.field) == ("row 2", "Risk")


def test_tenable_csv_refuses_a_csv_without_plugin_column() -> None:
    error = _refused(b"Date,Title,Severity\n2021-01-01,x,High\n", "tenable-csv")
    assert (error.record, error.field) == ("header", "Plugin ID")


def test_tenable_csv_refuses_a_row_without_host() -> None:
    error = _refused(NESSUS_CSV_HEADER + b"10,,,High,,tcp,80,Thing,,s,\n", "tenable-csv")
    assert (error.record, error.field) == ("row 2", "Host")


def test_tenable_csv_refuses_bytes_that_are_not_utf8() -> None:
    error = _refused(NESSUS_CSV_HEADER + b"10,,,High,h\xff,tcp,80,Thing,,s,\n", "tenable-csv")
    assert error.record == "document"


# ---------------------------------------------------------------- ZAP


def _identities(path: str) -> set[tuple[str, ...]]:
    return {f.identity for f in _sample(f"zap/{path}", "zap")}


def test_zap_reimport_series_new_and_absent_alert() -> None:
    # scanners.md §4: import 0 then re-import 1 -> created 1, closed 1, untouched 3
    base, later = _identities("0_zap_sample.xml"), _identities("1_zap_sample_0_and_new_absent.xml")
    assert len(base) == 4
    assert later - base == {("10010", "mainsite.com:443")}  # created
    assert base - later == {("10011", "mainsite.com:443")}  # closed
    assert len(base & later) == 3  # untouched


def test_zap_reimport_series_new_endpoint_and_changed_severities() -> None:
    base = _identities("0_zap_sample.xml")
    # a new instance URL is the same finding (DefectDojo: untouched 4)
    assert _identities("2_zap_sample_0_and_new_endpoint.xml") == base
    # severity is not identity: DefectDojo creates 2 / closes 2 here, we create and close nothing
    changed = _sample("zap/3_zap_sampl_0_and_different_severities.xml", "zap")
    assert {f.identity for f in changed} == base
    assert _histogram(changed) == {"Low": 1, "Medium": 3}
    # accepting zap3 then importing the file without it closes exactly that one
    assert base - _identities("0_zap_sample_without_zap3.xml") == {("10055", "mainsite.com:443")}


def test_zap_alert_with_many_instances_is_one_finding() -> None:
    findings = _sample("zap/0_zap_sample.xml", "zap")
    first = findings[0]
    assert len(findings) == 4
    assert (first.vuln_id, first.title, first.cwe) == (
        "10011",
        "zap1: Cookie Without Secure Flag",
        614,
    )
    assert (first.severity, first.scanner_severity) == (Severity.LOW, "Low")
    assert first.endpoint == "https://mainsite.com/dashboard"
    assert (first.asset_kind, first.asset_name) == ("application", "https://mainsite.com")


def test_zap_keeps_non_default_port_in_asset_and_drops_minus_one_cwe() -> None:
    findings = _sample("zap/zap-results-first-scan.xml", "zap")
    assert findings[0].asset_name == "http://bodgeit.securecodebox-demo.svc:8080"
    assert _histogram(findings) == {"Info": 4, "Low": 4, "Medium": 3, "High": 4}
    data = (
        (SCANS / "zap/0_zap_sample.xml")
        .read_bytes()
        .replace(b"<cweid>614</cweid>", b"<cweid>-1</cweid>")
    )
    assert _parse(data, "zap")[0].cwe is None


ZAP_JSON = {
    "@programName": "ZAP",
    "@version": "2.14.0",
    "@generated": "Mon, 1 Jan 2024 00:00:00",
    "site": [
        {
            "@name": "https://shop.example:8443",
            "@host": "shop.example",
            "@port": "8443",
            "@ssl": "true",
            "alerts": [
                {
                    "pluginid": "10020",
                    "alertRef": "10020-1",
                    "alert": "Missing Anti-clickjacking Header",
                    "riskcode": "2",
                    "riskdesc": "Medium (Medium)",
                    "cweid": "1021",
                    "instances": [{"uri": "https://shop.example:8443/a", "method": "GET"}],
                }
            ],
        }
    ],
}


def test_zap_json_report() -> None:
    data = json.dumps(ZAP_JSON).encode()
    assert detect_format(data, "report.json") == "zap"

    (finding,) = _parse(data, "zap")
    assert finding.vuln_id == "10020"
    assert finding.identity == ("10020-1", "shop.example:8443")
    assert (finding.severity, finding.cwe) == (Severity.MEDIUM, 1021)
    assert finding.asset_name == "https://shop.example:8443"
    assert finding.endpoint == "https://shop.example:8443/a"
    assert finding.record == "site[0].alerts[0]"


def test_zap_json_refuses_unknown_risk_and_wrong_types() -> None:
    bad = json.loads(json.dumps(ZAP_JSON))
    bad["site"][0]["alerts"][0]["riskcode"] = "9"
    error = _refused(json.dumps(bad).encode(), "zap")
    assert (error.record, error.field) == ("site[0].alerts[0]", "riskcode")

    bad["site"][0]["alerts"] = {"not": "a list"}
    error = _refused(json.dumps(bad).encode(), "zap")
    assert (error.record, error.field) == ("site[0]", "alerts")


def test_zap_xml_refuses_a_bomb_and_a_truncated_file() -> None:
    assert _refused(_bomb("OWASPZAPReport"), "zap").record == "document"
    data = (SCANS / "zap/dvwa_baseline_dojo.xml").read_bytes()
    assert _refused(data[:20000], "zap").record == "document"


def test_zap_xml_refuses_missing_plugin_id() -> None:
    data = (SCANS / "zap/0_zap_sample.xml").read_bytes().replace(b"<pluginid>10054</pluginid>", b"")
    error = _refused(data, "zap")
    assert (error.record, error.field) == ("site[0].alerts[1]", "pluginid")


# ---------------------------------------------------------------- Dependency-Check


def test_dependency_check_suppressed_vulnerabilities_are_findings_marked_suppressed() -> None:
    findings = _sample("dependency_check/PR6439.xml", "dependency-check")

    assert len(findings) == 34
    assert _histogram(findings) == {"Critical": 7, "Medium": 18, "High": 8, "Low": 1}
    assert sum(f.suppressed for f in findings) == 8
    first = findings[0]
    assert first.suppressed
    assert (first.component, first.component_version) == (
        "org.apache.activemq:activemq-broker",
        "5.16.5",
    )
    assert first.purl == "pkg:maven/org.apache.activemq/activemq-broker@5.16.5"
    assert first.file_path == "activemq-broker-5.16.5.jar"
    assert (first.vuln_id, first.cwe) == ("CVE-2015-3208", 611)
    assert first.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert first.identity == ("CVE-2015-3208", "org.apache.activemq:activemq-broker", "")
    assert first.asset_name == "Business Process Center - Runtime Environment"


def test_dependency_check_old_schema_npm_and_cwe_only_vulnerabilities() -> None:
    findings = _sample(
        "dependency_check/multiple_vulnerabilities_has_multiple_findings.xml", "dependency-check"
    )
    assert len(findings) == 9
    assert findings[0].identity == ("CVE-0000-0001", "org.dom4j:dom4j", "adapter-ear1.ear")
    npm = [f for f in findings if f.component == "yargs-parser"]
    assert [f.vuln_id for f in npm] == [
        "1500",
        "CVE-2020-7608",
        "CWE-400: Uncontrolled Resource Consumption ('Resource Exhaustion')",
    ]
    assert npm[0].severity is Severity.LOW  # "low" with unscored="true"
    assert npm[2].cwe == 400


DC_JSON = {
    "reportSchema": "1.1",
    "scanInfo": {"engineVersion": "9.0.0"},
    "projectInfo": {"name": "shop"},
    "dependencies": [
        {
            "fileName": "lodash-4.17.15.tgz",
            "filePath": "/build/node_modules/lodash",
            "packages": [{"id": "pkg:npm/lodash@4.17.15"}],
            "vulnerabilities": [
                {
                    "source": "NVD",
                    "name": "CVE-2020-8203",
                    "severity": "HIGH",
                    "cvssv3": {
                        "baseScore": 7.4,
                        "attackVector": "NETWORK",
                        "attackComplexity": "HIGH",
                        "privilegesRequired": "NONE",
                        "userInteraction": "NONE",
                        "scope": "UNCHANGED",
                        "confidentialityImpact": "NONE",
                        "integrityImpact": "HIGH",
                        "availabilityImpact": "HIGH",
                        "baseSeverity": "HIGH",
                    },
                    "cwes": ["CWE-770"],
                }
            ],
            "suppressedVulnerabilities": [{"name": "CVE-2021-23337", "severity": "moderate"}],
        }
    ],
}


def test_dependency_check_json_report() -> None:
    data = json.dumps(DC_JSON).encode()
    assert detect_format(data, "dependency-check-report.json") == "dependency-check"

    active, suppressed = _parse(data, "dependency-check")
    assert (active.component, active.component_version) == ("lodash", "4.17.15")
    assert active.cvss_vector == "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H"
    assert (active.cvss_score, active.cwe, active.suppressed) == (7.4, 770, False)
    assert (suppressed.vuln_id, suppressed.severity, suppressed.suppressed) == (
        "CVE-2021-23337",
        Severity.MEDIUM,
        True,
    )
    assert suppressed.record == "dependencies[0].suppressedVulnerabilities[0]"


def test_dependency_check_refuses_unknown_severity_and_wrong_types() -> None:
    bad = json.loads(json.dumps(DC_JSON))
    bad["dependencies"][0]["vulnerabilities"][0]["severity"] = "SEVERE"
    error = _refused(json.dumps(bad).encode(), "dependency-check")
    assert (error.record, error.field) == ("dependencies[0].vulnerabilities[0]", "severity")

    bad["dependencies"][0]["vulnerabilities"] = "CVE-1"
    error = _refused(json.dumps(bad).encode(), "dependency-check")
    assert (error.record, error.field) == ("dependencies[0]", "vulnerabilities")


def test_dependency_check_xml_refuses_bomb_and_missing_name() -> None:
    assert _refused(_bomb("analysis"), "dependency-check").record == "document"
    data = (
        (SCANS / "dependency_check/single_vuln.xml")
        .read_bytes()
        .replace(b"<name>CVE-0000-0001</name>", b"")
    )
    error = _refused(data, "dependency-check")
    assert (error.record, error.field) == ("dependencies[1].vulnerabilities[0]", "name")


# ---------------------------------------------------------------- CycloneDX


def test_cyclonedx_severity_is_the_highest_rating_word() -> None:
    findings = _sample("cyclonedx/issue_9277.json", "cyclonedx")

    assert len(findings) == 14
    # DefectDojo keeps the last CVSSv3 rating's word (Medium 4, Low 8, High 2)
    assert _histogram(findings) == {"Medium": 7, "Low": 2, "High": 5}
    first = findings[0]
    assert (first.vuln_id, first.component, first.severity) == (
        "CVE-2016-2781",
        "coreutils",
        Severity.MEDIUM,
    )
    assert (first.asset_kind, first.asset_name) == ("image", "ubuntu:latest")
    assert first.identity == ("CVE-2016-2781", "pkg:deb/ubuntu/coreutils")


def test_cyclonedx_vex_not_affected_is_suppressed() -> None:
    (finding,) = _sample("cyclonedx/valid-vulnerability-1.4.json", "cyclonedx")
    assert (finding.vex_state, finding.suppressed) == ("not_affected", True)
    assert finding.aliases == ("CVE-2018-7489",)
    assert finding.cves == ("CVE-2018-7489",)
    assert finding.cwes == (184, 502)


def test_cyclonedx_legacy_xml_nested_vulnerabilities() -> None:
    findings = _sample("cyclonedx/dd_1_15_0.xml", "cyclonedx")
    assert _histogram(findings) == {
        "Low": 141,
        "Medium": 175,
        "Info": 33,
        "High": 28,
        "Critical": 4,
    }
    # a CVSSv2 4.3 that Debian rates Low stays Low: a rating's own word beats its score
    assert (findings[0].component, findings[0].severity) == ("apt", Severity.LOW)
    assert findings[0].asset_name == "defectdojo/defectdojo-django:1.15.0"


def test_cyclonedx_score_only_rating_and_unresolved_ref() -> None:
    (finding,) = _sample("cyclonedx/no-severity.json", "cyclonedx")
    assert (finding.severity, finding.scanner_severity) == (Severity.CRITICAL, "10")
    assert finding.component is None
    assert finding.identity == ("CVE-2021-44228", "gerbwetbqt")


def _bom(vulnerabilities: list[dict[str, object]]) -> bytes:
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            "metadata": {"component": {"type": "application", "name": "shop", "bom-ref": "app"}},
            "components": [
                {
                    "bom-ref": "lib",
                    "name": "outer",
                    "version": "1",
                    "components": [
                        {
                            "bom-ref": "inner",
                            "name": "inner",
                            "version": "2.0",
                            "purl": "pkg:npm/inner@2.0",
                        }
                    ],
                }
            ],
            "vulnerabilities": vulnerabilities,
        }
    ).encode()


def test_cyclonedx_json_vex_states_bom_links_and_nested_components() -> None:
    data = _bom(
        [
            {
                "id": "CVE-2024-0001",
                "ratings": [{"severity": "low"}, {"score": 9.1, "method": "CVSSv31"}],
                "affects": [
                    {"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#inner"},
                    {"ref": "app"},
                ],
                "analysis": {"state": "exploitable"},
            },
            {
                "id": "CVE-2024-0002",
                "affects": [{"ref": "inner"}],
                "analysis": {"state": "resolved"},
            },
        ]
    )
    inner, app, resolved = _parse(data, "cyclonedx")
    assert (inner.component, inner.component_version, inner.purl) == (
        "inner",
        "2.0",
        "pkg:npm/inner@2.0",
    )
    assert inner.severity is Severity.CRITICAL  # 9.1 beats the "low" word
    assert (inner.vex_state, inner.suppressed) == ("exploitable", False)
    assert (inner.asset_kind, inner.asset_name) == ("application", "shop")
    assert app.component == "shop"
    assert inner.record == "vulnerabilities[0].affects[0]"
    # no rating at all: CycloneDX "unknown", not a guess
    assert (resolved.severity, resolved.scanner_severity) == (Severity.INFO, "unknown")
    assert (resolved.vex_state, resolved.suppressed) == ("resolved", True)


def test_cyclonedx_xml_1_5_with_analysis() -> None:
    data = b"""<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">
  <components><component type="library" bom-ref="c1"><name>log4j-core</name>
    <version>2.14.1</version></component></components>
  <vulnerabilities><vulnerability bom-ref="v1"><id>CVE-2021-44228</id>
    <references><reference><id>GHSA-jfh8-c2jp-5v3q</id></reference></references>
    <ratings><rating><score>10.0</score><severity>critical</severity><method>CVSSv31</method>
      <vector>AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H</vector></rating></ratings>
    <cwes><cwe>502</cwe></cwes>
    <analysis><state>false_positive</state></analysis>
    <affects><target><ref>c1</ref></target></affects>
  </vulnerability></vulnerabilities>
</bom>"""
    assert detect_format(data, "bom.xml") == "cyclonedx"
    (finding,) = _parse(data, "cyclonedx")
    assert (finding.component, finding.severity, finding.cwe) == (
        "log4j-core",
        Severity.CRITICAL,
        502,
    )
    assert finding.aliases == ("GHSA-jfh8-c2jp-5v3q",)
    assert finding.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    assert (finding.vex_state, finding.suppressed) == ("false_positive", True)


def test_cyclonedx_refuses_unknown_rating_word_and_bad_affects() -> None:
    error = _refused(
        _bom([{"id": "X-1", "ratings": [{"severity": "urgent"}], "affects": [{"ref": "lib"}]}]),
        "cyclonedx",
    )
    assert (error.record, error.field) == ("vulnerabilities[0].ratings[0]", "severity")

    error = _refused(_bom([{"id": "X-1", "affects": [{"ref": 7}]}]), "cyclonedx")
    assert (error.record, error.field) == ("vulnerabilities[0].affects[0]", "ref")

    error = _refused(_bom([{"affects": []}]), "cyclonedx")
    assert (error.record, error.field) == ("vulnerabilities[0]", "id")


def test_cyclonedx_refuses_bomb_truncation_and_bad_json() -> None:
    assert _refused(_bomb("bom"), "cyclonedx").record == "document"
    data = (SCANS / "cyclonedx/spec1.xml").read_bytes()
    assert _refused(data[:900], "cyclonedx").record == "document"
    assert _refused(b'{"bomFormat": "CycloneDX", "vulnerabilities": [', "cyclonedx").record == (
        "document"
    )
    assert _refused(b'{"bomFormat": "SPDX"}', "cyclonedx").field == "bomFormat"
