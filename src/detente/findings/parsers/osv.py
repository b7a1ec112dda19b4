"""OSV-Scanner JSON (``osv-scanner --format json``): ``results[].packages[]`` with OSV records.

One finding per package per ``groups[]`` entry: OSV-Scanner groups the records that are aliases of
one another (a GHSA and its PYSEC twin), so counting records would count one flaw twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from io import BytesIO
from typing import IO, Any

from detente.findings.parsers.base import (
    COMMON_SEVERITIES,
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
    severity_from,
    severity_from_score,
    skip_record,
)

SCANNER = "osv-scanner"
MAX_REFERENCES = 10


def detect(head: bytes, name: str) -> int:
    text = head.strip()
    if not text:
        # OSV-Scanner piped to a file writes nothing when it finds nothing in some CI setups;
        # DefectDojo reads an empty file as an empty OSV report (osv_scanner/no_findings.json).
        return 1
    if not text.startswith(b"{") or b'"results"' not in text or b'"packages"' not in text:
        return 0
    if b'"groups"' in text or b'"experimental_config"' in text or b'"ecosystem"' in text:
        return 90
    return 40


# ---------------------------------------------------------------- CVSS v3 base score (FIRST spec)

_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}
_PR_UNCHANGED = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}


def _roundup(value: float) -> float:
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000.0
    return (math.floor(scaled / 10_000) + 1) / 10.0


def cvss3_base_score(vector: str) -> float | None:
    """The CVSS 3.x base score of a vector, or None when it is not a complete v3 vector."""
    try:
        metrics = dict(part.split(":", 1) for part in vector.split("/")[1:])
        changed = metrics["S"] == "C"
        pr = (_PR_CHANGED if changed else _PR_UNCHANGED)[metrics["PR"]]
        iss = 1 - (1 - _CIA[metrics["C"]]) * (1 - _CIA[metrics["I"]]) * (1 - _CIA[metrics["A"]])
        exploitability = 8.22 * _AV[metrics["AV"]] * _AC[metrics["AC"]] * pr * _UI[metrics["UI"]]
    except (KeyError, ValueError):
        return None
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    if impact <= 0:
        return 0.0
    if changed:
        return _roundup(min(1.08 * (impact + exploitability), 10))
    return _roundup(min(impact + exploitability, 10))


# ---------------------------------------------------------------- one OSV record


def _vectors(vuln: dict[str, Any]) -> list[str]:
    found = []
    for entry in vuln.get("severity") or ():
        if isinstance(entry, dict) and str(entry.get("type", "")).startswith("CVSS_V"):
            vector = normalise_cvss_vector(entry.get("score"))
            if vector:
                found.append(vector)
    return found


def _cwes(vuln: dict[str, Any]) -> list[int]:
    found: list[int] = []
    specific = vuln.get("database_specific")
    if isinstance(specific, dict):
        for cwe in specific.get("cwe_ids") or ():
            number = parse_cwe(cwe)
            if number and number not in found:
                found.append(number)
    for affected in vuln.get("affected") or ():
        specific = affected.get("database_specific") if isinstance(affected, dict) else None
        if isinstance(specific, dict):
            for cwe in specific.get("cwes") or ():
                number = parse_cwe(cwe.get("cweId") if isinstance(cwe, dict) else cwe)
                if number and number not in found:
                    found.append(number)
    return found


def _fixes(vuln: dict[str, Any], package: str, ecosystem: str) -> list[str]:
    """``fixed`` events of the ranges for this package (git commit ranges are left out)."""
    fixes: list[str] = []
    for affected in vuln.get("affected") or ():
        if not isinstance(affected, dict):
            continue
        pkg = affected.get("package")
        if (
            isinstance(pkg, dict)
            and package
            and (
                str(pkg.get("name", "")).lower() != package.lower()
                or (ecosystem and str(pkg.get("ecosystem", "")).lower() != ecosystem.lower())
            )
        ):
            continue
        for rng in affected.get("ranges") or ():
            if not isinstance(rng, dict) or rng.get("type") == "GIT":
                continue
            for event in rng.get("events") or ():
                fixed = as_str(event.get("fixed")) if isinstance(event, dict) else None
                if fixed and fixed not in fixes:
                    fixes.append(fixed)
    return fixes


def _purl(vuln: dict[str, Any], version: str | None) -> str | None:
    for affected in vuln.get("affected") or ():
        pkg = affected.get("package") if isinstance(affected, dict) else None
        purl = as_str(pkg.get("purl")) if isinstance(pkg, dict) else None
        if purl:
            return f"{purl}@{version}" if version and "@" not in purl else purl
    return None


def _severity(
    group: dict[str, Any], members: list[dict[str, Any]], record: str
) -> tuple[Severity, str, float | None]:
    """Group max_severity (a score), else the records' own words, else their CVSS v3 vectors."""
    max_severity = as_str(group.get("max_severity"))
    if max_severity:
        score = as_float(max_severity, record=record, field="max_severity")
        if score is not None:
            return severity_from_score(score), max_severity, score
    best: tuple[Severity, str] | None = None
    for vuln in members:
        specific = vuln.get("database_specific")
        word = specific.get("severity") if isinstance(specific, dict) else None
        if as_str(word):
            found = severity_from(word, COMMON_SEVERITIES, record=record, field="severity")
            if best is None or found.rank > best[0].rank:
                best = (found, str(word))
    if best is not None:
        return best[0], best[1], None
    scores = [s for v in members for s in map(cvss3_base_score, _vectors(v)) if s is not None]
    if scores:
        return severity_from_score(max(scores)), "", max(scores)
    # No rating at all (malicious-package records, say): Low, as DefectDojo reads these files
    return Severity.LOW, "", None


def _cve_first(ids: list[str], primary: str) -> tuple[str, ...]:
    unique = dict.fromkeys(i for i in ids if i and i != primary)
    return tuple(sorted(unique, key=lambda ident: not ident.upper().startswith("CVE-")))


def _package_findings(
    package_entry: Any, record: str, source_path: str | None
) -> Iterator[ParsedFinding]:
    entry = expect_dict(package_entry, record=record)
    package = expect_dict(entry.get("package") or {}, record=record, field="package")
    name = as_str(package.get("name"))
    version = as_str(package.get("version")) or as_str(package.get("commit"))
    ecosystem = as_str(package.get("ecosystem")) or ""
    vulns = expect_list(entry.get("vulnerabilities"), record=record, field="vulnerabilities")
    by_id: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, raw_vuln in enumerate(vulns):
        vuln = expect_dict(raw_vuln, record=f"{record}.vulnerabilities[{index}]")
        ident = as_str(vuln.get("id"))
        if not ident:
            raise ParseError(
                "required field is missing", record=f"{record}.vulnerabilities[{index}]", field="id"
            )
        by_id.setdefault(ident, (index, vuln))
    groups = expect_list(entry.get("groups"), record=record, field="groups")
    grouped: list[tuple[str, dict[str, Any]]] = []
    claimed: set[str] = set()
    for g_index, raw_group in enumerate(groups):
        group = expect_dict(raw_group, record=f"{record}.groups[{g_index}]")
        ids = [
            str(i)
            for i in expect_list(
                group.get("ids"), record=f"{record}.groups[{g_index}]", field="ids"
            )
        ]
        if not ids:
            continue
        grouped.append((f"{record}.groups[{g_index}]", group))
        claimed.update(ids)
    for ident, (index, _vuln) in by_id.items():  # records no group names: one finding each
        if ident not in claimed:
            grouped.append((f"{record}.vulnerabilities[{index}]", {"ids": [ident]}))
    for where, group in grouped:
        ids = [str(i) for i in group["ids"]]
        members = [by_id[i][1] for i in ids if i in by_id]
        primary_id = ids[0]
        primary = by_id[primary_id][1] if primary_id in by_id else (members[0] if members else {})
        severity, word, score = _severity(group, members, where)
        alias_ids = [
            *ids,
            *(str(a) for a in expect_list(group.get("aliases"), record=where, field="aliases")),
        ]
        for vuln in members:
            alias_ids += [str(a) for a in vuln.get("aliases") or ()]
        vectors = [v for vuln in members for v in _vectors(vuln)]
        cwes = list(dict.fromkeys(c for vuln in members for c in _cwes(vuln)))
        fixes = _fixes(primary, name or "", ecosystem) or [
            f for vuln in members for f in _fixes(vuln, name or "", ecosystem)
        ]
        references: dict[str, None] = {}
        for vuln in members:
            for ref in vuln.get("references") or ():
                url = as_str(ref.get("url")) if isinstance(ref, dict) else None
                if url:
                    references.setdefault(url, None)
        summary = next(
            (as_str(v.get("summary")) for v in members if as_str(v.get("summary"))), None
        )
        details = next(
            (as_str(v.get("details")) for v in members if as_str(v.get("details"))), None
        )
        yield ParsedFinding(
            scanner=SCANNER,
            vuln_id=primary_id,
            aliases=_cve_first(alias_ids, primary_id),
            title=summary or (f"{primary_id} in {name}" if name else primary_id),
            severity=severity,
            scanner_severity=word,
            record=where,
            identity=(primary_id, name or "", source_path or ""),
            component=name,
            component_version=version,
            fixed_in=", ".join(dict.fromkeys(fixes)) or None,
            purl=_purl(primary, version) if name else None,
            file_path=source_path,
            cwe=cwes[0] if cwes else None,
            cwes=tuple(cwes),
            cvss_vector=vectors[0] if vectors else None,
            cvss_score=score
            if score is not None
            else (cvss3_base_score(vectors[0]) if vectors else None),
            description=details,
            references=tuple(references)[:MAX_REFERENCES],
        )


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    data = stream.read()
    if not data.strip():
        return  # an empty file is an empty report (see detect)
    document = expect_dict(read_json(BytesIO(data)), record="document")
    if "results" not in document:
        raise ParseError(
            "not an OSV-Scanner report (no results)", record="document", field="results"
        )
    for r_index, raw_result in enumerate(
        expect_list(document["results"], record="document", field="results")
    ):
        result = expect_dict(raw_result, record=f"results[{r_index}]")
        source = result.get("source")
        source_path = as_str(source.get("path")) if isinstance(source, dict) else None
        packages = expect_list(
            result.get("packages"), record=f"results[{r_index}]", field="packages"
        )
        for p_index, entry in enumerate(packages):
            try:
                yield from _package_findings(
                    entry, f"results[{r_index}].packages[{p_index}]", source_path
                )
            except ParseError as exc:
                skip_record(exc)


PARSER = Parser(name="osv", label="OSV-Scanner JSON", detect=detect, parse=parse, scanner=SCANNER)
