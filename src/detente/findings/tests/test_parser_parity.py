"""Parity with real scanner files: every file in shared/samples/scans/manifest.json.

The count of parsed findings equals ``expected_findings`` (or the number pinned in
``DELIBERATE_DIFFERENCES``, documented in docs/formats.md), files the manifest marks as errors are
refused with a ParseError naming the file, and the first finding matches the fields the manifest
asserts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from detente.findings.parsers import ParseError, parse_stream
from detente.findings.parsers.base import parse_cwe
from detente.findings.parsers.registry import detect_format
from detente.findings.tests.parity import (
    DELIBERATE_DIFFERENCES,
    DELIBERATE_FIRST_DIFFERENCES,
    DETECTION_REFUSED,
    SCANS,
    detected_format,
    forced_format,
    manifest_records,
    severity_word,
)

RECORDS = manifest_records()


def _id(record: dict[str, Any]) -> str:
    return str(record["local_path"])


@pytest.mark.parametrize("record", RECORDS, ids=_id)
def test_format_is_detected_from_content(record: dict[str, Any]) -> None:
    path = SCANS / record["local_path"]
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    if record["local_path"] in DETECTION_REFUSED:
        with pytest.raises(ParseError, match="no report to import"):
            detect_format(head, path.name)
        return
    assert detect_format(head, path.name) == detected_format(record)


@pytest.mark.parametrize("record", RECORDS, ids=_id)
def test_sample_parses_to_expected_findings(record: dict[str, Any]) -> None:
    path = SCANS / record["local_path"]
    if record["expected_findings"] is None:
        with path.open("rb") as handle, pytest.raises(ParseError) as caught:
            list(parse_stream(handle, path.name, fmt=forced_format(record)))
        assert path.name in str(caught.value)
        return

    with path.open("rb") as handle:
        findings = list(parse_stream(handle, path.name, fmt=forced_format(record)))

    expected = DELIBERATE_DIFFERENCES.get(record["local_path"], record["expected_findings"])
    assert len(findings) == expected

    first = dict(record.get("first_finding_asserted_by_test") or {})
    for key in DELIBERATE_FIRST_DIFFERENCES.get(record["local_path"], ()):
        first.pop(key, None)
    if not first or not findings:
        return
    got = findings[0]
    if "severity" in first:
        assert severity_word(got.severity) == first["severity"]
    if "component_name" in first:
        assert got.component == first["component_name"]
    if "component_version" in first:
        assert got.component_version == first["component_version"]
    if "cve" in first:
        if str(first["cve"]).startswith("CVE-"):
            assert got.cve == first["cve"]
        else:  # DefectDojo's "cve" is its first id (a GHSA); ours is the primary id or an alias
            assert first["cve"] in {got.vuln_id, *got.aliases}
    if "vuln_id_from_tool" in first:
        assert got.vuln_id == first["vuln_id_from_tool"]
    if "unique_id_from_tool" in first:
        assert got.unique_id_from_tool == first["unique_id_from_tool"]
    if "cwe" in first:
        assert (got.cwe or 0) == (parse_cwe(first["cwe"]) or 0)  # the manifest mixes 79 / "CWE-79"
    if "file_path" in first:
        assert got.file_path == first["file_path"]
    if "line" in first:
        assert str(got.line) == str(first["line"])
    if "vulnerability_ids" in first:
        assert set(first["vulnerability_ids"]) <= {got.vuln_id, *got.aliases}


def test_manifest_is_the_real_one() -> None:
    manifest = json.loads((SCANS / "manifest.json").read_text())
    assert len(manifest["files"]) == len(RECORDS) == 150


def test_every_registered_parser_module_loads() -> None:
    from detente.findings.parsers.registry import missing_modules

    assert missing_modules() == []
