"""Issue 14: intake you can trust on messy, real-world reports.

Closing only within the same scanner and asset; empty files refused by detection while valid empty
reports are clean scans; one odd record skipped (and named) instead of sinking the report;
placeholders emptied; unparseable vectors dropped; NULs stripped; ``--strict`` for the old rule.
Every report here is a shape written by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import InputError
from detente.findings.importer import ImportOptions, summary
from detente.findings.models import Finding, ScanImport, Status
from detente.findings.parsers import ParseError
from detente.findings.parsers.registry import detect_format
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _import(path: Path, **options: Any) -> ScanImport:
    (scan,) = scan_import(paths=[path], options=ImportOptions(**options))
    return scan


def _sarif(tool: str, rules: list[str]) -> dict[str, Any]:
    return {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [
            {
                "tool": {"driver": {"name": tool}},
                "results": [
                    {
                        "ruleId": rule,
                        "level": "error",
                        "message": {"text": f"{rule} found"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "app/main.py"},
                                    "region": {"startLine": 3},
                                }
                            }
                        ],
                    }
                    for rule in rules
                ],
            }
        ],
    }


def _open_by_scanner(asset: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for scanner in Finding.objects.filter(asset__identifier=asset, status=Status.OPEN).values_list(
        "scanner", flat=True
    ):
        counts[scanner] = counts.get(scanner, 0) + 1
    return counts


# ------------------------------------------------------------------ closing: scanner x asset only


def test_a_clean_scan_closes_only_its_own_scanners_findings_on_its_asset(tmp_path: Path) -> None:
    clock.set_now(NOW)
    _import(
        write_json(tmp_path / "codeql.sarif", _sarif("CodeQL", ["py/sql", "py/xss"])),
        asset_name="shop",
    )
    _import(write_json(tmp_path / "semgrep.sarif", _sarif("Semgrep", ["r1"])), asset_name="shop")
    _import(write_json(tmp_path / "other.sarif", _sarif("Semgrep", ["r1"])), asset_name="blog")
    assert _open_by_scanner("shop") == {"codeql": 2, "semgrep": 1}

    clock.set_now(NOW + dt.timedelta(days=1))
    clean = _import(
        write_json(tmp_path / "semgrep2.sarif", _sarif("Semgrep", [])), asset_name="shop"
    )

    assert clean.format == "sarif"
    assert clean.closed == 1
    assert _open_by_scanner("shop") == {"codeql": 2}
    assert _open_by_scanner("blog") == {"semgrep": 1}


def test_a_report_whose_scanner_is_unknown_closes_nothing(tmp_path: Path) -> None:
    clock.set_now(NOW)
    _import(write_json(tmp_path / "a.sarif", _sarif("CodeQL", ["py/sql"])), asset_name="shop")
    _import(
        write_json(tmp_path / "b.json", trivy_report([trivy_vuln("CVE-2024-1")])), asset_name="shop"
    )

    no_runs = _import(
        write_json(tmp_path / "c.sarif", {"version": "2.1.0", "runs": []}), asset_name="shop"
    )
    # a generic report that does not name its tool, with no findings
    nameless = _import(
        write_json(tmp_path / "d.json", {"findings": []}), fmt="generic", asset_name="shop"
    )

    assert (no_runs.format, no_runs.closed, no_runs.scanner) == ("sarif", 0, "")
    assert (nameless.closed, nameless.scanner) == (0, "")
    assert Finding.objects.filter(status=Status.OPEN).count() == 2


def test_an_empty_report_of_another_format_does_not_close_the_last_imports_findings(
    tmp_path: Path,
) -> None:
    """The old rule picked scopes by the asset's last import's format: an empty pip-audit report
    after a Trivy import on the same asset closed Trivy's findings."""
    clock.set_now(NOW)
    _import(
        write_json(tmp_path / "t.json", trivy_report([trivy_vuln("CVE-2024-1")])), asset_name="shop"
    )
    clean = _import(
        write_json(tmp_path / "p.json", {"dependencies": [], "fixes": []}), asset_name="shop"
    )
    assert (clean.format, clean.closed) == ("pip-audit", 0)
    assert Finding.objects.get().status == Status.OPEN


# ------------------------------------------------------------------ empty files and clean scans


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty \(0 bytes\)"),
        (b"  \n\t\n", r"empty \(only whitespace\)"),
        (b"null\n", "only JSON null"),
        (b"\xef\xbb\xbfnull", "only JSON null"),
    ],
)
def test_empty_files_and_a_json_null_are_refused_by_detection(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "scan.json"
    path.write_bytes(content)
    with pytest.raises(ParseError, match=message) as caught:
        _import(path)
    assert caught.value.file == str(path)
    assert ScanImport.objects.count() == 0


@pytest.mark.parametrize(
    ("doc", "fmt"),
    [
        ({"version": "2.1.0", "runs": []}, "sarif"),
        (
            {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]},
            "sarif",
        ),
        ({"dependencies": []}, "pip-audit"),
        ({"dependencies": [], "fixes": []}, "pip-audit"),
        (
            {"SchemaVersion": 2, "ArtifactName": "alpine:3", "ArtifactType": "container_image"},
            "trivy",
        ),
        ({"SchemaVersion": 2, "ArtifactName": "a", "Results": []}, "trivy"),
        ([{"Target": "alpine:3 (alpine 3.1)", "Type": "alpine", "Vulnerabilities": None}], "trivy"),
        ({"matches": [], "source": {"type": "image"}, "descriptor": {"name": "grype"}}, "grype"),
    ],
)
def test_valid_empty_reports_are_detected_as_their_formats_clean_scan(
    tmp_path: Path, doc: Any, fmt: str
) -> None:
    head = json.dumps(doc).encode()
    assert detect_format(head, "scan.json") == fmt
    scan = _import(write_json(tmp_path / "scan.json", doc), asset_name="shop")
    assert (scan.format, scan.parsed, scan.new) == (fmt, 0, 0)


def test_a_clean_trivy_scan_closes_trivys_open_findings_on_the_image(tmp_path: Path) -> None:
    clock.set_now(NOW)
    report = trivy_report([trivy_vuln("CVE-2024-1"), trivy_vuln("CVE-2024-2", pkg="zlib")])
    _import(write_json(tmp_path / "t1.json", report))
    clock.set_now(NOW + dt.timedelta(days=1))
    clean = {"SchemaVersion": 2, "ArtifactName": "registry.example/shop:1.0",
             "ArtifactType": "container_image"}  # fmt: skip
    scan = _import(write_json(tmp_path / "t2.json", clean))
    assert (scan.format, scan.scanner, scan.closed) == ("trivy", "trivy", 2)
    assert set(Finding.objects.values_list("status", flat=True)) == {Status.FIXED}


def test_a_clean_pip_audit_scan_closes_pip_audits_findings_on_the_named_asset(
    tmp_path: Path,
) -> None:
    clock.set_now(NOW)
    report = {
        "dependencies": [
            {"name": "django", "version": "3.2",
             "vulns": [{"id": "PYSEC-2021-1", "fix_versions": ["3.2.1"], "description": "x"}]},
        ],
        "fixes": [],
    }  # fmt: skip
    _import(write_json(tmp_path / "p1.json", report), asset_name="shop")
    clock.set_now(NOW + dt.timedelta(days=1))
    scan = _import(write_json(tmp_path / "p2.json", {"dependencies": []}), asset_name="shop")
    assert (scan.format, scan.closed) == ("pip-audit", 1)
    assert Finding.objects.get().status == Status.FIXED


# ------------------------------------------------------------------ one record must not sink it


def _messy_trivy(tmp_path: Path) -> Path:
    no_id = trivy_vuln("CVE-2024-2")
    del no_id["VulnerabilityID"]
    return write_json(
        tmp_path / "messy.json",
        trivy_report(
            [
                trivy_vuln("CVE-2024-1"),
                no_id,
                trivy_vuln("CVE-2024-3", severity="APOCALYPTIC"),
                trivy_vuln("CVE-2024-4", pkg="zlib"),
            ]
        ),
    )


def test_records_without_identity_are_skipped_and_named_and_the_rest_imported(
    tmp_path: Path,
) -> None:
    clock.set_now(NOW)
    scan = _import(_messy_trivy(tmp_path))
    assert (scan.parsed, scan.new, scan.skipped) == (2, 2, 2)
    assert sorted(Finding.objects.values_list("vuln_id", flat=True)) == ["CVE-2024-1", "CVE-2024-4"]
    assert [(n["kind"], n["record"], n["field"]) for n in scan.notes] == [
        ("skipped", "Results[0].Vulnerabilities[1]", "VulnerabilityID"),
        ("skipped", "Results[0].Vulnerabilities[2]", "Severity"),
    ]
    assert summary(scan) == (
        "2 parsed, 2 new, 0 unchanged, 0 reopened, 0 closed; 2 records skipped: "
        "Results[0].Vulnerabilities[1] (VulnerabilityID): required field is missing; "
        "Results[0].Vulnerabilities[2] (Severity): unknown severity 'APOCALYPTIC'"
    )
    event = AuditEvent.objects.get(verb="scan.imported")
    assert (event.after or {})["skipped"] == 2


def test_strict_refuses_the_file_at_its_first_skipped_record_and_writes_nothing(
    tmp_path: Path,
) -> None:
    with pytest.raises(ParseError) as caught:
        _import(_messy_trivy(tmp_path), strict=True)
    assert caught.value.record == "Results[0].Vulnerabilities[1]"
    assert caught.value.field == "VulnerabilityID"
    assert "refused by --strict; 2 such in the file" in str(caught.value)
    assert Finding.objects.count() == 0
    assert ScanImport.objects.count() == 0
    assert not AuditEvent.objects.filter(verb="scan.imported").exists()


def test_a_malformed_document_is_still_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(trivy_report([trivy_vuln("CVE-2024-1")]))[:-20])
    with pytest.raises(InputError, match="not valid JSON"):
        _import(path)
    assert ScanImport.objects.count() == 0


def _generic(findings: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    return {"name": "acme-scanner", **top, "findings": findings}


def test_placeholders_in_optional_fields_become_empty_and_are_counted(tmp_path: Path) -> None:
    doc = _generic(
        [
            {"title": "A", "severity": "High", "cwe": "N/A", "line": "-", "cvssv3_score": "null",
             "file_path": "a.py"},
            {"title": "B", "severity": "Low", "cwe": 79, "line": 4, "file_path": "b.py"},
        ]
    )  # fmt: skip
    scan = _import(write_json(tmp_path / "g.json", doc), asset_name="shop")
    assert (scan.new, scan.skipped) == (2, 0)
    a = Finding.objects.get(title="A")
    assert (a.cwe, a.line, a.cvss_score) == (None, None, None)
    assert Finding.objects.get(title="B").cwe == 79
    assert [(n["kind"], n["record"], n["field"]) for n in scan.notes] == [
        ("emptied", "findings[0]", "cwe"),
        ("emptied", "findings[0]", "cvssv3_score"),
        ("emptied", "findings[0]", "line"),
    ]
    assert "3 values cleaned: findings[0] (cwe): placeholder 'N/A' emptied" in summary(scan)


def test_an_unparseable_cvss_vector_is_dropped_from_that_rating_only(tmp_path: Path) -> None:
    clock.set_now(NOW)
    bad = trivy_vuln("CVE-2024-2", vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:Q")
    scan = _import(write_json(tmp_path / "v.json", trivy_report([trivy_vuln("CVE-2024-1"), bad])))
    assert (scan.new, scan.skipped) == (2, 0)
    dropped = Finding.objects.get(vuln_id="CVE-2024-2")
    assert dropped.cvss_vector is None
    assert dropped.severity == "high"  # the tool's own rating stays
    assert Finding.objects.get(vuln_id="CVE-2024-1").cvss_vector is not None
    ((kind, record, field),) = [(n["kind"], n["record"], n["field"]) for n in scan.notes]
    assert (kind, record, field) == ("dropped", "Results[0].Vulnerabilities[1]", "cvss_vector")


def test_unknown_top_level_keys_of_a_generic_report_are_kept_as_metadata(tmp_path: Path) -> None:
    doc = _generic(
        [{"title": "A", "severity": "High"}],
        title="Quarterly pentest", date="2026-10-01", scope={"by": "Acme"},
    )  # fmt: skip
    scan = _import(write_json(tmp_path / "g.json", doc), asset_name="shop")
    assert scan.new == 1
    assert scan.metadata == {
        "date": "2026-10-01", "scope": '{"by":"Acme"}', "title": "Quarterly pentest"
    }  # fmt: skip
    assert scan.notes == []


def test_nul_characters_are_stripped_from_every_text_field_and_counted(tmp_path: Path) -> None:
    doc = _generic(
        [{"title": "SQL\u0000 injection", "severity": "High", "description": "x\u0000y",
          "file_path": "a\u0000.py", "component_name": "lib\u0000"}]
    )  # fmt: skip
    path = write_json(tmp_path / "g.json", doc)
    assert b"\\u0000" in path.read_bytes()
    scan = _import(path, asset_name="shop")
    finding = Finding.objects.get()
    assert (finding.title, finding.file_path, finding.component) == ("SQL injection", "a.py", "lib")
    assert [(n["kind"], n["message"]) for n in scan.notes] == [
        ("stripped", "4 NUL character(s) stripped")
    ]


def test_nuls_in_a_trivy_report_are_stripped(tmp_path: Path) -> None:
    vuln = trivy_vuln("CVE-2024-1", pkg="open\u0000ssl", title="bad\u0000 title")
    scan = _import(write_json(tmp_path / "t.json", trivy_report([vuln])))
    finding = Finding.objects.get()
    assert (finding.component, finding.title) == ("openssl", "bad title")
    assert scan.notes[-1]["kind"] == "stripped"


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(tmp_path: Path) -> None:
    doc = _generic([{"title": "path C:\\u0000dir", "severity": "Low"}])
    scan = _import(write_json(tmp_path / "g.json", doc), asset_name="shop")
    assert Finding.objects.get().title == "path C:\\u0000dir"
    assert scan.notes == []


def test_the_summary_counts_duplicates_merged_within_the_report(tmp_path: Path) -> None:
    clock.set_now(NOW)
    vulns = [trivy_vuln(f"CVE-2024-{i % 12}") for i in range(27)]
    scan = _import(write_json(tmp_path / "d.json", trivy_report(vulns)))
    assert summary(scan) == (
        "27 parsed, 12 new, 15 merged as duplicates, 0 unchanged, 0 reopened, 0 closed"
    )


def test_the_import_page_lists_skipped_records_and_the_reports_own_fields(tmp_path: Path) -> None:
    from django.test import Client

    from detente.access.services import account_set_password
    from detente.people.models import Role
    from detente.people.services import person_upsert

    clock.set_now(NOW)
    doc = _generic(
        [{"title": "A", "severity": "High"}, {"severity": "Low"}], title="Quarterly pentest"
    )
    scan = _import(write_json(tmp_path / "g.json", doc), asset_name="shop")
    lead = person_upsert(name="Lead", email="lead@example.org", role=Role.SECURITY_LEAD)
    account_set_password(person=lead, password="correct horse battery staple")
    lead.refresh_from_db()
    client = Client()
    client.force_login(lead.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()

    page = client.get(f"/imports/{scan.pk}").content.decode()

    assert '<dd data-count="skipped">1</dd>' in page
    assert "<td>Skipped</td><td>findings[1]</td><td>title</td>" in page
    assert "<dt>title</dt><dd>Quarterly pentest</dd>" in page


# ------------------------------------------------------------------ duplicate keys (issue 19)

_DUPLICATED = (
    '{"name": "acme", "findings": ['
    '{"title": "A", "severity": "Low", "severity": "High"},'
    '{"title": "B", "severity": "Low", "title": "B2"}]}'
)


def test_duplicate_keys_keep_the_last_value_with_a_counted_warning(tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text(_DUPLICATED)
    scan = _import(path, asset_name="shop")
    assert sorted(Finding.objects.values_list("title", "severity")) == [
        ("A", "high"), ("B2", "low")
    ]  # fmt: skip
    assert [(n["kind"], n["field"], n["message"]) for n in scan.notes] == [
        ("duplicate", "severity", "duplicate key 'severity' (once): the last value kept"),
        ("duplicate", "title", "duplicate key 'title' (once): the last value kept"),
    ]
    assert "2 values cleaned: document (severity): duplicate key 'severity'" in summary(scan)


def test_strict_refuses_duplicate_keys_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text(_DUPLICATED)
    with pytest.raises(ParseError) as caught:
        _import(path, asset_name="shop", strict=True)
    assert caught.value.field == "severity"
    assert "duplicate key 'severity'" in str(caught.value)
    assert Finding.objects.count() == 0


def test_a_forced_format_nobody_knows_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    path = write_json(tmp_path / "x.json", _sarif("Semgrep", ["r1"]))
    unknown = '{"\\u00aaV": {"\\u00c2": -1424282}, "\\u001c": null}'  # longer than the column

    with pytest.raises(InputError) as refused:
        _import(path, fmt=unknown)

    assert refused.value.field == "format"
    assert str(refused.value).startswith(f"{path}, field 'format': unknown format ")
    assert ", sarif, " in str(refused.value)
    assert ScanImport.objects.count() == 0
    assert Finding.objects.count() == 0


# ------------------------------------------------------------------ every size, every format


def _trivy_with_nuls() -> dict[str, Any]:
    doc = trivy_report(
        [trivy_vuln("CVE-2024-1", pkg="open\u0000ssl", title="bad\u0000 title")],
        artifact="registry.example/sh\u0000op:1.0",
    )
    doc["Results"][0]["Target"] = "registry.example/shop:1.0 (debian\u0000 12.5)"
    return doc


@pytest.mark.parametrize("in_child", [False, True], ids=["in-process", "parse-child"])
def test_nuls_are_stripped_from_a_mapped_trivy_file_as_from_one_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_child: bool
) -> None:
    from detente.findings import parse_worker
    from detente.findings.parsers import trivy

    whole_path = write_json(tmp_path / "whole.json", _trivy_with_nuls())
    whole = _import(whole_path)
    read_whole = list(Finding.objects.values_list("asset__identifier", "component", "title"))
    Finding.objects.all().delete()

    # a file from MMAP_MIN_BYTES up is memory-mapped (2 GB reports); here every file is
    monkeypatch.setattr(trivy, "MMAP_MIN_BYTES", 1)
    if in_child:
        monkeypatch.setattr(parse_worker, "PARALLEL_MIN_BYTES", 1)
    mapped = _import(write_json(tmp_path / "mapped.json", _trivy_with_nuls()))

    assert list(Finding.objects.values_list("asset__identifier", "component", "title")) == [
        ("registry.example/shop:1.0", "openssl", "bad title")
    ]
    assert read_whole == [("registry.example/shop:1.0", "openssl", "bad title")]
    assert Finding.objects.get().file_path == "registry.example/shop:1.0 (debian 12.5)"
    assert mapped.notes == whole.notes == [
        {"kind": "stripped", "record": "document", "field": "", "message":
         "5 NUL character(s) stripped"}
    ]  # fmt: skip


def test_a_mapped_trivy_file_without_nuls_is_read_from_its_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from detente.findings.parsers import trivy

    monkeypatch.setattr(trivy, "MMAP_MIN_BYTES", 1)
    vuln = trivy_vuln("CVE-2024-2", title="path C:\\u0000dir")  # an escaped backslash: text
    scan = _import(write_json(tmp_path / "t.json", trivy_report([vuln])))
    assert Finding.objects.get().title == "path C:\\u0000dir"
    assert scan.notes == []


def test_duplicate_keys_in_a_trivy_report_keep_the_last_value_unsearched(tmp_path: Path) -> None:
    # docs/formats.md, "Duplicate keys": Trivy's reports are not searched (the cost is the parse's)
    path = tmp_path / "dup.json"
    text = json.dumps(trivy_report([trivy_vuln("CVE-2024-3", severity="LOW")]))
    path.write_text(text.replace('"Severity": "LOW"', '"Severity": "LOW", "Severity": "HIGH"'))
    scan = _import(path)
    assert Finding.objects.get().scanner_severity == "HIGH"
    assert scan.notes == []


def test_duplicate_keys_are_not_searched_from_the_documented_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from detente.findings.parsers import base

    monkeypatch.setattr(base, "DUPLICATE_CHECK_BYTES", len(_DUPLICATED) - 1)
    path = tmp_path / "dup.json"
    path.write_text(_DUPLICATED)
    scan = _import(path, asset_name="shop")
    assert Finding.objects.count() == 2
    assert scan.notes == []


def _trivy_with_bad_records() -> dict[str, Any]:
    doc = trivy_report([trivy_vuln("CVE-2024-4")])
    doc["Results"].append(
        {
            "Target": "Dockerfile",
            "Class": "config",
            "Misconfigurations": [
                {"ID": "DS002", "Title": "root user", "Severity": "HIGH", "Status": "FAIL"},
                {"ID": "DS005", "Severity": ["HIGH"]},
                "not a record",
            ],
            "Secrets": [
                {"RuleID": "aws-key", "Severity": "CRITICAL", "StartLine": "twelve"},
                {"RuleID": "github-pat", "Severity": "HIGH", "StartLine": 3, "Match": "****"},
            ],
            "Licenses": [
                {"Name": "GPL-3.0", "Severity": "HIGH", "PkgName": "readline"},
                {"Name": "AGPL-3.0", "Severity": {"x": 1}},
            ],
        }
    )
    return doc


def test_a_bad_record_in_trivys_other_lists_is_skipped_and_named(tmp_path: Path) -> None:
    scan = _import(write_json(tmp_path / "t.json", _trivy_with_bad_records()))

    assert sorted(Finding.objects.values_list("vuln_id", flat=True)) == [
        "CVE-2024-4", "DS002", "GPL-3.0", "github-pat"
    ]  # fmt: skip
    assert [(n["kind"], n["record"], n["field"]) for n in scan.notes] == [
        ("skipped", "Results[1].Misconfigurations[1]", "Severity"),
        ("skipped", "Results[1].Misconfigurations[2]", ""),
        ("skipped", "Results[1].Secrets[0]", "StartLine"),
        ("skipped", "Results[1].Licenses[1]", "Severity"),
    ]
    assert scan.skipped == 4


def test_strict_refuses_a_bad_record_in_trivys_other_lists(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as refused:
        _import(write_json(tmp_path / "t.json", _trivy_with_bad_records()), strict=True)
    assert (refused.value.record, refused.value.field) == (
        "Results[1].Misconfigurations[1]", "Severity"
    )  # fmt: skip
    assert Finding.objects.count() == 0
