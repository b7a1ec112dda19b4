"""Snyk CLI JSON (``snyk test --json``): one project object, an ``--all-projects`` array of them, or
a container scan; and Snyk Code, which is SARIF (handed to the SARIF reader, scanner ``snykcode``).

One finding per ``vulnerabilities[]`` entry: Snyk lists the same advisory once per dependency path.
Severity is Snyk's own verdict (``severityWithCritical``, else ``severity``); the CVSS score is kept
beside it. A Snyk error object (``{"ok": false, "error": ...}``) is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from detente.findings.parsers import sarif
from detente.findings.parsers.base import (
    COMMON_SEVERITIES,
    ParsedFinding,
    ParseError,
    Parser,
    as_float,
    as_str,
    expect_dict,
    expect_list,
    normalise_cvss_vector,
    read_json,
    require,
    severity_from,
    skip_record,
)
from detente.findings.parsers.sarif import obj_or_empty

_VERSION_SUFFIX = re.compile(r"@[^@/]*$")


def detect(head: bytes, name: str) -> int:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if sarif.looks_like_sarif(head):
        return 95 if b'"SnykCode"' in head else 0
    if not stripped.startswith((b"{", b"[")):
        return 0
    if b'"isUpgradable"' in head and b'"upgradePath"' in head:
        return 90
    if (
        b'"vulnerabilities"' in head
        and b'"packageManager"' in head
        and b'"dependencyCount"' in head
    ):
        return 90
    return 0


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    data = read_json(stream)
    if isinstance(data, dict) and "runs" in data:
        yield from sarif.parse_document(data)
        return
    if isinstance(data, list):
        for index, project in enumerate(data):
            yield from _project(project, f"[{index}]")
    else:
        yield from _project(data, "")


def _project(raw: Any, prefix: str) -> Iterator[ParsedFinding]:
    where = prefix or "document"
    project = expect_dict(raw, record=where)
    if project.get("ok") is False and "error" in project and "vulnerabilities" not in project:
        raise ParseError(
            f"Snyk reported an error: {project.get('error')}", record=where, field="error"
        )
    if "vulnerabilities" not in project:
        raise ParseError(
            "not a Snyk report (no 'vulnerabilities')", record=where, field="vulnerabilities"
        )
    project_name = as_str(project.get("projectName"))
    target_file = as_str(project.get("displayTargetFile")) or as_str(project.get("targetFile"))
    asset_kind: str | None = None
    asset_name: str | None = None
    if project_name and project_name.startswith("docker-image|"):
        asset_kind, asset_name = "image", project_name.split("|", 1)[1]
    elif project_name:
        asset_kind, asset_name = "application", project_name
    vulns = expect_list(project["vulnerabilities"], record=where, field="vulnerabilities")
    for index, raw_vuln in enumerate(vulns):
        try:
            record = f"{prefix}.vulnerabilities[{index}]" if prefix else f"vulnerabilities[{index}]"
            yield _finding(
                expect_dict(raw_vuln, record=record), record, target_file, asset_kind, asset_name
            )
        except ParseError as exc:
            skip_record(exc)


def _names(values: list[Any], record: str) -> list[str]:
    names = []
    for value in values:
        if not isinstance(value, str):
            raise ParseError("expected a string", record=record, field="from")
        names.append(_VERSION_SUFFIX.sub("", value) if value.rfind("@") > 0 else value)
    return names


def _finding(
    vuln: dict[str, Any],
    record: str,
    target_file: str | None,
    asset_kind: str | None,
    asset_name: str | None,
) -> ParsedFinding:
    vuln_id = as_str(require(vuln, "id", record=record))
    if vuln_id is None:
        raise ParseError("required field is empty", record=record, field="id")
    raw_severity = vuln.get("severityWithCritical") or vuln.get("severity")
    field = "severityWithCritical" if vuln.get("severityWithCritical") else "severity"
    severity = severity_from(raw_severity, COMMON_SEVERITIES, record=record, field=field)
    component = as_str(vuln.get("packageName")) or as_str(vuln.get("name"))
    identifiers = obj_or_empty(vuln.get("identifiers"))
    aliases: dict[str, None] = {}
    for key in ("CVE", "GHSA"):
        for value in expect_list(identifiers.get(key), record=record, field=f"identifiers.{key}"):
            if as_str(value):
                aliases.setdefault(str(value).strip(), None)
    for key, values in identifiers.items():
        if key in ("CVE", "GHSA", "CWE") or not isinstance(values, list):
            continue
        for value in values:
            if as_str(value):
                aliases.setdefault(str(value).strip(), None)
    aliases.pop(vuln_id, None)
    cwes = sarif.cwes_from(identifiers.get("CWE"))
    path = _names(expect_list(vuln.get("from"), record=record, field="from"), record)
    fixed = [
        str(v)
        for v in expect_list(vuln.get("fixedIn"), record=record, field="fixedIn")
        if as_str(v)
    ]
    fixed_in = ", ".join(fixed) or as_str(vuln.get("nearestFixedInVersion"))
    references = tuple(
        str(ref["url"])
        for ref in expect_list(vuln.get("references"), record=record, field="references")
        if isinstance(ref, dict) and as_str(ref.get("url"))
    )
    title = as_str(vuln.get("title")) or vuln_id
    return ParsedFinding(
        scanner="snyk",
        vuln_id=vuln_id,
        title=title,
        severity=severity,
        scanner_severity=str(raw_severity),
        record=record,
        identity=(vuln_id, component or "", target_file or "", " > ".join(path)),
        aliases=tuple(aliases),
        asset_kind=asset_kind,
        asset_name=asset_name,
        component=component,
        component_version=as_str(vuln.get("version")),
        fixed_in=fixed_in,
        file_path=target_file,
        cwe=cwes[0] if cwes else None,
        cwes=cwes,
        cvss_vector=normalise_cvss_vector(vuln.get("CVSSv3")),
        cvss_score=as_float(vuln.get("cvssScore"), record=record, field="cvssScore"),
        description=as_str(vuln.get("description")),
        references=references,
    )


PARSER = Parser(name="snyk", label="Snyk JSON / Snyk Code SARIF", detect=detect, parse=parse)
