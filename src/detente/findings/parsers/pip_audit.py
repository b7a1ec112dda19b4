"""``pip-audit -f json``: the old top-level list and the newer ``{"dependencies": [...]}`` object.

pip-audit writes no severity. Every finding is ``Severity.MEDIUM`` with ``scanner_severity ""``:
a placeholder that CVSS / intel enrichment must replace. ``skip_reason`` entries (packages pip-audit
could not audit) produce nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from detente.findings.parsers.base import (
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_str,
    expect_dict,
    expect_list,
    read_json,
    require,
    skip_record,
)

SCANNER = "pip-audit"
# CWE-1395 "Dependency on Vulnerable Third-Party Component" (DefectDojo parity; asserted by the
# manifest for pip_audit/many_vulns*.json).
VULNERABLE_DEPENDENCY_CWE = 1395

_NEW_SHAPE = re.compile(rb'^\s*\{\s*"dependencies"\s*:\s*\[')
_NEW_ANYWHERE = re.compile(rb'"dependencies"\s*:\s*\[')
_OLD_SHAPE = re.compile(rb'^\s*\[\s*\{\s*"name"\s*:')
_VULNS = re.compile(rb'"(?:vulns|skip_reason)"\s*:')
_EMPTY_LIST = re.compile(rb"^\s*\[\s*\]\s*$")
_NO_DEPENDENCIES = re.compile(
    rb'^\s*\{\s*"dependencies"\s*:\s*\[\s*\]\s*(?:,\s*"fixes"\s*:\s*\[\s*\]\s*)?\}\s*$'
)
_PEP503 = re.compile(r"[-_.]+")


def detect(head: bytes, name: str) -> int:
    if not _VULNS.search(head):
        # nothing installed: the current shape's {"dependencies": [], "fixes": []}, or the old
        # shape's bare "[]" (claimed weakly: any tool may write an empty list)
        if _NO_DEPENDENCIES.match(head):
            return 60
        return 5 if _EMPTY_LIST.match(head) else 0
    if b'"vulnerabilities"' in head or b'"bomFormat"' in head:
        return 0
    if _NEW_SHAPE.match(head) or _OLD_SHAPE.match(head):
        return 85
    if _NEW_ANYWHERE.search(head) and b'"fix_versions"' in head:
        return 70
    return 0


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    data = read_json(stream)
    if isinstance(data, list):
        entries, prefix = data, ""
    elif isinstance(data, dict):
        entries = expect_list(
            require(data, "dependencies", record="document"),
            record="document",
            field="dependencies",
        )
        prefix = "dependencies"
    else:
        raise ParseError("expected a list or an object with dependencies", record="document")
    for index, raw in enumerate(entries):
        try:
            yield from _package(raw, f"{prefix}[{index}]")
        except ParseError as exc:
            skip_record(exc)


def _package(raw: object, record: str) -> Iterator[ParsedFinding]:
    entry = expect_dict(raw, record=record)
    if "skip_reason" in entry and "vulns" not in entry:
        return
    package = as_str(require(entry, "name", record=record))
    if package is None:
        raise ParseError("required field is empty", record=record, field="name")
    version = as_str(entry.get("version"))
    vulns = expect_list(require(entry, "vulns", record=record), record=record, field="vulns")
    component = _PEP503.sub("-", package).lower()
    for index, raw_vuln in enumerate(vulns):
        try:
            yield _finding(raw_vuln, f"{record}.vulns[{index}]", package, component, version)
        except ParseError as exc:
            skip_record(exc)


def _finding(
    raw: object, record: str, package: str, component: str, version: str | None
) -> ParsedFinding:
    vuln: dict[str, Any] = expect_dict(raw, record=record)
    vuln_id = as_str(require(vuln, "id", record=record))
    if vuln_id is None:
        raise ParseError("required field is empty", record=record, field="id")
    fixes = [
        text
        for text in (
            as_str(v)
            for v in expect_list(vuln.get("fix_versions"), record=record, field="fix_versions")
        )
        if text
    ]
    aliases = [
        text
        for text in (
            as_str(a) for a in expect_list(vuln.get("aliases"), record=record, field="aliases")
        )
        if text and text != vuln_id
    ]
    # CVE ids first, then the rest, each once
    ordered = tuple(
        dict.fromkeys(
            [a.upper() for a in aliases if a.upper().startswith("CVE-")]
            + [a for a in aliases if not a.upper().startswith("CVE-")]
        )
    )
    return ParsedFinding(
        scanner=SCANNER,
        vuln_id=vuln_id,
        title=f"{vuln_id} in {package}:{version}" if version else f"{vuln_id} in {package}",
        severity=Severity.MEDIUM,
        scanner_severity="",
        record=record,
        identity=(vuln_id, component),
        aliases=ordered,
        component=package,
        component_version=version,
        fixed_in=", ".join(fixes) or None,
        purl=f"pkg:pypi/{component}@{version}" if version else f"pkg:pypi/{component}",
        cwe=VULNERABLE_DEPENDENCY_CWE,
        cwes=(VULNERABLE_DEPENDENCY_CWE,),
        description=as_str(vuln.get("description")),
    )


PARSER = Parser(
    name="pip-audit", label="pip-audit JSON", detect=detect, parse=parse, scanner=SCANNER
)
