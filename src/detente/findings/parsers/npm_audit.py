"""``npm audit --json``: the npm 6 report and the npm 7+ report (``auditReportVersion: 2``).

The two shapes are different formats with different units:

* npm 6: one finding per advisory (``advisories{<id>}``), as npm and DefectDojo count them.
* npm 7+: one finding per vulnerable package (``vulnerabilities{<name>}``), as npm's own
  ``metadata.vulnerabilities`` totals count them. A package's advisory objects in ``via[]`` give the
  ids, CWEs and CVSS; a package whose ``via[]`` holds only plain strings is vulnerable *through* the
  named dependencies and becomes a ``NPM-TRANSITIVE`` finding.

npm names no scanned asset: ``asset_kind``/``asset_name`` stay None (the importer uses --asset).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import IO, Any

import msgspec

from detente.findings.parsers.base import (
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_float,
    as_str,
    expect_dict,
    expect_list,
    normalise_cvss_vector,
    parse_cwe,
    read_json,
    require,
    severity_from,
    skip_record,
)

SCANNER = "npm-audit"
TRANSITIVE_ID = "NPM-TRANSITIVE"
# CWE-1035 "Using Components with Known Vulnerabilities": npm 6 advisories without a CWE and
# npm 7 transitive entries (DefectDojo parity: asserted by npm_audit/cwe_null.json and
# npm_audit_7_plus/many_vulns.json).
KNOWN_VULNERABLE_COMPONENT_CWE = 1035

NPM_SEVERITIES: Mapping[str, Severity] = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "low": Severity.LOW,
    "info": Severity.INFO,
}

_GHSA_RE = re.compile(r"GHSA(?:-[0-9a-z]{4}){3}", re.IGNORECASE)
_SIMPLE_BOUND = re.compile(r"^\s*>=\s*([0-9][^\s|<>=]*)\s*$")
_URL_RE = re.compile(r"https?://[^\s)\]>\"']+")
_V6_HEAD = re.compile(rb'"advisories"\s*:\s*\{')
_V6_COMPANION = re.compile(rb'"(?:actions|muted|runId)"\s*:')
_V7_HEAD = re.compile(rb'"auditReportVersion"\s*:\s*\d')
_ERROR_HEAD = re.compile(rb'^\s*\{\s*"error"\s*:\s*\{')


# ---------------------------------------------------------------- detection


def detect_v6(head: bytes, name: str) -> int:
    if _V7_HEAD.search(head):
        return 0
    if _V6_HEAD.search(head) and _V6_COMPANION.search(head):
        return 90
    # npm's failure object ({"error": {"code": "ENOAUDIT", "summary": ..., "detail": ...}}):
    # claimed so that the import fails loudly with npm's own message.
    if _ERROR_HEAD.search(head) and b'"code"' in head and b'"summary"' in head:
        return 60
    return 0


def detect_v7(head: bytes, name: str) -> int:
    if _V7_HEAD.search(head) and b'"vulnerabilities"' in head:
        return 90
    return 0


# ---------------------------------------------------------------- shared helpers


def _check_error(data: dict[str, Any]) -> None:
    """npm writes ``{"error": {code, summary, detail}}`` when the audit failed: never 0 findings."""
    if "error" not in data:
        return
    error = data["error"]
    if isinstance(error, dict):
        code = as_str(error.get("code")) or "unknown"
        summary = as_str(error.get("summary")) or as_str(error.get("detail")) or "no detail"
        message = f"npm audit failed ({code}): {summary}"
    else:
        message = f"npm audit failed: {as_str(error) or 'no detail'}"
    raise ParseError(message, record="error", field="code")


def _ghsa(*texts: object) -> str | None:
    for text in texts:
        if isinstance(text, str):
            match = _GHSA_RE.search(text)
            if match:
                return "GHSA" + match.group(0)[4:].lower()
    return None


def _cwes(value: object, *, record: str) -> tuple[int, ...]:
    """``"CWE-400"``, ``["CWE-400", "CWE-1333"]`` or npm 6's JSON-in-a-string ``'["CWE-400"]'``."""
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = msgspec.json.decode(text)
            except msgspec.DecodeError:
                raise ParseError(
                    f"unreadable CWE list {value!r}", record=record, field="cwe"
                ) from None
        else:
            value = [text] if text else []
    items = value if isinstance(value, list) else [value]
    found: dict[int, None] = {}
    for item in items:
        number = parse_cwe(item)
        # npm 6 writes "CWE-" for "no CWE"
        if number is None and (as_str(item) or "0").upper() not in ("0", "CWE-"):
            raise ParseError(f"unreadable CWE {item!r}", record=record, field="cwe")
        if number is not None:
            found.setdefault(number, None)
    return tuple(found)


def _purl(name: str, version: str | None) -> str:
    encoded = name.replace("@", "%40", 1) if name.startswith("@") else name
    return f"pkg:npm/{encoded}@{version}" if version else f"pkg:npm/{encoded}"


def _cvss(value: object, *, record: str) -> tuple[str | None, float | None]:
    if value is None:
        return None, None
    cvss = expect_dict(value, record=record, field="cvss")
    score = as_float(cvss.get("score"), record=record, field="cvss.score")
    vector = normalise_cvss_vector(cvss.get("vectorString"))
    # npm writes score 0 with a null vector when it has no CVSS: that is "unknown", not "none".
    if vector is None and not score:
        score = None
    return vector, score


# ---------------------------------------------------------------- npm 6


def parse_v6(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    data = expect_dict(read_json(stream), record="document")
    _check_error(data)
    if "auditReportVersion" in data or ("vulnerabilities" in data and "advisories" not in data):
        raise ParseError(
            "this is an npm 7+ audit report (auditReportVersion "
            f"{data.get('auditReportVersion', '?')}); use --format npm-audit-7",
            record="document",
            field="auditReportVersion",
        )
    advisories = expect_dict(require(data, "advisories", record="document"), record="advisories")
    for key, raw in advisories.items():
        try:
            yield _v6_finding(key, raw)
        except ParseError as exc:
            skip_record(exc)


def _v6_finding(key: str, raw: object) -> ParsedFinding:
    record = f"advisories[{key}]"
    advisory = expect_dict(raw, record=record)
    module = as_str(require(advisory, "module_name", record=record))
    if module is None:
        raise ParseError("required field is empty", record=record, field="module_name")
    word = advisory.get("severity")
    severity = severity_from(word, NPM_SEVERITIES, record=record, field="severity")

    cves = tuple(
        dict.fromkeys(
            cve.strip().upper()
            for cve in expect_list(advisory.get("cves"), record=record, field="cves")
            if isinstance(cve, str) and cve.strip()
        )
    )
    ghsa = _ghsa(advisory.get("github_advisory_id"), advisory.get("url"))
    npm_id = as_str(advisory.get("id")) or key
    vuln_id = ghsa or (cves[0] if cves else f"NPM-{npm_id}")
    aliases = tuple(i for i in (*cves, *([ghsa] if ghsa else [])) if i != vuln_id)

    cwes = _cwes(advisory.get("cwe"), record=record) or (KNOWN_VULNERABLE_COMPONENT_CWE,)

    versions: list[str] = []
    paths: list[str] = []
    for index, item in enumerate(
        expect_list(advisory.get("findings"), record=record, field="findings")
    ):
        where = f"{record}.findings[{index}]"
        occurrence = expect_dict(item, record=where)
        version = as_str(occurrence.get("version"))
        if version and version not in versions:
            versions.append(version)
        for path in expect_list(occurrence.get("paths"), record=where, field="paths"):
            text = as_str(path)
            if text and text not in paths:
                paths.append(text)
    component_version = versions[0] if versions else None

    vector, score = _cvss(advisory.get("cvss"), record=record)
    title = as_str(advisory.get("title")) or vuln_id
    vulnerable = as_str(advisory.get("vulnerable_versions"))
    patched = as_str(advisory.get("patched_versions"))

    references: dict[str, None] = {}
    url = as_str(advisory.get("url"))
    if url:
        references[url] = None
    refs_text = advisory.get("references")
    if isinstance(refs_text, str):
        for match in _URL_RE.findall(refs_text):
            references.setdefault(match, None)

    description = "\n\n".join(
        part
        for part in (
            as_str(advisory.get("overview")),
            as_str(advisory.get("recommendation")),
            f"Vulnerable versions: {vulnerable}" if vulnerable else None,
            f"Installed versions: {', '.join(versions)}" if versions else None,
            "Dependency paths:\n" + "\n".join(paths) if paths else None,
        )
        if part
    )

    return ParsedFinding(
        scanner=SCANNER,
        vuln_id=vuln_id,
        title=f"{title} ({module} {vulnerable})" if vulnerable else f"{title} ({module})",
        severity=severity,
        scanner_severity=str(word),
        record=record,
        identity=(vuln_id, module),
        aliases=aliases,
        component=module,
        component_version=component_version,
        fixed_in=_fixed_version(patched),
        purl=_purl(module, component_version),
        cwe=cwes[0],
        cwes=cwes,
        cvss_vector=vector,
        cvss_score=score,
        description=description or None,
        references=tuple(references),
    )


def _fixed_version(patched: str | None) -> str | None:
    """``">=1.10.2"`` → ``"1.10.2"``; a compound range is kept verbatim; ``"<0.0.0"`` means none."""
    if patched is None or patched.replace(" ", "") == "<0.0.0":
        return None
    match = _SIMPLE_BOUND.match(patched)
    return match.group(1) if match else patched


# ---------------------------------------------------------------- npm 7+


def parse_v7(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    data = expect_dict(read_json(stream), record="document")
    _check_error(data)
    if "auditReportVersion" not in data:
        if "advisories" in data:
            raise ParseError(
                "this is an npm 6 audit report (advisories); use --format npm-audit",
                record="document",
                field="advisories",
            )
        raise ParseError("required field is missing", record="document", field="auditReportVersion")
    version = data["auditReportVersion"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 2:
        raise ParseError(
            f"unsupported auditReportVersion {version!r} (expected 2 or later)",
            record="document",
            field="auditReportVersion",
        )
    packages = expect_dict(
        require(data, "vulnerabilities", record="document"), record="vulnerabilities"
    )
    for key, raw in packages.items():
        try:
            yield _v7_finding(key, raw, packages)
        except ParseError as exc:
            skip_record(exc)


def _v7_finding(key: str, raw: object, packages: dict[str, Any]) -> ParsedFinding:
    record = f"vulnerabilities[{key}]"
    entry = expect_dict(raw, record=record)
    package = as_str(entry.get("name")) or key
    word = entry.get("severity")
    severity = severity_from(word, NPM_SEVERITIES, record=record, field="severity")

    advisories: list[dict[str, Any]] = []
    pointers: list[str] = []
    for index, item in enumerate(expect_list(entry.get("via"), record=record, field="via")):
        if isinstance(item, str):
            if item.strip():
                pointers.append(item.strip())
        elif isinstance(item, dict):
            advisories.append(item)
        else:
            raise ParseError(
                "expected an advisory object or a package name", record=f"{record}.via[{index}]"
            )

    nodes = [
        text
        for text in (
            as_str(node) for node in expect_list(entry.get("nodes"), record=record, field="nodes")
        )
        if text
    ]
    fix_note, fixed_in = _fix(entry.get("fixAvailable"), package, record=record)
    common: dict[str, Any] = {
        "scanner": SCANNER,
        "severity": severity,
        "scanner_severity": str(word),
        "record": record,
        "component": package,
        "purl": _purl(package, None),
        "file_path": nodes[0] if nodes else None,
        "fixed_in": fixed_in,
    }
    affected = as_str(entry.get("range"))
    context = [
        f"Affected versions: {affected}" if affected else None,
        "Installed at:\n" + "\n".join(nodes) if nodes else None,
        fix_note,
    ]

    if not advisories:
        if not pointers:
            raise ParseError("no advisory and no dependency in via", record=record, field="via")
        roots = _root_advisories(package, packages)
        description = "\n\n".join(
            part
            for part in (
                f"{package} is vulnerable only through its dependencies: {', '.join(pointers)}.",
                "Advisories reached: " + ", ".join(roots) if roots else None,
                *context,
            )
            if part
        )
        return ParsedFinding(
            vuln_id=TRANSITIVE_ID,
            title=f"{package} (vulnerable through {', '.join(pointers)})",
            identity=(TRANSITIVE_ID, package),
            cwe=KNOWN_VULNERABLE_COMPONENT_CWE,
            cwes=(KNOWN_VULNERABLE_COMPONENT_CWE,),
            description=description,
            **common,
        )

    ids: list[str] = []
    cwes: dict[int, None] = {}
    references: dict[str, None] = {}
    titles: list[str] = []
    for index, advisory in enumerate(advisories):
        where = f"{record}.via[{index}]"
        ids.append(_advisory_id(advisory, record=where))
        for number in _cwes(advisory.get("cwe"), record=where):
            cwes.setdefault(number, None)
        url = as_str(advisory.get("url"))
        if url:
            references.setdefault(url, None)
        title = as_str(advisory.get("title"))
        if title:
            titles.append(f"{ids[-1]}: {title}")
    first = advisories[0]
    vector, score = _cvss(first.get("cvss"), record=f"{record}.via[0]")
    vuln_id = ids[0]
    cwe_list = tuple(cwes)
    first_cwes = _cwes(first.get("cwe"), record=f"{record}.via[0]")
    description = "\n\n".join(
        part
        for part in (
            "\n".join(titles) or None,
            f"Also vulnerable through: {', '.join(pointers)}" if pointers else None,
            *context,
        )
        if part
    )
    return ParsedFinding(
        vuln_id=vuln_id,
        title=as_str(first.get("title")) or f"{vuln_id} in {package}",
        identity=(vuln_id, package),
        aliases=tuple(dict.fromkeys(i for i in ids[1:] if i != vuln_id)),
        cwe=first_cwes[0] if first_cwes else None,
        cwes=cwe_list,
        cvss_vector=vector,
        cvss_score=score,
        description=description,
        references=tuple(references),
        **common,
    )


def _advisory_id(advisory: dict[str, Any], *, record: str) -> str:
    ghsa = _ghsa(advisory.get("url"))
    if ghsa:
        return ghsa
    source = as_str(advisory.get("source"))
    if source is None:
        raise ParseError(
            "advisory has neither a GHSA url nor a source id", record=record, field="source"
        )
    return f"NPM-{source}"


def _fix(value: object, package: str, *, record: str) -> tuple[str | None, str | None]:
    """(a sentence for the description, the fixed version of *this* package when npm names it)."""
    if value is None or value is False:
        return "No fix available.", None
    if value is True:
        return "A fix is available (npm audit fix).", None
    fix = expect_dict(value, record=record, field="fixAvailable")
    target = as_str(fix.get("name"))
    version = as_str(fix.get("version"))
    major = " (semver-major)" if fix.get("isSemVerMajor") is True else ""
    note = f"Fix: upgrade {target} to {version}{major}." if target and version else None
    return note, version if target == package else None


def _root_advisories(package: str, packages: dict[str, Any]) -> list[str]:
    """The advisory ids a transitive entry reaches by following ``via`` names (cycle-safe)."""
    found: dict[str, None] = {}
    seen: set[str] = set()
    todo = [package]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        entry = packages.get(current)
        if not isinstance(entry, dict) or not isinstance(entry.get("via"), list):
            continue
        for item in entry["via"]:
            if isinstance(item, str):
                todo.append(item)
            elif isinstance(item, dict):
                ghsa = _ghsa(item.get("url"))
                source = as_str(item.get("source"))
                ident = ghsa or (f"NPM-{source}" if source else None)
                if ident:
                    found.setdefault(ident, None)
    return sorted(found)


PARSERS = (
    Parser(
        name="npm-audit",
        label="npm audit JSON (npm 6)",
        detect=detect_v6,
        parse=parse_v6,
        scanner=SCANNER,
    ),
    Parser(
        name="npm-audit-7",
        label="npm audit JSON (npm 7+)",
        detect=detect_v7,
        parse=parse_v7,
        scanner=SCANNER,
    ),
)
