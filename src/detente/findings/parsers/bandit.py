"""Bandit JSON (``bandit -f json``): one finding per ``results[]`` entry.

``vuln_id`` is ``<test_name>:<test_id>`` (``assert_used:B101``), the id DefectDojo and the manifest
use; severity is ``issue_severity`` (confidence is kept in the description).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import IO

from detente.findings.parsers.base import (
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_line,
    as_str,
    expect_dict,
    expect_list,
    parse_cwe,
    read_json,
    require,
    severity_from,
    skip_record,
)

SEVERITIES: Mapping[str, Severity] = {
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "undefined": Severity.INFO,
}


def detect(head: bytes, name: str) -> int:
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return 0
    if b'"issue_severity"' in head and b'"test_id"' in head and b'"issue_confidence"' in head:
        return 95
    if b'"metrics"' in head and b'"_totals"' in head and b'"SEVERITY.' in head:
        return 90  # the metrics block comes first and can fill the whole head
    return 0


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    document = expect_dict(read_json(stream), record="document")
    if "results" not in document:
        raise ParseError("not a Bandit report (no 'results')", record="document", field="results")
    for index, raw in enumerate(
        expect_list(document["results"], record="document", field="results")
    ):
        try:
            record = f"results[{index}]"
            result = expect_dict(raw, record=record)
            test_id = as_str(require(result, "test_id", record=record))
            test_name = as_str(result.get("test_name"))
            filename = require(result, "filename", record=record)
            if not isinstance(filename, str) or test_id is None:
                skip_record(
                    ParseError("expected a string", record=record, field="filename/test_id")
                )
                continue
            line = as_line(result.get("line_number"), record=record, field="line_number")
            raw_severity = result.get("issue_severity")
            severity = severity_from(
                raw_severity, SEVERITIES, record=record, field="issue_severity"
            )
            issue_cwe = result.get("issue_cwe")
            cwe = parse_cwe(issue_cwe.get("id")) if isinstance(issue_cwe, dict) else None
            text = as_str(result.get("issue_text")) or test_id
            confidence = as_str(result.get("issue_confidence"))
            more_info = as_str(result.get("more_info"))
            description = text if confidence is None else f"{text}\n\nConfidence: {confidence}"
            yield ParsedFinding(
                scanner="bandit",
                vuln_id=f"{test_name}:{test_id}" if test_name else test_id,
                title=text,
                severity=severity,
                scanner_severity=str(raw_severity),
                record=record,
                identity=(test_id, filename, "" if line is None else str(line)),
                file_path=filename,
                line=line,
                cwe=cwe,
                cwes=(cwe,) if cwe else (),
                description=description,
                references=(more_info,) if more_info else (),
            )
        except ParseError as exc:
            skip_record(exc)


PARSER = Parser(name="bandit", label="Bandit JSON", detect=detect, parse=parse, scanner="bandit")
