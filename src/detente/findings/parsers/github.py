"""GitHub security alerts: Dependabot alerts (GraphQL) and code-scanning alerts (REST).

GraphQL, two wrappers: ``data.repository.vulnerabilityAlerts.nodes[]`` and
``data.search.nodes[].vulnerabilityAlerts.nodes[]``; one finding per alert node, the alert's node id
is the tool's id. REST code scanning (``GET /repos/{o}/{r}/code-scanning/alerts``): a JSON list of
alerts; one finding per alert, the alert URL is the tool's id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import IO, Any

from detente.findings.parsers.base import (
    COMMON_SEVERITIES,
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_float,
    as_line,
    as_str,
    expect_dict,
    expect_list,
    normalise_cvss_vector,
    read_json,
    require,
    severity_from,
    skip_record,
)
from detente.findings.parsers.sarif import LEVELS, cwes_from, obj_or_empty, optional_dict

# GraphQL SecurityAdvisorySeverity: CRITICAL, HIGH, MODERATE, LOW
ADVISORY_SEVERITIES: Mapping[str, Severity] = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
}

_REPO_URL = re.compile(r"^https?://[^/]+/([^/]+/[^/?#]+)")


def detect(head: bytes, name: str) -> int:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{") and b'"vulnerabilityAlerts"' in head:
        return 95
    if stripped.startswith(b"{") and b'"data"' in head and b'"securityVulnerability"' in head:
        return 90  # the search form: alerts under data.repository.search.nodes[]
    if stripped.startswith(b"[") and b'"most_recent_instance"' in head and b"code-scanning" in head:
        return 90
    return 0


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    data = read_json(stream)
    if isinstance(data, list):
        yield from _code_scanning(data)
        return
    document = expect_dict(data, record="document")
    if "errors" in document and not document.get("data"):
        raise ParseError(
            f"GitHub API error: {document['errors']}", record="document", field="errors"
        )
    payload = expect_dict(
        require(document, "data", record="document"), record="document", field="data"
    )
    if "repository" in payload:
        repository = expect_dict(payload["repository"], record="data", field="repository")
        yield from _alerts(repository, "data.repository")
    elif "search" in payload:
        search = expect_dict(payload["search"], record="data", field="search")
        nodes = expect_list(search.get("nodes"), record="data.search", field="nodes")
        for index, node in enumerate(nodes):
            where = f"data.search.nodes[{index}]"
            yield from _alerts(expect_dict(node, record=where), where)
    else:
        raise ParseError(
            "not a GitHub alerts response (no data.repository or data.search)", record="data"
        )


# ---------------------------------------------------------------- Dependabot / vulnerability alerts


def _repository_name(repository: dict[str, Any]) -> str | None:
    name = as_str(repository.get("nameWithOwner"))
    if name:
        return name
    url = as_str(repository.get("url"))
    match = _REPO_URL.match(url or "")
    if match:
        return match.group(1)
    return as_str(repository.get("name"))


def _alerts(repository: dict[str, Any], where: str) -> Iterator[ParsedFinding]:
    # vulnerabilityAlerts { nodes } or, from a search query, search { nodes } of alerts
    key = (
        "search"
        if "vulnerabilityAlerts" not in repository and "search" in repository
        else ("vulnerabilityAlerts")
    )
    alerts = expect_dict(require(repository, key, record=where), record=where, field=key)
    repo_name = _repository_name(repository)
    nodes = expect_list(alerts.get("nodes"), record=f"{where}.{key}", field="nodes")
    for index, raw in enumerate(nodes):
        try:
            record = f"{where}.{key}.nodes[{index}]"
            yield _alert(expect_dict(raw, record=record), record, repo_name)
        except ParseError as exc:
            skip_record(exc)


def _alert(node: dict[str, Any], record: str, repo_name: str | None) -> ParsedFinding:
    vulnerability = expect_dict(
        require(node, "securityVulnerability", record=record),
        record=record,
        field="securityVulnerability",
    )
    where = f"{record}.securityVulnerability"
    raw_severity = vulnerability.get("severity")
    severity = severity_from(raw_severity, ADVISORY_SEVERITIES, record=where, field="severity")
    package = expect_dict(
        require(vulnerability, "package", record=where), record=where, field="package"
    )
    component = as_str(package.get("name"))
    advisory = expect_dict(
        require(vulnerability, "advisory", record=where), record=where, field="advisory"
    )
    ids: list[tuple[str, str]] = []
    for index, raw in enumerate(
        expect_list(advisory.get("identifiers"), record=where, field="advisory.identifiers")
    ):
        ident = expect_dict(raw, record=f"{where}.advisory.identifiers[{index}]")
        value = as_str(ident.get("value"))
        if value:
            ids.append((str(ident.get("type") or "").upper(), value))
    ghsa = as_str(advisory.get("ghsaId")) or next((v for t, v in ids if t == "GHSA"), None)
    vuln_id = ghsa or (ids[0][1] if ids else None)
    if vuln_id is None:
        raise ParseError("advisory has no identifier", record=where, field="advisory.identifiers")
    ordered = [v for t, v in ids if t == "CVE"] + [v for t, v in ids if t != "CVE"]
    aliases = tuple(dict.fromkeys(v for v in ordered if v != vuln_id))
    cvss = obj_or_empty(advisory.get("cvss"))
    cwe_nodes = obj_or_empty(advisory.get("cwes")).get("nodes")
    cwes = cwes_from(
        [n.get("cweId") for n in cwe_nodes if isinstance(n, dict)]
        if isinstance(cwe_nodes, list)
        else []
    )
    patched = vulnerability.get("firstPatchedVersion")
    fixed_in = as_str(patched.get("identifier")) if isinstance(patched, dict) else None
    requirement = as_str(node.get("vulnerableRequirements"))
    version = requirement[2:].strip() if requirement and requirement.startswith("= ") else None
    manifest = as_str(node.get("vulnerableManifestPath"))
    state = str(node.get("state") or "").upper()
    references = tuple(
        str(ref["url"])
        for ref in expect_list(
            advisory.get("references"), record=where, field="advisory.references"
        )
        if isinstance(ref, dict) and as_str(ref.get("url"))
    )
    score = as_float(cvss.get("score"), record=where, field="advisory.cvss.score")
    return ParsedFinding(
        scanner="github",
        vuln_id=vuln_id,
        title=as_str(advisory.get("summary")) or vuln_id,
        severity=severity,
        scanner_severity=str(raw_severity),
        record=record,
        # the alert's own id too: two alerts are two findings, whatever they share
        identity=(vuln_id, component or "", manifest or "", as_str(node.get("id")) or ""),
        aliases=aliases,
        asset_kind="repository" if repo_name else None,
        asset_name=repo_name,
        component=component,
        component_version=version,
        fixed_in=fixed_in,
        file_path=manifest,
        cwe=cwes[0] if cwes else None,
        cwes=cwes,
        cvss_vector=normalise_cvss_vector(cvss.get("vectorString")),
        cvss_score=score or None,
        description=as_str(advisory.get("description")),
        references=references,
        unique_id_from_tool=as_str(node.get("id")),
        suppressed=state == "DISMISSED" or node.get("dismissedAt") not in (None, "", "None"),
    )


# ---------------------------------------------------------------- REST code-scanning alerts


def _code_scanning(alerts: list[Any]) -> Iterator[ParsedFinding]:
    for index, raw in enumerate(alerts):
        try:
            record = f"[{index}]"
            alert = expect_dict(raw, record=record)
            rule = expect_dict(require(alert, "rule", record=record), record=record, field="rule")
            rule_id = as_str(rule.get("id")) or as_str(rule.get("name"))
            if rule_id is None:
                skip_record(
                    ParseError("required field is missing", record=f"{record}.rule", field="id")
                )
                continue
            if rule.get("security_severity_level"):
                raw_severity = rule["security_severity_level"]
                severity = severity_from(
                    raw_severity,
                    COMMON_SEVERITIES,
                    record=record,
                    field="rule.security_severity_level",
                )
            else:
                raw_severity = rule.get("severity") or "warning"
                severity = severity_from(raw_severity, LEVELS, record=record, field="rule.severity")
            tool = obj_or_empty(alert.get("tool"))
            scanner = (as_str(tool.get("name")) or "github code scanning").lower()
            instance = optional_dict(
                alert.get("most_recent_instance"), record=record, field="most_recent_instance"
            )
            location = obj_or_empty(instance.get("location"))
            path = as_str(location.get("path"))
            line = as_line(
                location.get("start_line"),
                record=record,
                field="most_recent_instance.location.start_line",
            )
            message = instance.get("message")
            text = as_str(message.get("text")) if isinstance(message, dict) else None
            url = as_str(alert.get("url")) or as_str(alert.get("html_url"))
            cwes = cwes_from(rule.get("tags"))
            state = str(alert.get("state") or "").lower()
            html_url = as_str(alert.get("html_url"))
            yield ParsedFinding(
                scanner=scanner,
                vuln_id=rule_id,
                title=as_str(rule.get("description")) or rule_id,
                severity=severity,
                scanner_severity=str(raw_severity),
                record=record,
                identity=(rule_id, url)
                if url
                else (rule_id, path or "", "" if line is None else str(line)),
                file_path=path,
                line=line,
                cwe=cwes[0] if cwes else None,
                cwes=cwes,
                description=text,
                references=(html_url,) if html_url else (),
                unique_id_from_tool=url,
                suppressed=state == "dismissed",
            )
        except ParseError as exc:
            skip_record(exc)


PARSER = Parser(name="github", label="GitHub security alerts JSON", detect=detect, parse=parse)
