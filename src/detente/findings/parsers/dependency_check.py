"""OWASP Dependency-Check reports: XML (schemas ``dependency-check.1.x`` and ``2.x``) and JSON.

One finding per dependency × vulnerability, suppressed ones included (``suppressed=True``). The
component comes from the dependency's package URL (Maven ``group:artifact``), else its CPE or Maven
identifier; ``file_path`` is the dependency's ``fileName`` (the on-disk ``filePath`` is the build
machine's absolute path, kept out of identity).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # types only; parsing goes through defusedxml
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import unquote

from defusedxml.ElementTree import parse as xml_parse

from detente.findings.parsers.base import (
    COMMON_SEVERITIES,
    DB_INT_MAX,
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_float,
    as_str,
    expect_dict,
    expect_list,
    parse_json_or_xml,
    read_json,
    severity_from,
    skip_record,
)

SCANNER = "dependency-check"
_NS_RE = re.compile(r"^\{(https?://jeremylong\.github\.io/DependencyCheck/[^}]*)\}analysis$")
_CVE_RE = re.compile(r"^CVE-\d{4}-\d{4,}", re.IGNORECASE)
_CWE_RE = re.compile(r"^(?:CWE-)?(\d+)", re.IGNORECASE)
# Dependency-Check writes NVD words (upper case) and advisory words (``moderate`` from npm).
_SEVERITIES = COMMON_SEVERITIES


def detect(head: bytes, name: str) -> int:
    if b"<analysis" in head and b"jeremylong.github.io/DependencyCheck/dependency-check" in head:
        return 95
    if (
        head.lstrip().startswith(b"{")
        and b'"reportSchema"' in head
        and b'"scanInfo"' in head
        and b'"projectInfo"' in head
    ):
        return 90
    return 0


# ---------------------------------------------------------------- shared shapes


@dataclass(frozen=True, slots=True)
class _Component:
    name: str | None
    version: str | None
    purl: str | None


def purl_component(purl: str) -> _Component | None:
    """``pkg:maven/org.x/y@1.2`` → ``org.x:y`` 1.2; other types join namespace and name with '/'."""
    if not purl.startswith("pkg:"):
        return None
    body = purl[4:].split("#", 1)[0].split("?", 1)[0]
    kind, _, rest = body.partition("/")
    path, _, version = rest.rpartition("@") if "@" in rest else (rest, "", "")
    parts = [unquote(part) for part in path.split("/") if part]
    if not parts:
        return None
    name = parts[-1]
    namespace = "/".join(parts[:-1])
    if namespace:
        name = f"{namespace}:{name}" if kind == "maven" else f"{namespace}/{name}"
    return _Component(name=name, version=unquote(version) or None, purl=purl)


def _cpe_component(cpe: str) -> _Component | None:
    if cpe.startswith("cpe:2.3:"):
        parts = cpe.split(":")[3:]
    elif cpe.startswith("cpe:/"):
        parts = cpe[5:].split(":")[1:]
    else:
        return None
    if len(parts) < 2:
        return None
    version = parts[2] if len(parts) > 2 and parts[2] not in ("", "*", "-") else None
    return _Component(name=f"{parts[0]}:{parts[1]}", version=version, purl=None)


def _maven_component(gav: str) -> _Component | None:
    parts = gav.split(":")
    if len(parts) != 3:
        return None
    return _Component(name=f"{parts[0]}:{parts[1]}", version=parts[2], purl=None)


def _first_cwe(values: list[str]) -> int | None:
    for value in values:
        match = _CWE_RE.match(value.strip())
        if match and 0 < int(match.group(1)) <= DB_INT_MAX:
            return int(match.group(1))
    return None


def _v3_vector(metrics: Mapping[str, str | None], version: str | None) -> str | None:
    """Dependency-Check splits the CVSS v3 vector into elements (``N`` or ``NETWORK``)."""
    keys = (
        ("AV", "attackVector"),
        ("AC", "attackComplexity"),
        ("PR", "privilegesRequired"),
        ("UI", "userInteraction"),
        ("S", "scope"),
        ("C", "confidentialityImpact"),
        ("I", "integrityImpact"),
        ("A", "availabilityImpact"),
    )
    parts = []
    for short, long in keys:
        value = as_str(metrics.get(long))
        if value is None:
            return None
        parts.append(f"{short}:{value[0].upper()}")
    prefix = f"CVSS:{version}" if version in ("3.0", "3.1") else "CVSS:3.1"
    return "/".join([prefix, *parts])


@dataclass(frozen=True, slots=True)
class _Vuln:
    name: str
    severity_word: str | None
    severity_field: str
    cvss_vector: str | None
    cvss_score: float | None
    cwes: list[str]
    description: str | None
    references: list[str]
    suppressed: bool


def _finding(
    dependency_file: str,
    component: _Component | None,
    vuln: _Vuln,
    *,
    asset: str | None,
    record: str,
) -> ParsedFinding:
    severity: Severity = severity_from(
        vuln.severity_word, _SEVERITIES, record=record, field=vuln.severity_field
    )
    match = _CVE_RE.match(vuln.name)
    vuln_id = match.group(0).upper() if match else vuln.name
    comp_name = component.name if component else None
    comp_version = component.version if component else None
    label = f"{comp_name}:{comp_version}" if comp_name else dependency_file
    cwe = _first_cwe(vuln.cwes)
    # An archive's nested jar is written "outer.ear: inner.jar"; the outer part locates it.
    container = dependency_file.split(": ", 1)[0] if ": " in dependency_file else ""
    return ParsedFinding(
        scanner=SCANNER,
        vuln_id=vuln_id,
        title=f"{label} | {vuln.name}",
        severity=severity,
        scanner_severity=vuln.severity_word or "",
        record=record,
        identity=(vuln_id, comp_name or dependency_file, container),
        asset_kind="repository" if asset else None,
        asset_name=asset,
        component=comp_name,
        component_version=comp_version,
        purl=component.purl if component else None,
        file_path=dependency_file,
        cwe=cwe,
        cwes=(cwe,) if cwe else (),
        cvss_vector=vuln.cvss_vector,
        cvss_score=vuln.cvss_score,
        description=vuln.description,
        references=tuple(dict.fromkeys(vuln.references)),
        suppressed=vuln.suppressed,
    )


# ---------------------------------------------------------------- XML


class _Xml:
    def __init__(self, namespace: str) -> None:
        self.ns = "{" + namespace + "}" if namespace else ""

    def q(self, path: str) -> str:
        return "/".join(
            self.ns + part if part not in (".", "") else part for part in path.split("/")
        )

    def text(self, elem: ET.Element, path: str) -> str | None:
        return as_str(elem.findtext(self.q(path)))

    def component(self, dependency: ET.Element) -> _Component | None:
        identifiers = dependency.find(self.ns + "identifiers")
        if identifiers is not None:
            for package in identifiers.iter(self.ns + "package"):
                found = purl_component(self.text(package, "id") or "")
                if found:
                    return found
            for identifier in identifiers.iter(self.ns + "identifier"):
                kind = identifier.get("type")
                value = self.text(identifier, "name") or ""
                if kind == "cpe" and (cpe := _cpe_component(value)):
                    return cpe
                if kind == "maven" and (gav := _maven_component(value)):
                    return gav
        evidence = dependency.find(self.ns + "evidenceCollected")
        if evidence is not None:
            product = version = None
            for item in evidence.iter(self.ns + "evidence"):
                if item.get("type") == "product" and product is None:
                    product = self.text(item, "value")
                elif item.get("type") == "version" and version is None:
                    version = self.text(item, "value")
            if product:
                return _Component(name=product, version=version, purl=None)
        return None

    def vuln(self, elem: ET.Element, *, record: str) -> _Vuln:
        name = self.text(elem, "name")
        if name is None:
            raise ParseError("required field is missing", record=record, field="name")
        word, field = self.text(elem, "severity"), "severity"
        v3 = elem.find(self.ns + "cvssV3")
        v2 = elem.find(self.ns + "cvssV2")
        if word is None and v3 is not None:
            word, field = self.text(v3, "baseSeverity"), "cvssV3.baseSeverity"
        if word is None and v2 is not None:
            word, field = self.text(v2, "severity"), "cvssV2.severity"
        vector = score = None
        if v3 is not None:
            metrics = {child.tag.removeprefix(self.ns): child.text for child in v3}
            vector = _v3_vector(metrics, as_str(metrics.get("version")))
            score = as_float(self.text(v3, "baseScore"), record=record, field="cvssV3.baseScore")
        elif v2 is not None:
            score = as_float(self.text(v2, "score"), record=record, field="cvssV2.score")
        else:
            score = as_float(self.text(elem, "cvssScore"), record=record, field="cvssScore")
        cwes = [c.text or "" for c in elem.iter(self.ns + "cwe")]
        references = [
            url for ref in elem.iter(self.ns + "reference") if (url := self.text(ref, "url"))
        ]
        return _Vuln(
            name=name,
            severity_word=word,
            severity_field=field,
            cvss_vector=vector,
            cvss_score=score,
            cwes=cwes,
            description=self.text(elem, "description"),
            references=references,
            suppressed=elem.tag == self.ns + "suppressedVulnerability",
        )


def _parse_xml(stream: IO[bytes]) -> Iterator[ParsedFinding]:
    root = xml_parse(stream, forbid_dtd=True).getroot()
    if root is None:
        raise ParseError("the document has no root element", record="document")
    match = _NS_RE.match(root.tag)
    if root.tag != "analysis" and not match:
        raise ParseError(
            f"not a Dependency-Check report (root element {root.tag!r})", record="document"
        )
    xml = _Xml(match.group(1) if match else "")
    asset = xml.text(root, "projectInfo/name")
    dependencies = root.find(xml.ns + "dependencies")
    if dependencies is None:
        return
    vuln_tags = (xml.ns + "vulnerability", xml.ns + "suppressedVulnerability")
    for dep_index, dependency in enumerate(dependencies.findall(xml.ns + "dependency")):
        dep_record = f"dependencies[{dep_index}]"
        file_name = xml.text(dependency, "fileName")
        if file_name is None:
            raise ParseError("required field is missing", record=dep_record, field="fileName")
        component = xml.component(dependency)
        index = 0
        for container in ("vulnerabilities", "suppressedVulnerabilities"):
            holder = dependency.find(xml.ns + container)
            if holder is None:
                continue
            for elem in holder:
                try:
                    if elem.tag not in vuln_tags:
                        continue
                    record = f"{dep_record}.vulnerabilities[{index}]"
                    index += 1
                    yield _finding(
                        file_name,
                        component,
                        xml.vuln(elem, record=record),
                        asset=asset,
                        record=record,
                    )
                except ParseError as exc:
                    skip_record(exc)


# ---------------------------------------------------------------- JSON


def _json_component(dependency: Mapping[str, Any], *, record: str) -> _Component | None:
    for i, package in enumerate(
        expect_list(dependency.get("packages"), record=record, field="packages")
    ):
        found = purl_component(
            as_str(expect_dict(package, record=f"{record}.packages[{i}]").get("id")) or ""
        )
        if found:
            return found
    for i, ident in enumerate(
        expect_list(dependency.get("vulnerabilityIds"), record=record, field="vulnerabilityIds")
    ):
        value = as_str(expect_dict(ident, record=f"{record}.vulnerabilityIds[{i}]").get("id")) or ""
        if found := _cpe_component(value):
            return found
    return None


def _json_vuln(raw: object, *, record: str, suppressed: bool) -> _Vuln:
    vuln = expect_dict(raw, record=record)
    name = as_str(vuln.get("name"))
    if name is None:
        raise ParseError("required field is missing", record=record, field="name")
    v3 = vuln.get("cvssv3")
    v2 = vuln.get("cvssv2")
    word, field = as_str(vuln.get("severity")), "severity"
    if word is None and isinstance(v3, dict):
        word, field = as_str(v3.get("baseSeverity")), "cvssv3.baseSeverity"
    if word is None and isinstance(v2, dict):
        word, field = as_str(v2.get("severity")), "cvssv2.severity"
    vector = score = None
    if isinstance(v3, dict):
        vector = _v3_vector(v3, as_str(v3.get("version")))
        score = as_float(v3.get("baseScore"), record=record, field="cvssv3.baseScore")
    elif isinstance(v2, dict):
        score = as_float(v2.get("score"), record=record, field="cvssv2.score")
    cwes = [str(c) for c in expect_list(vuln.get("cwes"), record=record, field="cwes")]
    references = [
        url
        for ref in expect_list(vuln.get("references"), record=record, field="references")
        if isinstance(ref, dict) and (url := as_str(ref.get("url")))
    ]
    return _Vuln(
        name=name,
        severity_word=word,
        severity_field=field,
        cvss_vector=vector,
        cvss_score=score,
        cwes=cwes,
        description=as_str(vuln.get("description")),
        references=references,
        suppressed=suppressed,
    )


def _parse_json(stream: IO[bytes]) -> Iterator[ParsedFinding]:
    document = expect_dict(read_json(stream), record="document")
    if "dependencies" not in document or "reportSchema" not in document:
        raise ParseError(
            "not a Dependency-Check JSON report", record="document", field="dependencies"
        )
    project = document.get("projectInfo")
    asset = as_str(project.get("name")) if isinstance(project, dict) else None
    dependencies = expect_list(document["dependencies"], record="document", field="dependencies")
    for dep_index, raw in enumerate(dependencies):
        dep_record = f"dependencies[{dep_index}]"
        dependency = expect_dict(raw, record=dep_record)
        file_name = as_str(dependency.get("fileName"))
        if file_name is None:
            raise ParseError("required field is missing", record=dep_record, field="fileName")
        component = _json_component(dependency, record=dep_record)
        for key, suppressed in (("vulnerabilities", False), ("suppressedVulnerabilities", True)):
            for i, raw_vuln in enumerate(
                expect_list(dependency.get(key), record=dep_record, field=key)
            ):
                try:
                    record = f"{dep_record}.{key}[{i}]"
                    vuln = _json_vuln(raw_vuln, record=record, suppressed=suppressed)
                    yield _finding(file_name, component, vuln, asset=asset, record=record)
                except ParseError as exc:
                    skip_record(exc)


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    return parse_json_or_xml(stream, _parse_json, _parse_xml)


PARSER = Parser(
    name="dependency-check",
    label="OWASP Dependency-Check XML / JSON",
    detect=detect,
    parse=parse,
    scanner=SCANNER,
)
