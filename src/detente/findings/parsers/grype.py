"""Anchore Grype JSON (``grype -o json``): ``matches[]`` of vulnerability × package.

Matches of one vulnerability on one package name and version are one finding, whatever the number
of paths the package was found at (Grype lists a match per location; DefectDojo's default mode
does the same). ``ignoredMatches[]`` are yielded too, marked suppressed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from detente.findings.parsers.base import (
    COMMON_SEVERITIES,
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_float,
    as_str,
    declare_scope,
    expect_dict,
    expect_list,
    normalise_cvss_vector,
    read_json,
    require,
    severity_from,
    skip_record,
)

SCANNER = "grype"
MAX_REFERENCES = 10


def detect(head: bytes, name: str) -> int:
    text = head.lstrip()
    if not text.startswith(b"{") or b'"matches"' not in text:
        return 0
    if b'"artifact"' in text and b'"vulnerability"' in text:
        return 95 if b'"grype"' in text or b'"matchDetails"' in text else 80
    if b'"descriptor"' in text and b'"grype"' in text:
        return 80  # an empty report: {"matches": [], ..., "descriptor": {"name": "grype"}}
    return 0


def _cvss(entries: list[Any], record: str) -> tuple[str | None, float | None]:
    """The highest-version CVSS entry with a vector (v4 > v3.1 > v3.0 > v2)."""
    best: tuple[str, str, float | None] | None = None
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        vector = as_str(entry.get("vector"))
        if not vector:
            continue
        version = as_str(entry.get("version")) or ""
        metrics = entry.get("metrics")
        score = (
            as_float(metrics.get("baseScore"), record=record, field="cvss.metrics.baseScore")
            if isinstance(metrics, dict)
            else None
        )
        if best is None or version > best[0]:
            best = (version, vector, score)
    if best is None:
        return None, None
    vector = best[1]
    if best[0].startswith("3") and not vector.startswith("CVSS:"):
        vector = f"CVSS:{best[0]}/{vector}"
    return normalise_cvss_vector(vector), best[2]


def _ids(vuln_id: str, related: list[Any]) -> tuple[str, ...]:
    """Related ids, CVE ids first, without the primary id or repeats."""
    seen: dict[str, None] = {}
    for entry in related:
        if isinstance(entry, dict):
            ident = as_str(entry.get("id"))
            if ident and ident != vuln_id:
                seen.setdefault(ident, None)
    return tuple(sorted(seen, key=lambda ident: not ident.upper().startswith("CVE-")))


def _asset(document: dict[str, Any]) -> tuple[str | None, str | None]:
    source = document.get("source")
    if not isinstance(source, dict):
        return None, None
    target = source.get("target")
    kind = source.get("type")
    if isinstance(target, dict):
        name = as_str(target.get("userInput"))
        return ("image", name) if name else (None, None)
    if kind == "directory" and as_str(target):
        return "repository", as_str(target)
    return None, None


def _finding(
    match: Any,
    record: str,
    *,
    scanner: str,
    asset: tuple[str | None, str | None],
    paths: list[str],
    suppressed: bool,
) -> ParsedFinding:
    match = expect_dict(match, record=record)
    vuln = expect_dict(
        require(match, "vulnerability", record=record), record=record, field="vulnerability"
    )
    artifact = expect_dict(
        require(match, "artifact", record=record), record=record, field="artifact"
    )
    vuln_id = as_str(require(vuln, "id", record=f"{record}.vulnerability"))
    if not vuln_id:
        raise ParseError("required field is empty", record=f"{record}.vulnerability", field="id")
    name = as_str(require(artifact, "name", record=f"{record}.artifact")) or ""
    version = as_str(artifact.get("version"))
    word = vuln.get("severity")
    severity = severity_from(
        word,
        COMMON_SEVERITIES,
        record=f"{record}.vulnerability",
        field="severity",
        default=Severity.INFO,  # Grype omits it, or says Unknown, when no source rated the flaw
    )
    related = expect_list(
        match.get("relatedVulnerabilities"), record=record, field="relatedVulnerabilities"
    )
    fix = vuln.get("fix")
    if not isinstance(fix, dict):
        fix = {}
    fix_versions = [
        v
        for v in expect_list(
            fix.get("versions"), record=f"{record}.vulnerability.fix", field="versions"
        )
        if as_str(v)
    ]
    vector, score = _cvss(
        expect_list(vuln.get("cvss"), record=f"{record}.vulnerability", field="cvss"),
        f"{record}.vulnerability",
    )
    description = as_str(vuln.get("description"))
    references: dict[str, None] = {}
    for holder in (vuln, *(r for r in related if isinstance(r, dict))):
        if vector is None:
            vector, score = _cvss(
                expect_list(holder.get("cvss"), record=record, field="cvss"), record
            )
        description = description or as_str(holder.get("description"))
        source = as_str(holder.get("dataSource"))
        for url in (source, *expect_list(holder.get("urls"), record=record, field="urls")):
            if isinstance(url, str) and url:
                references.setdefault(url, None)
    vex_state = None
    for rule in expect_list(
        match.get("appliedIgnoreRules"), record=record, field="appliedIgnoreRules"
    ):
        if isinstance(rule, dict) and as_str(rule.get("vex-status")):
            vex_state = as_str(rule.get("vex-status"))
            break
    return ParsedFinding(
        scanner=scanner,
        vuln_id=vuln_id,
        aliases=_ids(vuln_id, related),
        title=f"{vuln_id} in {name}:{version}" if version else f"{vuln_id} in {name}",
        severity=severity,
        scanner_severity=str(word) if word is not None else "",
        record=record,
        identity=(vuln_id, name, as_str(artifact.get("type")) or "", min(paths) if paths else ""),
        asset_kind=asset[0],
        asset_name=asset[1],
        component=name or None,
        component_version=version,
        fixed_in=", ".join(str(v) for v in fix_versions) or None,
        purl=as_str(artifact.get("purl")),
        file_path=paths[0] if paths else None,
        cvss_vector=vector,
        cvss_score=score,
        description=description,
        references=tuple(references)[:MAX_REFERENCES],
        suppressed=suppressed,
        vex_state=vex_state,
    )


def _first_path(match: Any) -> str | None:
    if not isinstance(match, dict) or not isinstance(match.get("artifact"), dict):
        return None
    locations = match["artifact"].get("locations")
    if isinstance(locations, list) and locations and isinstance(locations[0], dict):
        return as_str(locations[0].get("path"))
    return None


def _key(match: Any) -> tuple[str, str, str] | None:
    try:
        return (
            str(match["vulnerability"]["id"]),
            str(match["artifact"]["name"]),
            str(match["artifact"].get("version")),
        )
    except (KeyError, TypeError, AttributeError):
        return None  # malformed: _finding names the missing field


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    document = expect_dict(read_json(stream), record="document")
    if "matches" not in document:
        raise ParseError("not a Grype report (no matches)", record="document", field="matches")
    descriptor = document.get("descriptor")
    scanner = SCANNER
    if isinstance(descriptor, dict) and as_str(descriptor.get("name")):
        scanner = str(descriptor["name"]).strip().lower()
    asset = _asset(document)
    declare_scope(scanner, *asset)
    for key, suppressed in (("matches", False), ("ignoredMatches", True)):
        matches = expect_list(document.get(key), record="document", field=key)
        groups: dict[object, tuple[int, list[str]]] = {}
        for index, match in enumerate(matches):
            group_key: object = _key(match) or index
            path = _first_path(match)
            first, paths = groups.setdefault(group_key, (index, []))
            if path and path not in paths:
                paths.append(path)
        for first, paths in groups.values():
            try:
                yield _finding(
                    matches[first],
                    f"{key}[{first}]",
                    scanner=scanner,
                    asset=asset,
                    paths=paths,
                    suppressed=suppressed,
                )
            except ParseError as exc:
                skip_record(exc)


PARSER = Parser(name="grype", label="Grype JSON", detect=detect, parse=parse, scanner=SCANNER)
