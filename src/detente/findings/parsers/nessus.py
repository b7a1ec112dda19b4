"""Nessus ``.nessus`` v2 XML (NessusClientData_v2), including Nessus / Tenable WAS exports.

One finding per ``ReportItem``: a plugin on one host and port. Files reach hundreds of MB, so the
document is streamed with defusedxml's ``iterparse`` and every finished item is cleared. A DTD is
refused outright (Nessus never writes one), which also refuses entity expansion bombs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # types only; parsing goes through defusedxml
from collections.abc import Iterator
from typing import IO

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from detente.findings.parsers.base import (
    TENABLE_DIGITS,
    ParsedFinding,
    ParseError,
    Parser,
    as_float,
    as_str,
    cpe_component,
    normalise_cvss_vector,
    parse_cwe,
    skip_record,
)

SCANNER = "nessus"

# ReportItem@severity is Nessus's own 0-4 scale (what its UI shows); it is authoritative.
_SEVERITY = TENABLE_DIGITS

_CVE_RE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)


def detect(head: bytes, name: str) -> int:
    if b"<NessusClientData_v2" in head:
        return 95
    return 0


def _text(item: ET.Element, tag: str) -> str | None:
    return as_str(item.findtext(tag))


def _item_finding(item: ET.Element, *, host: str, fqdn: str | None, record: str) -> ParsedFinding:
    plugin_id = as_str(item.get("pluginID"))
    if plugin_id is None:
        raise ParseError("required attribute is missing", record=record, field="pluginID")
    raw_severity = as_str(item.get("severity"))
    if raw_severity is None:
        raise ParseError("severity is missing", record=record, field="severity")
    severity = _SEVERITY.get(raw_severity)
    if severity is None:
        raise ParseError(f"unknown severity {raw_severity!r}", record=record, field="severity")
    port = as_str(item.get("port")) or "0"
    if not port.isdigit():
        raise ParseError(f"port is not a number: {port!r}", record=record, field="port")
    protocol = (as_str(item.get("protocol")) or "tcp").lower()
    title = as_str(item.get("pluginName")) or _text(item, "plugin_name") or f"Plugin {plugin_id}"

    cves: dict[str, None] = {}
    for cve in item.iter("cve"):
        for match in _CVE_RE.findall(cve.text or ""):
            cves.setdefault(match.upper(), None)

    v3 = normalise_cvss_vector(_text(item, "cvss3_vector"))
    if v3 is not None and not v3.startswith("CVSS:"):
        v3 = "CVSS:3.0/" + v3  # Nessus drops the prefix; its v3 vectors are 3.0
    vector = v3 or normalise_cvss_vector(_text(item, "cvss_vector"))
    score = None
    for tag in ("cvss3_base_score", "cvssv3", "cvss_base_score", "cvss"):
        score = as_float(_text(item, tag), record=record, field=tag)
        if score is not None:
            break

    references: list[str] = []
    for see_also in item.iter("see_also"):
        references.extend((see_also.text or "").split())
    component, version = cpe_component(_text(item, "cpe"))

    web_app = "://" in host
    endpoint = (
        (fqdn if fqdn and "://" in fqdn else host) if web_app else f"{host}:{port}/{protocol}"
    )
    return ParsedFinding(
        scanner=SCANNER,
        vuln_id=plugin_id,
        title=title,
        severity=severity,
        scanner_severity=_text(item, "risk_factor") or raw_severity,
        record=record,
        identity=(plugin_id, port, protocol),
        aliases=tuple(cves),
        asset_kind="application" if web_app else "host",
        asset_name=host,
        component=component,
        component_version=version,
        endpoint=endpoint,
        cwe=parse_cwe(_text(item, "cwe")),
        cwes=tuple(c for c in (parse_cwe(_text(item, "cwe")),) if c is not None),
        cvss_vector=vector,
        cvss_score=score,
        description=_text(item, "description") or _text(item, "synopsis"),
        references=tuple(dict.fromkeys(references)),
    )


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    try:
        yield from _parse(stream)
    except DefusedXmlException as exc:
        raise ParseError(
            f"XML refused for safety ({type(exc).__name__})", record="document"
        ) from None
    except ET.ParseError as exc:
        raise ParseError(f"not well-formed XML ({exc})", record="document") from None


def _parse(stream: IO[bytes]) -> Iterator[ParsedFinding]:
    events = iterparse(stream, events=("start", "end"), forbid_dtd=True)
    root_seen = False
    host: str | None = None
    fqdn: str | None = None
    host_index = -1
    item_index = -1
    for event, elem in events:
        tag = elem.tag
        if not root_seen:
            if tag != "NessusClientData_v2":
                raise ParseError(
                    f"not a Nessus v2 report (root element {tag!r})", record="document"
                )
            root_seen = True
            continue
        if event == "start":
            if tag == "ReportHost":
                host_index += 1
                item_index = -1
                host = as_str(elem.get("name"))
                fqdn = None
                if host is None:
                    raise ParseError(
                        "required attribute is missing",
                        record=f"ReportHost[{host_index}]",
                        field="name",
                    )
            continue
        if tag == "tag" and host is not None and elem.get("name") == "host-fqdn":
            fqdn = as_str(elem.text)
        elif tag == "ReportItem":
            item_index += 1
            if host is None:
                raise ParseError("ReportItem outside a ReportHost", record="document")
            record = f"ReportHost[{host_index}].ReportItem[{item_index}]"
            try:
                finding = _item_finding(elem, host=host, fqdn=fqdn, record=record)
            except ParseError as exc:
                skip_record(exc)
            else:
                yield finding
            elem.clear()
        elif tag in ("ReportHost", "Policy", "HostProperties"):
            if tag == "ReportHost":
                host = None
            elem.clear()


PARSER = Parser(
    name="nessus", label="Nessus .nessus XML", detect=detect, parse=parse, scanner=SCANNER
)
