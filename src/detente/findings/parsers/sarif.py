"""SARIF 2.1.0 from any tool: one finding per failing ``runs[].results[]`` entry.

The scanner is the file's own ``tool.driver.name`` (lowercased), so CodeQL, Semgrep, Grype, Snyk
Code, Flawfinder... SARIF all land here with their real names. Severity comes from the rule's
``security-severity`` (a string score, GitHub's bands), else the result's ``level``, else the
rule's ``defaultConfiguration.level``, else ``warning`` (the SARIF default).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import IO, Any

from detente.findings.parsers.base import (
    COMMON_SEVERITIES,
    DB_INT_MAX,
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_line,
    as_str,
    declare_scope,
    expect_dict,
    expect_list,
    read_json,
    severity_from,
    severity_from_score,
    skip_record,
)

# SARIF ``level`` (3.27.10) → ours. ``note`` ("a minor problem or an opportunity to improve the
# code") is info, as DefectDojo does: in the corpus it marks style/maintainability results (unused
# variables, shellcheck quoting, SpotBugs performance), which must not get remediation deadlines.
LEVELS: Mapping[str, Severity] = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.INFO,
    "none": Severity.INFO,
}

_CWE_TEXT = re.compile(r"\bcwe[-_/ :]?0*(\d{1,5})\b", re.IGNORECASE)
_ADVISORY_ID = re.compile(
    r"\b(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3})\b", re.IGNORECASE
)
_SARIF_MARKERS = (b"sarif", b"SARIF")
_TITLE_MAX = 200


# ---------------------------------------------------------------- detection


def _starts_with_object(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


_NO_RUNS = re.compile(rb'"runs"\s*:\s*\[\s*\]')


def looks_like_sarif(head: bytes) -> bool:
    """A JSON object with ``runs`` and ``tool``, and a SARIF ``$schema``/``version`` mark."""
    if not _starts_with_object(head) or b'"runs"' not in head:
        return False
    has_mark = any(mark in head for mark in _SARIF_MARKERS) or b'"2.1.0"' in head
    # a log with no runs ({"version": "2.1.0", "runs": []}) is a valid, clean SARIF log
    return has_mark and (
        b'"tool"' in head or b'"results"' in head or _NO_RUNS.search(head) is not None
    )


def detect(head: bytes, name: str) -> int:
    return 80 if looks_like_sarif(head) else 0


# ---------------------------------------------------------------- helpers shared with siblings


def cwes_from(*values: object) -> tuple[int, ...]:
    """Every CWE number named in strings/lists like ``external/cwe/cwe-079``, ``CWE-346: ...``."""
    found: dict[int, None] = {}

    def visit(value: object) -> None:
        if isinstance(value, str):
            for match in _CWE_TEXT.finditer(value):
                number = int(match.group(1))
                if number:
                    found.setdefault(number, None)
        elif isinstance(value, int) and not isinstance(value, bool):
            if 0 < value <= DB_INT_MAX:
                found.setdefault(value, None)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    for value in values:
        visit(value)
    return tuple(found)


def level_severity(value: object, *, record: str, field: str) -> Severity:
    return severity_from(value, LEVELS, record=record, field=field)


def score_or_word_severity(value: object, *, record: str, field: str) -> Severity:
    """``security-severity``: a score string (``"7.5"``) or, from some tools, a word."""
    if isinstance(value, bool):
        raise ParseError(f"unknown severity {value!r}", record=record, field=field)
    if isinstance(value, int | float):
        return severity_from_score(float(value))
    text = str(value).strip()
    try:
        score = float(text)
    except ValueError:
        return severity_from(text, COMMON_SEVERITIES, record=record, field=field)
    if not 0.0 <= score <= 10.0:
        raise ParseError(f"severity score out of range: {value!r}", record=record, field=field)
    return severity_from_score(score)


def obj_or_empty(value: object) -> dict[str, Any]:
    """An optional nested object: the object, or ``{}`` when absent or not an object."""
    return value if isinstance(value, dict) else {}


def optional_dict(value: object, *, record: str, field: str) -> dict[str, Any]:
    """An optional nested object that must be an object when present."""
    if value is None or value == "":
        return {}
    return expect_dict(value, record=record, field=field)


def _text(value: object) -> str | None:
    if isinstance(value, dict):
        return as_str(value.get("text")) or as_str(value.get("markdown"))
    return None


def first_line(text: str, limit: int = _TITLE_MAX) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), text.strip())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------- rules and results


class _Rules:
    """The rules of a run: by index in ``tool.driver.rules`` and by id (extensions included)."""

    def __init__(self, tool: dict[str, Any], record: str) -> None:
        driver = expect_dict(tool.get("driver"), record=f"{record}.tool", field="driver")
        self.driver_rules = [
            rule
            for rule in expect_list(
                driver.get("rules"), record=f"{record}.tool.driver", field="rules"
            )
            if isinstance(rule, dict)
        ]
        self.by_id: dict[str, dict[str, Any]] = {}
        extensions = expect_list(
            tool.get("extensions"), record=f"{record}.tool", field="extensions"
        )
        for index, extension in enumerate(extensions):
            ext = expect_dict(extension, record=f"{record}.tool.extensions[{index}]")
            for rule in expect_list(
                ext.get("rules"), record=f"{record}.tool.extensions[{index}]", field="rules"
            ):
                if isinstance(rule, dict) and isinstance(rule.get("id"), str):
                    self.by_id.setdefault(rule["id"], rule)
        for rule in self.driver_rules:
            if isinstance(rule.get("id"), str):
                self.by_id[rule["id"]] = rule

    def find(self, result: dict[str, Any], rule_id: str | None, record: str) -> dict[str, Any]:
        index = result.get("ruleIndex")
        if (
            isinstance(index, int)
            and not isinstance(index, bool)
            and 0 <= index < len(self.driver_rules)
        ):
            candidate = self.driver_rules[index]
            if rule_id is None or candidate.get("id") in (rule_id, None):
                return candidate
        if rule_id is not None and rule_id in self.by_id:
            return self.by_id[rule_id]
        return {}


def _rule_id(result: dict[str, Any], record: str) -> str | None:
    rule_id = result.get("ruleId")
    if rule_id is None:
        ref = result.get("rule")
        if ref is not None:
            rule_id = expect_dict(ref, record=record, field="rule").get("id")
    if rule_id is not None and not isinstance(rule_id, str):
        raise ParseError("expected a string", record=record, field="ruleId")
    return as_str(rule_id)


def _message(result: dict[str, Any], rule: dict[str, Any], record: str) -> str | None:
    message = result.get("message")
    if message is None:
        return None
    message = expect_dict(message, record=record, field="message")
    text = as_str(message.get("text"))
    if text is None and isinstance(message.get("id"), str):
        strings = rule.get("messageStrings")
        template = _text(strings.get(message["id"])) if isinstance(strings, dict) else None
        if template is not None:
            arguments = message.get("arguments")
            args = [str(arg) for arg in arguments] if isinstance(arguments, list) else []
            text = re.sub(
                r"\{(\d+)\}",
                lambda m: args[int(m.group(1))] if int(m.group(1)) < len(args) else m.group(0),
                template,
            )
    if text is None:
        text = as_str(message.get("markdown"))
    return text


def _severity(result: dict[str, Any], rule: dict[str, Any], record: str) -> tuple[Severity, str]:
    for source, where in ((result, "properties"), (rule, "rule.properties")):
        properties = source.get("properties")
        if isinstance(properties, dict) and properties.get("security-severity") not in (None, ""):
            value = properties["security-severity"]
            severity = score_or_word_severity(
                value, record=record, field=f"{where}.security-severity"
            )
            return severity, str(value)
    level = result.get("level")
    field = "level"
    if level is None:
        config = rule.get("defaultConfiguration")
        if isinstance(config, dict) and config.get("level") is not None:
            level, field = config["level"], "rule.defaultConfiguration.level"
    if level is None:
        level = "warning"
    if not isinstance(level, str):
        raise ParseError(f"unknown level {level!r}", record=record, field=field)
    return level_severity(level, record=record, field=field), level


def _locations(
    result: dict[str, Any], artifacts: list[Any], record: str
) -> list[tuple[str | None, int | None, str]]:
    """Every location of a result: (file, line, logical location); one empty one if none."""
    locations = expect_list(result.get("locations"), record=record, field="locations")
    found = [
        _location(location, artifacts, f"{record}.locations[{index}]")
        for index, location in enumerate(locations)
    ]
    return list(dict.fromkeys(found)) or [(None, None, "")]


def _location(raw: object, artifacts: list[Any], where: str) -> tuple[str | None, int | None, str]:
    location = expect_dict(raw, record=where)
    logical = ""
    for entry in expect_list(
        location.get("logicalLocations"), record=where, field="logicalLocations"
    ):
        if isinstance(entry, dict):
            logical = as_str(entry.get("fullyQualifiedName")) or as_str(entry.get("name")) or ""
            if logical:
                break
    physical = location.get("physicalLocation")
    if physical is None:
        return None, None, logical
    physical = expect_dict(physical, record=where, field="physicalLocation")
    uri: str | None = None
    artifact = physical.get("artifactLocation")
    if artifact is not None:
        artifact = expect_dict(artifact, record=where, field="physicalLocation.artifactLocation")
        raw_uri = artifact.get("uri")
        if raw_uri is not None and not isinstance(raw_uri, str):
            raise ParseError("expected a string", record=where, field="artifactLocation.uri")
        uri = as_str(raw_uri)
        index = artifact.get("index")
        if uri is None and isinstance(index, int) and 0 <= index < len(artifacts):
            entry = artifacts[index]
            if isinstance(entry, dict) and isinstance(entry.get("location"), dict):
                uri = as_str(entry["location"].get("uri"))
    line = None
    region = physical.get("region")
    if region is not None:
        region = expect_dict(region, record=where, field="physicalLocation.region")
        line = as_line(region.get("startLine"), record=where, field="region.startLine")
    return uri, line, logical


# Where producers name the package a result is about: result properties (Grype, Snyk, …), else
# the message (Trivy: "Package: openssl\nInstalled Version: 1.1.1k"; Grype: "… package: openssl,
# version 1.1.1k …").
_PACKAGE_KEYS = (
    "package",
    "packageName",
    "package_name",
    "pkgName",
    "PkgName",
    "purl",
    "component",
)
_PACKAGE_RE = re.compile(r"(?i)\bpackage:\s*([^\s,]+)")
_VERSION_RE = re.compile(r"(?i)(?:installed version:\s*|,\s*version\s+)([^\s,]+)")


def _package(result: dict[str, Any], message: str | None) -> str:
    properties = result.get("properties")
    if isinstance(properties, dict):
        for key in _PACKAGE_KEYS:
            value = properties.get(key)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                text = as_str(value)
                if text:
                    version = as_str(properties.get("version") or properties.get("packageVersion"))
                    return f"{text}@{version}" if version else text
    if message:
        named = _PACKAGE_RE.search(message)
        if named:
            versioned = _VERSION_RE.search(message)
            return f"{named.group(1)}@{versioned.group(1)}" if versioned else named.group(1)
    return ""


def _unique_id(result: dict[str, Any], record: str) -> str | None:
    """The tool's fingerprint: first of ``fingerprints``, else sorted ``partialFingerprints``."""
    fingerprints = result.get("fingerprints")
    if fingerprints:
        fingerprints = expect_dict(fingerprints, record=record, field="fingerprints")
        for value in fingerprints.values():
            if as_str(value):
                return str(value)
    partial = result.get("partialFingerprints")
    if partial:
        partial = expect_dict(partial, record=record, field="partialFingerprints")
        parts = [f"{key}:{partial[key]}" for key in sorted(partial) if as_str(partial[key])]
        if parts:
            return "|".join(parts)
    return None


def _suppressed(result: dict[str, Any], record: str) -> str | None:
    """The justification ("" when none is given) of the result's first *accepted* suppression
    (SARIF 2.1.0 §3.27.23, §3.35: ``status`` absent means accepted; older drafts say ``state``),
    or None: ``underReview`` and ``rejected`` leave the result open."""
    for index, entry in enumerate(
        expect_list(result.get("suppressions"), record=record, field="suppressions")
    ):
        suppression = expect_dict(entry, record=f"{record}.suppressions[{index}]")
        status = suppression.get("status", suppression.get("state"))
        if status is None or (isinstance(status, str) and status.lower() == "accepted"):
            kind = as_str(suppression.get("kind"))
            justification = as_str(suppression.get("justification")) or ""
            return f"{justification} ({kind})".strip() if kind else justification
    return None


def _rule_cwes(rule: dict[str, Any], result: dict[str, Any]) -> tuple[int, ...]:
    values: list[object] = []
    relationships = rule.get("relationships")
    for relationship in relationships if isinstance(relationships, list) else ():
        if isinstance(relationship, dict) and isinstance(relationship.get("target"), dict):
            target = relationship["target"]
            component = target.get("toolComponent")
            name = component.get("name") if isinstance(component, dict) else None
            target_id = str(target.get("id", ""))
            if isinstance(name, str) and name.upper() == "CWE":
                values.append(f"CWE-{target_id}" if target_id.isdigit() else target_id)
    for source in (rule, result):
        properties = source.get("properties")
        if isinstance(properties, dict):
            values.extend([properties.get("cwe"), properties.get("cwes"), properties.get("tags")])
    return cwes_from(*values)


def _asset(run: dict[str, Any]) -> tuple[str | None, str | None]:
    provenance = run.get("versionControlProvenance")
    if isinstance(provenance, list) and provenance and isinstance(provenance[0], dict):
        uri = as_str(provenance[0].get("repositoryUri"))
        if uri:
            return "repository", uri
    return None, None


def parse_document(data: Any) -> Iterator[ParsedFinding]:
    """Findings of a decoded SARIF document (also used by the Snyk Code parser)."""
    document = expect_dict(data, record="document")
    if "runs" not in document:
        raise ParseError("not a SARIF log (no 'runs')", record="document", field="runs")
    runs = expect_list(document["runs"], record="document", field="runs")
    for run_index, raw_run in enumerate(runs):
        where = f"runs[{run_index}]"
        run = expect_dict(raw_run, record=where)
        tool = expect_dict(run.get("tool"), record=where, field="tool")
        driver = expect_dict(tool.get("driver"), record=f"{where}.tool", field="driver")
        tool_name = driver.get("name")
        if not isinstance(tool_name, str) or not tool_name.strip():
            raise ParseError("tool name is missing", record=f"{where}.tool.driver", field="name")
        scanner = tool_name.strip().lower()
        rules = _Rules(tool, where)
        artifacts = expect_list(run.get("artifacts"), record=where, field="artifacts")
        asset_kind, asset_name = _asset(run)
        declare_scope(scanner, asset_kind, asset_name)
        results = expect_list(run.get("results"), record=where, field="results")
        for result_index, raw_result in enumerate(results):
            try:
                record = f"{where}.results[{result_index}]"
                result = expect_dict(raw_result, record=record)
                kind = result.get("kind", "fail")
                if kind != "fail":
                    continue  # pass / notApplicable / informational / open / review: not a flaw
                yield from _findings(
                    result,
                    record,
                    rules=rules,
                    artifacts=artifacts,
                    scanner=scanner,
                    asset_kind=asset_kind,
                    asset_name=asset_name,
                )
            except ParseError as exc:
                skip_record(exc)


def _findings(
    result: dict[str, Any],
    record: str,
    *,
    rules: _Rules,
    artifacts: list[Any],
    scanner: str,
    asset_kind: str | None,
    asset_name: str | None,
) -> list[ParsedFinding]:
    """One finding per location of the result (DefectDojo does the same)."""
    rule_id = _rule_id(result, record)
    rule = rules.find(result, rule_id, record)
    if rule_id is None:
        rule_id = as_str(rule.get("id")) if rule else None
    message = _message(result, rule, record)
    short = _text(rule.get("shortDescription")) if rule else None
    vuln_id = rule_id or (first_line(message) if message else None)
    if vuln_id is None:
        raise ParseError(
            "result has neither a rule id nor a message", record=record, field="ruleId"
        )
    severity, scanner_severity = _severity(result, rule, record)
    locations = _locations(result, artifacts, record)
    unique_id = _unique_id(result, record)
    cwes = _rule_cwes(rule, result)
    aliases = tuple(dict.fromkeys(m.upper() for m in _ADVISORY_ID.findall(rule_id or "")))
    aliases = tuple(alias for alias in aliases if alias != vuln_id.upper())
    help_uri = as_str(rule.get("helpUri")) if rule else None
    justification = _suppressed(result, record)
    description = message or short
    if justification is not None:
        said = (
            f"Suppressed by the tool: {justification}"
            if justification
            else ("Suppressed by the tool.")
        )
        description = f"{description}\n\n{said}" if description else said
    package = "" if unique_id else _package(result, message)
    title = first_line(message or short or vuln_id)
    several = len(locations) > 1
    out: list[ParsedFinding] = []
    for file_path, line, logical in locations:
        where = "" if line is None else str(line)
        if unique_id:
            identity: tuple[str, ...] = (vuln_id, file_path or "", unique_id)
            if several:
                identity += (where, logical)
        else:
            identity = (vuln_id, file_path or "", where)
            # what else separates results without fingerprints; added only where present, so
            # the identities of results that had none of it do not change
            if package:
                identity += (f"package:{package}",)
            if logical:
                identity += (f"logical:{logical}",)
            if not (file_path or where or package or logical) and message:
                identity += (f"message:{message.strip()}",)  # the last resort
        out.append(
            ParsedFinding(
                scanner=scanner,
                vuln_id=vuln_id,
                title=title,
                severity=severity,
                scanner_severity=scanner_severity,
                record=record,
                identity=identity,
                aliases=aliases,
                asset_kind=asset_kind,
                asset_name=asset_name,
                file_path=file_path,
                line=line,
                cwe=cwes[0] if cwes else None,
                cwes=cwes,
                description=description,
                references=(help_uri,) if help_uri else (),
                unique_id_from_tool=unique_id,
                suppressed=justification is not None,
            )
        )
    return out


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    yield from parse_document(read_json(stream))


PARSER = Parser(name="sarif", label="SARIF 2.1.0", detect=detect, parse=parse)
