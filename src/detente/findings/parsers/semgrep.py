"""Semgrep JSON: the CLI report (``results[]``) and a Semgrep App supply-chain page (``vulns[]``).

CLI (``semgrep --json``): one finding per match; the same match reported twice (same rule, file and
span) is one finding. ``extra.fingerprint`` is the tool's id unless it is the OSS placeholder
``"requires login"``. App API page (``{vulns, hasMore, cursor}``): one finding per vulnerable
dependency per repository; the repository is the asset.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import IO, Any

from detente.findings.parsers.base import (
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_line,
    as_str,
    expect_dict,
    expect_list,
    read_json,
    require,
    severity_from,
    skip_record,
)
from detente.findings.parsers.sarif import cwes_from, first_line, obj_or_empty, optional_dict

SEVERITIES: Mapping[str, Severity] = {
    # rule severities (CLI)
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    # written as SARIF "note" by the same tool: kept consistent with sarif.py
    "info": Severity.INFO,
    "inventory": Severity.INFO,
    "experiment": Severity.INFO,
    # newer rule severities and supply-chain advisories
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "low": Severity.LOW,
}

_NOT_AN_ID = {"requires login"}
_IGNORED_TRIAGE = {"ignored", "provisionally_ignored"}


def detect(head: bytes, name: str) -> int:
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return 0
    if b'"check_id"' in head and b'"extra"' in head:
        return 90
    if b'"vulns"' in head and (b'"dependencyFileLocation"' in head or b'"hasMore"' in head):
        return 90
    if (
        b'"results"' in head
        and b'"errors"' in head
        and b'"metrics"' not in head
        and b'"runs"' not in head
    ):
        return 20  # an empty CLI report: {"results": [], "errors": []}
    return 0


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    document = expect_dict(read_json(stream), record="document")
    if "vulns" in document:
        yield from _app_vulns(document)
    elif "results" in document:
        yield from _cli_results(document)
    else:
        raise ParseError("not a Semgrep report (no 'results' or 'vulns')", record="document")


# ---------------------------------------------------------------- CLI report


def _cli_results(document: dict[str, Any]) -> Iterator[ParsedFinding]:
    seen: set[tuple[str, ...]] = set()
    for index, raw in enumerate(
        expect_list(document["results"], record="document", field="results")
    ):
        try:
            record = f"results[{index}]"
            result = expect_dict(raw, record=record)
            check_id = require(result, "check_id", record=record)
            path = require(result, "path", record=record)
            if not isinstance(check_id, str) or not isinstance(path, str):
                skip_record(ParseError("expected a string", record=record, field="check_id/path"))
                continue
            start = expect_dict(
                require(result, "start", record=record), record=record, field="start"
            )
            end = obj_or_empty(result.get("end"))
            line = as_line(start.get("line"), record=record, field="start.line")
            span = (
                check_id,
                path,
                str(line),
                str(start.get("col")),
                str(end.get("line")),
                str(end.get("col")),
            )
            if span in seen:
                continue  # the very same match reported twice
            seen.add(span)
            extra = expect_dict(
                require(result, "extra", record=record), record=record, field="extra"
            )
            raw_severity = extra.get("severity")
            severity = severity_from(
                raw_severity, SEVERITIES, record=record, field="extra.severity"
            )
            metadata = obj_or_empty(extra.get("metadata"))
            cwes = cwes_from(metadata.get("cwe"))
            fingerprint = as_str(extra.get("fingerprint"))
            if fingerprint is not None and fingerprint.lower() in _NOT_AN_ID:
                fingerprint = None
            message = as_str(extra.get("message"))
            references = tuple(
                ref
                for ref in expect_list(
                    metadata.get("references"), record=record, field="extra.metadata.references"
                )
                if isinstance(ref, str)
            )
            identity = (
                (check_id, path, fingerprint)
                if fingerprint
                else (check_id, path, "" if line is None else str(line))
            )
            yield ParsedFinding(
                scanner="semgrep",
                vuln_id=check_id,
                title=first_line(message) if message else check_id,
                severity=severity,
                scanner_severity=str(raw_severity),
                record=record,
                identity=identity,
                file_path=path,
                line=line,
                cwe=cwes[0] if cwes else None,
                cwes=cwes,
                description=message,
                references=references,
                unique_id_from_tool=fingerprint,
                suppressed=extra.get("is_ignored") is True,
            )
        except ParseError as exc:
            skip_record(exc)


# ---------------------------------------------------------------- App API supply-chain page


def _app_vulns(document: dict[str, Any]) -> Iterator[ParsedFinding]:
    for index, raw in enumerate(expect_list(document["vulns"], record="document", field="vulns")):
        try:
            record = f"vulns[{index}]"
            vuln = expect_dict(raw, record=record)
            advisory = expect_dict(
                require(vuln, "advisory", record=record), record=record, field="advisory"
            )
            rule_id = as_str(require(advisory, "ruleId", record=f"{record}.advisory"))
            if rule_id is None:
                skip_record(
                    ParseError(
                        "required field is empty", record=f"{record}.advisory", field="ruleId"
                    )
                )
                continue
            raw_severity = advisory.get("severity")
            severity = severity_from(
                raw_severity, SEVERITIES, record=record, field="advisory.severity"
            )
            refs = obj_or_empty(advisory.get("references"))
            cves = tuple(
                dict.fromkeys(
                    str(cve).upper()
                    for cve in expect_list(
                        refs.get("cveIds"), record=record, field="advisory.references.cveIds"
                    )
                    if as_str(cve)
                )
            )
            cwes = cwes_from(refs.get("cweIds"))
            urls = tuple(
                url
                for url in expect_list(
                    refs.get("urls"), record=record, field="advisory.references.urls"
                )
                if isinstance(url, str)
            )
            location = optional_dict(
                vuln.get("dependencyFileLocation"), record=record, field="dependencyFileLocation"
            )
            file_path = as_str(location.get("path"))
            line = as_line(
                location.get("startLine"), record=record, field="dependencyFileLocation.startLine"
            )
            matched = vuln.get("matchedDependency")
            matched = optional_dict(matched, record=record, field="matchedDependency")
            component = as_str(matched.get("name"))
            safe = vuln.get("closestSafeDependency")
            fixed_in = as_str(safe.get("versionSpecifier")) if isinstance(safe, dict) else None
            triage = obj_or_empty(vuln.get("triage"))
            status = str(triage.get("status") or "").lower()
            repository = as_str(vuln.get("repositoryName"))
            title = as_str(vuln.get("title")) or as_str(advisory.get("title")) or rule_id
            yield ParsedFinding(
                scanner="semgrep",
                vuln_id=rule_id,
                title=title,
                severity=severity,
                scanner_severity=str(raw_severity),
                record=record,
                identity=(rule_id, component or "", file_path or ""),
                aliases=cves,
                asset_kind="repository" if repository else None,
                asset_name=repository,
                component=component,
                component_version=as_str(matched.get("versionSpecifier")),
                fixed_in=fixed_in,
                file_path=file_path,
                line=line,
                cwe=cwes[0] if cwes else None,
                cwes=cwes,
                description=as_str(advisory.get("description")),
                references=urls,
                suppressed=status in _IGNORED_TRIAGE,
            )
        except ParseError as exc:
            skip_record(exc)


PARSER = Parser(name="semgrep", label="Semgrep JSON", detect=detect, parse=parse, scanner="semgrep")
