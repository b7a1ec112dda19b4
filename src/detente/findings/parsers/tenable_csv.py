"""Tenable CSV exports: Nessus (``Plugin ID,CVE,CVSS,Risk,Host…``), Tenable.sc (``Plugin,Plugin
Name,Family,Severity…``) and Tenable.io / Tenable VM (``;``-separated ``asset.*``/``definition.*``).

One finding per plugin × host × port × protocol, the same unit as the ``.nessus`` parser: Nessus
writes one CSV row per CVE of an item, so rows of one item are merged and their CVEs collected.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from detente.findings.parsers.base import (
    COMMON_SEVERITIES,
    TENABLE_DIGITS,
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_float,
    as_str,
    cpe_component,
    normalise_cvss_vector,
    parse_cwe,
    severity_from,
    skip_record,
    strip_nuls,
)

if TYPE_CHECKING:
    import _csv

SCANNER = "nessus"

_SEVERITIES: dict[str, Severity] = {**COMMON_SEVERITIES, **TENABLE_DIGITS}

# Column names per field, most specific first; the first present column is used.
_PLUGIN = ("Plugin ID", "Plugin", "definition.id")
_TITLE = ("Name", "Plugin Name", "definition.name")
_SEVERITY = ("Risk", "severity", "Severity", "definition.severity")
_HOST = ("Host", "DNS Name", "IP Address", "asset.host_name", "asset.display_fqdn", "asset.name")
_HOST_FALLBACK = ("IP Address", "asset.display_ipv4_address", "asset.display_ipv6_address")
_PORT = ("Port", "port", "asset.port")
_PROTOCOL = ("Protocol", "protocol")
_CVE = ("CVE", "definition.cve")
_CPE = ("CPE", "definition.cpe")
_CWE = ("CWE", "definition.cwe")
_STATE = ("Vulnerability State", "state")
_V3_VECTOR = ("CVSS V3 Vector", "CVSS3 Vector", "CVSS v3.0 Vector", "definition.cvss3.base_vector")
_V2_VECTOR = ("CVSS V2 Vector", "CVSS Vector", "CVSS v2.0 Vector", "definition.cvss2.base_vector")
_SCORES = (
    "CVSS V3 Base Score",
    "CVSS3 Base Score",
    "CVSS v3.0 Base Score",
    "definition.cvss3.base_score",
    "CVSS V2 Base Score",
    "CVSS Base Score",
    "CVSS v2.0 Base Score",
    "definition.cvss2.base_score",
)
_DESCRIPTION = ("Description", "definition.description", "Synopsis", "definition.synopsis")
_SEE_ALSO = ("See Also", "definition.see_also")

_CVE_RE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)
_FIELD_LIMIT = 64 * 1024 * 1024  # plugin output columns exceed csv's 128 KiB default


def _first_line(head: bytes) -> bytes:
    return head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]


def detect(head: bytes, name: str) -> int:
    line = _first_line(head).replace(b'"', b"")
    cells = set(re.split(rb"[,;]", line.strip()))
    if {b"Plugin ID", b"Name"} <= cells and (b"Risk" in cells or b"Severity" in cells):
        return 90  # Nessus / Tenable VM
    if {b"Plugin", b"Plugin Name", b"Severity"} <= cells:
        return 90  # Tenable.sc
    if {b"definition.id", b"definition.name"} <= cells and b"asset.id" in cells:
        return 90  # Tenable.io
    return 0


@dataclass
class _Columns:
    """Header name → index; blank names dropped, a repeated name keeps its first column."""

    index: dict[str, int]

    @classmethod
    def from_header(cls, header: Sequence[str]) -> _Columns:
        index: dict[str, int] = {}
        for position, raw in enumerate(header):
            key = raw.strip()
            if key and key not in index:
                index[key] = position
        return cls(index)

    def pick(self, names: Sequence[str]) -> int | None:
        for name in names:
            if name in self.index:
                return self.index[name]
        return None

    def get(self, row: Sequence[str], names: Sequence[str]) -> str | None:
        position = self.pick(names)
        if position is None or position >= len(row):
            return None
        return as_str(row[position])

    def first_value(self, row: Sequence[str], names: Sequence[str]) -> str | None:
        """The first non-empty value among ``names`` (not just the first present column)."""
        return self.first_named(row, names)[1]

    def first_named(self, row: Sequence[str], names: Sequence[str]) -> tuple[str, str | None]:
        """``(column, value)`` of the first non-empty value; the first present column if none."""
        for name in names:
            position = self.index.get(name)
            if position is not None and position < len(row):
                value = as_str(row[position])
                if value is not None:
                    return name, value
        present = [name for name in names if name in self.index]
        return (present[0] if present else names[0]), None


@dataclass
class _Item:
    record: str
    row: Sequence[str]
    severity: Severity
    scanner_severity: str
    cves: dict[str, None] = field(default_factory=dict)


def _decode(stream: IO[bytes]) -> str:
    data = stream.read()
    if not data.strip():
        raise ParseError("the file is empty", record="document")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"text is not valid UTF-8 (byte offset {exc.start})", record="document"
        ) from None


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    text = strip_nuls(_decode(stream))
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = _read_header(reader)
    items = _collect(reader, columns)
    for (plugin, host, port, protocol), item in items.items():
        try:
            yield _finding(columns, item, plugin=plugin, host=host, port=port, protocol=protocol)
        except ParseError as exc:
            skip_record(exc)


def _read_header(reader: _csv.Reader) -> _Columns:
    """The header's columns; refused unless it names the plugin, the title and the severity."""
    try:
        header = next(reader)
    except StopIteration:
        raise ParseError("the file is empty", record="document") from None
    except csv.Error as exc:
        raise ParseError(f"not valid CSV ({exc})", record="header") from None
    columns = _Columns.from_header(header)
    for names, what in ((_PLUGIN, "plugin id"), (_TITLE, "name"), (_SEVERITY, "severity")):
        if columns.pick(names) is None:
            raise ParseError(
                f"not a Tenable CSV export: no {what} column ({' / '.join(names)})",
                record="header",
                field=names[0],
            )
    return columns


_Key = tuple[str, str, str, str]  # plugin, host, port, protocol


def _collect(reader: _csv.Reader, columns: _Columns) -> dict[_Key, _Item]:
    """One item per plugin on a host's port: the first row's values, every row's CVEs (exports
    repeat a plugin's row once per CVE). Bad rows are skipped and named."""
    items: dict[_Key, _Item] = {}
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            try:
                _take_row(columns, row, f"row {line}", items)
            except ParseError as exc:
                skip_record(exc)
    except csv.Error as exc:
        raise ParseError(f"not valid CSV ({exc})", record=f"row {line + 1}") from None
    return items


def _take_row(columns: _Columns, row: list[str], record: str, items: dict[_Key, _Item]) -> None:
    if not any(cell.strip() for cell in row):
        return  # trailing blank rows (Tenable.sc pads exports)
    plugin = columns.get(row, _PLUGIN)
    if plugin is None:
        raise ParseError("required field is missing", record=record, field=_PLUGIN[0])
    state = (columns.get(row, _STATE) or "").lower()
    if state == "fixed":
        return  # a fixed item is absent from the scan: re-import closes it
    host = columns.first_value(row, _HOST) or columns.first_value(row, _HOST_FALLBACK)
    if host is None:
        raise ParseError("required field is missing", record=record, field=_HOST[0])
    port = columns.get(row, _PORT) or "0"
    protocol = (columns.get(row, _PROTOCOL) or "tcp").lower()
    key = (plugin, host, port, protocol)
    item = items.get(key)
    if item is None:
        column, raw = columns.first_named(row, _SEVERITY)
        severity = severity_from(raw, _SEVERITIES, record=record, field=column)
        item = _Item(record=record, row=row, severity=severity, scanner_severity=raw or "")
        items[key] = item
    for match in _CVE_RE.findall(columns.get(row, _CVE) or ""):
        item.cves.setdefault(match.upper(), None)


def _finding(
    columns: _Columns, item: _Item, *, plugin: str, host: str, port: str, protocol: str
) -> ParsedFinding:
    row, record = item.row, item.record
    v3 = normalise_cvss_vector(columns.first_value(row, _V3_VECTOR))
    if v3 is not None and not v3.startswith("CVSS:"):
        v3 = "CVSS:3.0/" + v3
    vector = v3 or normalise_cvss_vector(columns.first_value(row, _V2_VECTOR))
    score = None
    for name in _SCORES:
        score = as_float(columns.get(row, (name,)), record=record, field=name)
        if score is not None:
            break
    if score is not None and not 0.0 <= score <= 10.0:
        score = None  # some exports write 50 for 5.0; not a CVSS score
    component, version = cpe_component(columns.get(row, _CPE))
    cwe = parse_cwe(columns.get(row, _CWE))
    return ParsedFinding(
        scanner=SCANNER,
        vuln_id=plugin,
        title=columns.get(row, _TITLE) or f"Plugin {plugin}",
        severity=item.severity,
        scanner_severity=item.scanner_severity,
        record=record,
        identity=(plugin, port, protocol),
        aliases=tuple(item.cves),
        asset_kind="application" if "://" in host else "host",
        asset_name=host,
        component=component,
        component_version=version,
        endpoint=host if "://" in host else f"{host}:{port}/{protocol}",
        cwe=cwe,
        cwes=(cwe,) if cwe else (),
        cvss_vector=vector,
        cvss_score=score,
        description=columns.first_value(row, _DESCRIPTION),
        references=tuple((columns.get(row, _SEE_ALSO) or "").split()),
    )


PARSER = Parser(
    name="tenable-csv", label="Tenable / Nessus CSV", detect=detect, parse=parse, scanner=SCANNER
)
