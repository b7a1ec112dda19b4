"""CycloneDX BOMs with vulnerabilities (and VEX), JSON or XML.

One finding per vulnerability × affected component: ``affects[].ref`` is joined to a component's
``bom-ref`` (nested components and ``metadata.component`` included; a BOM-Link keeps its part after
``#``). XML covers the 1.4+ ``vulnerabilities`` element and the 1.0-1.3 vulnerability extension
(``http://cyclonedx.org/schema/ext/vulnerability/1.0``), nested in components or at BOM level.
Severity is the highest of the ratings: each rating's own word, else the band of its score.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # types only; parsing goes through defusedxml
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from defusedxml.ElementTree import parse as xml_parse

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
    parse_json_or_xml,
    read_json,
    severity_from,
    severity_from_score,
    skip_record,
)

SCANNER = "cyclonedx"
_BOM_NS_RE = re.compile(r"^\{(http://cyclonedx\.org/schema/bom/[0-9.]+)\}bom$")
_VULN_EXT = "http://cyclonedx.org/schema/ext/vulnerability/1.0"
# VEX states under which the component is not (or no longer) exposed.
SUPPRESSING_STATES = frozenset(
    {"not_affected", "false_positive", "resolved", "resolved_with_pedigree"}
)
_ASSET_KIND = {
    "container": "image",
    "application": "application",
    "library": "package",
    "framework": "package",
    "operating-system": "host",
    "device": "host",
    "firmware": "host",
}


def detect(head: bytes, name: str) -> int:
    if b'"bomFormat"' in head and b'"CycloneDX"' in head:
        return 95
    if b"http://cyclonedx.org/schema/bom/" in head and b"<bom" in head:
        return 95
    return 0


# ---------------------------------------------------------------- the neutral shape


@dataclass(frozen=True, slots=True)
class _Component:
    name: str | None
    version: str | None
    group: str | None
    purl: str | None

    def stable_key(self, ref: str) -> str:
        """What names the component across versions: its purl without version, else group/name."""
        if self.purl:
            return self.purl.split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[0]
        if self.name:
            return f"{self.group}/{self.name}" if self.group else self.name
        return ref


@dataclass(frozen=True, slots=True)
class _Rating:
    severity: str | None
    score: float | None
    method: str | None
    vector: str | None


@dataclass
class _Vuln:
    vuln_id: str
    record: str
    ratings: list[_Rating] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    cwes: list[int] = field(default_factory=list)
    description: str | None = None
    references: list[str] = field(default_factory=list)
    fixed_in: str | None = None
    state: str | None = None


def _severity(vuln: _Vuln) -> tuple[Severity, str]:
    best: tuple[Severity, str] | None = None
    for index, rating in enumerate(vuln.ratings):
        if rating.severity is not None:
            level = severity_from(
                rating.severity,
                COMMON_SEVERITIES,
                record=f"{vuln.record}.ratings[{index}]",
                field="severity",
            )
            word = rating.severity
        elif rating.score is not None:
            level, word = severity_from_score(rating.score), f"{rating.score:g}"
        else:
            continue
        if best is None or level.rank > best[0].rank:
            best = (level, word)
    # No rating at all: CycloneDX's own "unknown"; policy decides, we do not invent a level.
    return best or (Severity.INFO, "unknown")


def _cvss(vuln: _Vuln) -> tuple[str | None, float | None]:
    def version_rank(rating: _Rating) -> int:
        method = (rating.method or "").upper()
        return 3 if method.startswith("CVSSV4") else 2 if method.startswith("CVSSV3") else 1

    scored = [r for r in vuln.ratings if r.vector and (r.method or "").upper().startswith("CVSS")]
    if not scored:
        return None, None
    best = max(scored, key=lambda r: (version_rank(r), r.score or 0.0))
    return normalise_cvss_vector(best.vector), best.score


def _finding(
    vuln: _Vuln,
    component: _Component | None,
    *,
    ref: str,
    asset: tuple[str | None, str | None],
    record: str,
) -> ParsedFinding:
    severity, word = _severity(vuln)
    vector, score = _cvss(vuln)
    aliases = [a for a in dict.fromkeys(vuln.aliases) if a != vuln.vuln_id]
    aliases.sort(key=lambda a: not a.upper().startswith("CVE-"))
    name = component.name if component else None
    version = component.version if component else None
    return ParsedFinding(
        scanner=SCANNER,
        vuln_id=vuln.vuln_id,
        title=f"{name}:{version} | {vuln.vuln_id}" if name else vuln.vuln_id,
        severity=severity,
        scanner_severity=word,
        record=record,
        identity=(vuln.vuln_id, component.stable_key(ref) if component else ref),
        aliases=tuple(aliases),
        asset_kind=asset[0],
        asset_name=asset[1],
        component=name,
        component_version=version,
        fixed_in=vuln.fixed_in,
        purl=component.purl if component else None,
        cwe=vuln.cwes[0] if vuln.cwes else None,
        cwes=tuple(vuln.cwes),
        cvss_vector=vector,
        cvss_score=score,
        description=vuln.description,
        references=tuple(dict.fromkeys(vuln.references)),
        suppressed=vuln.state in SUPPRESSING_STATES,
        vex_state=vuln.state,
    )


def _lookup(components: Mapping[str, _Component], ref: str) -> _Component | None:
    if ref in components:
        return components[ref]
    if ref.startswith("urn:cdx:") and "#" in ref:  # BOM-Link to a component of this BOM
        return components.get(ref.split("#", 1)[1])
    return None


def _cwe_ints(values: list[Any]) -> list[int]:
    """The CWE numbers among ``values`` ("79", "CWE-79", 79); others (0, out of range) left out."""
    found = []
    for value in values:
        text = as_str(value)
        if text is not None and text.removeprefix("CWE-").isdigit():
            number = parse_cwe(text.removeprefix("CWE-"))
            if number is not None:
                found.append(number)
    return found


# ---------------------------------------------------------------- JSON


def _json_components(raw: object, out: dict[str, _Component], *, record: str) -> None:
    for index, item in enumerate(expect_list(raw, record=record, field="components")):
        here = f"{record}[{index}]"
        comp = expect_dict(item, record=here)
        if "components" in comp:
            _json_components(comp["components"], out, record=f"{here}.components")
        ref = as_str(comp.get("bom-ref"))
        if ref:
            out[ref] = _json_component(comp)


def _json_component(comp: Mapping[str, Any]) -> _Component:
    return _Component(
        name=as_str(comp.get("name")),
        version=as_str(comp.get("version")),
        group=as_str(comp.get("group")),
        purl=as_str(comp.get("purl")),
    )


def _asset(kind: str | None, name: str | None) -> tuple[str | None, str | None]:
    mapped = _ASSET_KIND.get((kind or "").lower())
    return (mapped, name) if mapped and name else (None, None)


def _json_vuln(raw: object, *, record: str) -> tuple[_Vuln, list[str]]:
    data = expect_dict(raw, record=record)
    vuln_id = as_str(data.get("id"))
    if vuln_id is None:
        raise ParseError("required field is missing", record=record, field="id")
    vuln = _Vuln(vuln_id=vuln_id, record=record)
    for index, item in enumerate(expect_list(data.get("ratings"), record=record, field="ratings")):
        here = f"{record}.ratings[{index}]"
        rating = expect_dict(item, record=here)
        vuln.ratings.append(
            _Rating(
                severity=as_str(rating.get("severity")),
                score=as_float(rating.get("score"), record=here, field="score"),
                method=as_str(rating.get("method")),
                vector=as_str(rating.get("vector")),
            )
        )
    for item in expect_list(data.get("references"), record=record, field="references"):
        if isinstance(item, dict) and (alias := as_str(item.get("id"))):
            vuln.aliases.append(alias)
    vuln.cwes = _cwe_ints(expect_list(data.get("cwes"), record=record, field="cwes"))
    description, detail = as_str(data.get("description")), as_str(data.get("detail"))
    vuln.description = "\n".join(t for t in (description, detail) if t) or None
    for item in expect_list(data.get("advisories"), record=record, field="advisories"):
        if isinstance(item, dict) and (url := as_str(item.get("url"))):
            vuln.references.append(url)
    analysis = data.get("analysis")
    if analysis is not None:
        vuln.state = as_str(expect_dict(analysis, record=record, field="analysis").get("state"))
    refs = []
    for index, item in enumerate(expect_list(data.get("affects"), record=record, field="affects")):
        affect = expect_dict(item, record=f"{record}.affects[{index}]")
        ref = require_str(affect, "ref", record=f"{record}.affects[{index}]")
        refs.append(ref)
    return vuln, refs


def require_str(mapping: Mapping[str, Any], key: str, *, record: str) -> str:
    value = as_str(mapping.get(key)) if isinstance(mapping.get(key), str) else None
    if value is None:
        raise ParseError("required field is missing or not text", record=record, field=key)
    return value


def _parse_json(stream: IO[bytes]) -> Iterator[ParsedFinding]:
    bom = expect_dict(read_json(stream), record="document")
    if bom.get("bomFormat") != "CycloneDX":
        raise ParseError("not a CycloneDX BOM", record="document", field="bomFormat")
    components: dict[str, _Component] = {}
    asset: tuple[str | None, str | None] = (None, None)
    metadata = bom.get("metadata")
    if metadata is not None:
        meta_comp = expect_dict(metadata, record="metadata").get("component")
        if meta_comp is not None:
            top = expect_dict(meta_comp, record="metadata.component")
            asset = _asset(as_str(top.get("type")), as_str(top.get("name")))
            if ref := as_str(top.get("bom-ref")):
                components[ref] = _json_component(top)
            if "components" in top:
                _json_components(
                    top["components"], components, record="metadata.component.components"
                )
    _json_components(bom.get("components"), components, record="components")
    for index, raw in enumerate(
        expect_list(bom.get("vulnerabilities"), record="document", field="vulnerabilities")
    ):
        try:
            record = f"vulnerabilities[{index}]"
            vuln, refs = _json_vuln(raw, record=record)
            for affect_index, ref in enumerate(refs):
                yield _finding(
                    vuln,
                    _lookup(components, ref),
                    ref=ref,
                    asset=asset,
                    record=f"{record}.affects[{affect_index}]",
                )
        except ParseError as exc:
            skip_record(exc)


# ---------------------------------------------------------------- XML


class _Xml:
    def __init__(self, bom_ns: str) -> None:
        self.b = "{" + bom_ns + "}"
        self.v = "{" + _VULN_EXT + "}"

    def text(self, elem: ET.Element, path: str) -> str | None:
        return as_str(elem.findtext(path))

    def component(self, elem: ET.Element) -> _Component:
        b = self.b
        return _Component(
            name=self.text(elem, b + "name"),
            version=self.text(elem, b + "version"),
            group=self.text(elem, b + "group"),
            purl=self.text(elem, b + "purl"),
        )

    def legacy_vuln(self, elem: ET.Element, *, record: str) -> _Vuln:
        v = self.v
        vuln_id = self.text(elem, v + "id")
        if vuln_id is None:
            raise ParseError("required field is missing", record=record, field="id")
        vuln = _Vuln(vuln_id=vuln_id, record=record)
        for index, rating in enumerate(elem.iterfind(f"{v}ratings/{v}rating")):
            vuln.ratings.append(
                _Rating(
                    severity=self.text(rating, v + "severity"),
                    score=as_float(
                        self.text(rating, f"{v}score/{v}base"),
                        record=f"{record}.ratings[{index}]",
                        field="score",
                    ),
                    method=self.text(rating, v + "method"),
                    vector=self.text(rating, v + "vector"),
                )
            )
        vuln.cwes = _cwe_ints([c.text for c in elem.iterfind(f"{v}cwes/{v}cwe")])
        vuln.description = self.text(elem, v + "description")
        vuln.references = [
            a.text.strip() for a in elem.iterfind(f"{v}advisories/{v}advisory") if a.text
        ]
        return vuln

    def vuln(self, elem: ET.Element, *, record: str) -> tuple[_Vuln, list[str]]:
        b = self.b
        vuln_id = self.text(elem, b + "id")
        if vuln_id is None:
            raise ParseError("required field is missing", record=record, field="id")
        vuln = _Vuln(vuln_id=vuln_id, record=record)
        for index, rating in enumerate(elem.iterfind(f"{b}ratings/{b}rating")):
            vuln.ratings.append(
                _Rating(
                    severity=self.text(rating, b + "severity"),
                    score=as_float(
                        self.text(rating, b + "score"),
                        record=f"{record}.ratings[{index}]",
                        field="score",
                    ),
                    method=self.text(rating, b + "method"),
                    vector=self.text(rating, b + "vector"),
                )
            )
        vuln.aliases = [
            alias
            for ref in elem.iterfind(f"{b}references/{b}reference")
            if (alias := self.text(ref, b + "id"))
        ]
        vuln.cwes = _cwe_ints([c.text for c in elem.iterfind(f"{b}cwes/{b}cwe")])
        description, detail = self.text(elem, b + "description"), self.text(elem, b + "detail")
        vuln.description = "\n".join(t for t in (description, detail) if t) or None
        vuln.references = [
            url
            for adv in elem.iterfind(f"{b}advisories/{b}advisory")
            if (url := self.text(adv, b + "url"))
        ]
        vuln.state = self.text(elem, f"{b}analysis/{b}state")
        refs = []
        for index, target in enumerate(elem.iterfind(f"{b}affects/{b}target")):
            ref = self.text(target, b + "ref")
            if ref is None:
                raise ParseError(
                    "required field is missing", record=f"{record}.affects[{index}]", field="ref"
                )
            refs.append(ref)
        return vuln, refs


def _parse_xml(stream: IO[bytes]) -> Iterator[ParsedFinding]:
    root = xml_parse(stream, forbid_dtd=True).getroot()
    if root is None:
        raise ParseError("the document has no root element", record="document")
    match = _BOM_NS_RE.match(root.tag)
    if not match:
        raise ParseError(f"not a CycloneDX BOM (root element {root.tag!r})", record="document")
    xml = _Xml(match.group(1))
    b, v = xml.b, xml.v
    components: dict[str, _Component] = {}
    asset: tuple[str | None, str | None] = (None, None)
    meta_comp = root.find(f"{b}metadata/{b}component")
    if meta_comp is not None:
        asset = _asset(meta_comp.get("type"), xml.text(meta_comp, b + "name"))
    for elem in root.iter(b + "component"):
        if ref := as_str(elem.get("bom-ref")):
            components[ref] = xml.component(elem)

    # 1.0-1.3 extension: vulnerabilities nested in the component they affect
    index = 0
    holder = root.find(b + "components")
    for comp_elem in holder.iter(b + "component") if holder is not None else ():
        component = xml.component(comp_elem)
        for elem in comp_elem.iterfind(f"{v}vulnerabilities/{v}vulnerability"):
            try:
                record = f"vulnerabilities[{index}]"
                index += 1
                ref = as_str(elem.get("ref")) or as_str(comp_elem.get("bom-ref")) or ""
                yield _finding(
                    xml.legacy_vuln(elem, record=record),
                    component,
                    ref=ref,
                    asset=asset,
                    record=record,
                )
            except ParseError as exc:
                skip_record(exc)
    # the same extension at BOM level, joined by @ref
    for elem in root.iterfind(f"{v}vulnerabilities/{v}vulnerability"):
        try:
            record = f"vulnerabilities[{index}]"
            index += 1
            ref = as_str(elem.get("ref"))
            if ref is None:
                skip_record(ParseError("required attribute is missing", record=record, field="ref"))
                continue
            yield _finding(
                xml.legacy_vuln(elem, record=record),
                _lookup(components, ref),
                ref=ref,
                asset=asset,
                record=record,
            )
        except ParseError as exc:
            skip_record(exc)
    # 1.4+: vulnerabilities with affects/target/ref
    for elem in root.iterfind(f"{b}vulnerabilities/{b}vulnerability"):
        try:
            record = f"vulnerabilities[{index}]"
            index += 1
            vuln, refs = xml.vuln(elem, record=record)
            for affect_index, ref in enumerate(refs):
                yield _finding(
                    vuln,
                    _lookup(components, ref),
                    ref=ref,
                    asset=asset,
                    record=f"{record}.affects[{affect_index}]",
                )
        except ParseError as exc:
            skip_record(exc)


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    return parse_json_or_xml(stream, _parse_json, _parse_xml)


PARSER = Parser(
    name="cyclonedx", label="CycloneDX BOM / VEX", detect=detect, parse=parse, scanner=SCANNER
)
