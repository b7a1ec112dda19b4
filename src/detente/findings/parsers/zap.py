"""OWASP ZAP reports: the XML report (``OWASPZAPReport``) and the JSON report (``zap -J``).

One finding per alert on a site; the alert's instances (URL, method, parameter) are where it was
seen, not separate flaws, so ``endpoint`` holds the first instance's URL. Identity is the alert
reference and the site, never the risk: a re-rated alert stays the same finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from defusedxml.ElementTree import iterparse

from detente.findings.parsers.base import (
    DB_INT_MAX,
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_str,
    expect_dict,
    expect_list,
    parse_json_or_xml,
    read_json,
    require,
    skip_record,
)

SCANNER = "zap"

# riskcode: ZAP's own 0-3 scale.
_RISK: dict[str, Severity] = {
    "0": Severity.INFO,
    "1": Severity.LOW,
    "2": Severity.MEDIUM,
    "3": Severity.HIGH,
}
_URL_RE = re.compile(r"https?://.+?(?=https?://|[\s<>\"']|$)")
_TAG_RE = re.compile(r"<[^>]+>")


def detect(head: bytes, name: str) -> int:
    if b"<OWASPZAPReport" in head:
        return 95
    if (
        head.lstrip().startswith(b"{")
        and b'"@version"' in head
        and b'"site"' in head
        and (b'"@programName"' in head or b'"@generated"' in head)
    ):
        return 90
    return 0


def _cwe(value: object) -> int | None:
    text = as_str(value)
    if text is None:
        return None
    try:
        number = int(text)
    except ValueError:
        return None
    # ZAP writes -1 and 0 for "no CWE"
    return number if 0 < number <= DB_INT_MAX else None


def _site_asset(name: str | None, host: str | None, port: str | None, ssl: str | None) -> str:
    if name and "://" in name:
        return name.rstrip("/")
    scheme = "https" if (ssl or "").lower() == "true" else "http"
    default = "443" if scheme == "https" else "80"
    base = f"{scheme}://{host or name or 'unknown'}"
    return base if not port or port == default else f"{base}:{port}"


def _finding(
    alert: Mapping[str, Any],
    instances: Sequence[Mapping[str, Any]],
    *,
    site: tuple[str, str],
    record: str,
) -> ParsedFinding:
    plugin_id = as_str(alert.get("pluginid"))
    if plugin_id is None:
        raise ParseError("required field is missing", record=record, field="pluginid")
    risk = as_str(alert.get("riskcode"))
    if risk is None:
        raise ParseError("severity is missing", record=record, field="riskcode")
    severity = _RISK.get(risk)
    if severity is None:
        raise ParseError(f"unknown severity {risk!r}", record=record, field="riskcode")
    riskdesc = as_str(alert.get("riskdesc"))
    scanner_severity = riskdesc.split(" (", 1)[0] if riskdesc else risk
    alert_ref = as_str(alert.get("alertRef")) or plugin_id
    site_asset, site_key = site
    endpoint = None
    for instance in instances:
        endpoint = as_str(instance.get("uri"))
        if endpoint:
            break
    reference_text = _TAG_RE.sub(" ", as_str(alert.get("reference")) or "")
    cwe = _cwe(alert.get("cweid"))
    title = as_str(alert.get("alert")) or as_str(alert.get("name")) or f"ZAP alert {plugin_id}"
    return ParsedFinding(
        scanner=SCANNER,
        vuln_id=plugin_id,
        title=title,
        severity=severity,
        scanner_severity=scanner_severity,
        record=record,
        identity=(alert_ref, site_key),
        asset_kind="application",
        asset_name=site_asset,
        endpoint=endpoint or site_asset,
        cwe=cwe,
        cwes=(cwe,) if cwe else (),
        description=as_str(alert.get("desc")),
        references=tuple(dict.fromkeys(_URL_RE.findall(reference_text))),
    )


# ---------------------------------------------------------------- XML


def _parse_xml(stream: IO[bytes]) -> Iterator[ParsedFinding]:
    root_seen = False
    site: tuple[str, str] | None = None
    site_index = -1
    alert_index = -1
    for event, elem in iterparse(stream, events=("start", "end"), forbid_dtd=True):
        if not root_seen:
            if elem.tag != "OWASPZAPReport":
                raise ParseError(f"not a ZAP report (root element {elem.tag!r})", record="document")
            root_seen = True
            continue
        if event == "start":
            if elem.tag == "site":
                site_index += 1
                alert_index = -1
                host, port = elem.get("host"), elem.get("port")
                asset = _site_asset(elem.get("name"), host, port, elem.get("ssl"))
                site = (asset, f"{host or asset}:{port or ''}")
            continue
        if elem.tag == "alertitem":
            alert_index += 1
            record = f"site[{site_index}].alerts[{alert_index}]"
            if site is None:
                raise ParseError("alert outside a site", record=record)
            fields = {child.tag: child.text for child in elem if len(child) == 0}
            instances = [{"uri": instance.findtext("uri")} for instance in elem.iter("instance")]
            try:
                finding = _finding(fields, instances, site=site, record=record)
            except ParseError as exc:
                skip_record(exc)
            else:
                yield finding
            elem.clear()
        elif elem.tag == "site":
            site = None
            elem.clear()


# ---------------------------------------------------------------- JSON


def _parse_json(stream: IO[bytes]) -> Iterator[ParsedFinding]:
    document = expect_dict(read_json(stream), record="document")
    sites = require(document, "site", record="document")
    if isinstance(sites, dict):
        sites = [sites]  # older ZAP versions write a single site as an object
    for site_index, raw_site in enumerate(expect_list(sites, record="document", field="site")):
        site_record = f"site[{site_index}]"
        site_obj = expect_dict(raw_site, record=site_record)
        host, port = as_str(site_obj.get("@host")), as_str(site_obj.get("@port"))
        asset = _site_asset(as_str(site_obj.get("@name")), host, port, as_str(site_obj.get("@ssl")))
        site = (asset, f"{host or asset}:{port or ''}")
        alerts = expect_list(site_obj.get("alerts"), record=site_record, field="alerts")
        for alert_index, raw_alert in enumerate(alerts):
            try:
                record = f"{site_record}.alerts[{alert_index}]"
                alert = expect_dict(raw_alert, record=record)
                instances = [
                    expect_dict(instance, record=f"{record}.instances[{i}]")
                    for i, instance in enumerate(
                        expect_list(alert.get("instances"), record=record, field="instances")
                    )
                ]
                yield _finding(alert, instances, site=site, record=record)
            except ParseError as exc:
                skip_record(exc)


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    return parse_json_or_xml(stream, _parse_json, _parse_xml)


PARSER = Parser(
    name="zap", label="OWASP ZAP XML / JSON", detect=detect, parse=parse, scanner=SCANNER
)
