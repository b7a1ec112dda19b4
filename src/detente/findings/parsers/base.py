"""The parser contract: what every scanner parser yields, and the helpers they share.

A parser is a module exposing ``PARSER = Parser(...)``: a name, a ``detect`` function that scores
the first bytes of a file, and a ``parse`` function from a binary stream to an iterator of
``ParsedFinding``. Parsers never touch the database and never fetch anything.
"""

from __future__ import annotations

import enum
import json
import mmap
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import msgspec
from defusedxml import DefusedXmlException

from detente.core.errors import InputError

HEAD_BYTES = 64 * 1024
_CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)


class Severity(enum.StrEnum):
    """One normalised scale; the tool's own word is always kept beside it."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class ParseError(InputError):
    """A file that a parser cannot read: names the record and the field."""


class ParsedFinding(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """One vulnerability (weakness, secret, misconfiguration) on one asset, as a tool reported it.

    ``identity`` holds what identifies the flaw on its asset: ids, component, location. It never
    holds volatile text (titles, descriptions, severities, timestamps), so a re-import of the same
    scan yields the same identity and nothing flips closed and open.

    A frozen msgspec Struct rather than a dataclass: a million of them are built per large import,
    and the Struct is built about a third faster and is not tracked by the garbage collector.
    """

    scanner: str
    vuln_id: str
    title: str
    severity: Severity
    scanner_severity: str
    record: str
    identity: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    asset_kind: str | None = None
    asset_name: str | None = None
    component: str | None = None
    component_version: str | None = None
    fixed_in: str | None = None
    purl: str | None = None
    file_path: str | None = None
    line: int | None = None
    endpoint: str | None = None
    cwe: int | None = None
    cwes: tuple[int, ...] = ()
    cvss_vector: str | None = None
    cvss_score: float | None = None
    description: str | None = None
    references: tuple[str, ...] = ()
    unique_id_from_tool: str | None = None
    suppressed: bool = False
    vex_state: str | None = None

    @property
    def cves(self) -> tuple[str, ...]:
        """Every CVE id among the primary id and the aliases, primary first, no repeats."""
        seen: dict[str, None] = {}
        for ident in (self.vuln_id, *self.aliases):
            if _CVE_ID.match(ident):
                seen.setdefault(ident.upper(), None)
        return tuple(seen)

    @property
    def cve(self) -> str | None:
        cves = self.cves
        return cves[0] if cves else None


ParseFn = Callable[[IO[bytes], str], Iterator[ParsedFinding]]
DetectFn = Callable[[bytes, str], int]


@dataclass(frozen=True, slots=True)
class Parser:
    """A registered format. ``detect`` returns a confidence 0-100 from the file's first bytes.

    ``scanner``: the scanner every finding of the format names, when the format fixes it (a
    clean scan of the format then closes that scanner's findings); "" when the document says.
    """

    name: str
    label: str
    detect: DetectFn
    parse: ParseFn
    scanner: str = ""


# ---------------------------------------------------------------- what a parse noticed
#
# A parse in ``registry.parse_stream(..., trailer=True)`` collects, beside its findings, what the
# report's reader should know: records skipped (with the reason), placeholder values emptied,
# values dropped, NUL characters stripped, and the scopes (scanner x asset) the document covers
# even where it reported nothing (a clean scan). They follow the findings as *trailer* items:
# ParsedFindings with an empty identity and ``vuln_id == TRAILER``, so the importer tells them
# apart once per chunk (its last item), never per finding.

TRAILER = "\x00trailer"
SCOPE = "scope"  # kinds of trailer item (ParsedFinding.scanner_severity)
SKIPPED = "skipped"
EMPTIED = "emptied"
DROPPED = "dropped"
STRIPPED = "stripped"
META = "meta"
PLACEHOLDERS = frozenset({"n/a", "na", "-", "--", "null", "none", "nil", "unknown", "?"})


@dataclass(slots=True)
class Notes:
    """What one parse noticed (see above)."""

    scopes: dict[tuple[str, str | None, str | None], None]
    items: list[tuple[str, str, str, str]]  # kind, record, field, message
    nul: int = 0

    def trailer(self) -> list[ParsedFinding]:
        out = [
            ParsedFinding(
                scanner=scanner, vuln_id=TRAILER, title="", severity=Severity.INFO,
                scanner_severity=SCOPE, record="document", identity=(), asset_kind=kind,
                asset_name=name,
            )
            for scanner, kind, name in self.scopes
        ]  # fmt: skip
        items = list(self.items)
        if self.nul:
            items.append((STRIPPED, "document", "", f"{self.nul} NUL character(s) stripped"))
        out.extend(
            ParsedFinding(
                scanner="", vuln_id=TRAILER, title=message, severity=Severity.INFO,
                scanner_severity=kind, record=record, identity=(), component=field,
            )
            for kind, record, field, message in items
        )  # fmt: skip
        return out


_NOTES: list[Notes] = []


def current_notes() -> Notes | None:
    """The notes of the parse running in this process, if it keeps any."""
    return _NOTES[-1] if _NOTES else None


def push_notes() -> Notes:
    notes = Notes(scopes={}, items=[])
    _NOTES.append(notes)
    return notes


def pop_notes(notes: Notes) -> None:
    if notes in _NOTES:
        _NOTES.remove(notes)


def skip_record(exc: ParseError) -> None:
    """A record that cannot be a finding: skipped and named when the parse keeps notes, else
    (a parser called on its own, a document-level error) raised as before."""
    notes = current_notes()
    if notes is None or not exc.record or exc.record == "document":
        raise exc
    notes.items.append((SKIPPED, exc.record, exc.field or "", exc.message))


def note(kind: str, record: str, field: str, message: str) -> None:
    notes = current_notes()
    if notes is not None:
        notes.items.append((kind, record, field, message))


def declare_scope(scanner: str, asset_kind: str | None, asset_name: str | None) -> None:
    """The document covers this scanner on this asset, findings or not (a clean scan)."""
    notes = current_notes()
    if notes is not None and scanner:
        notes.scopes[(scanner, asset_kind, asset_name)] = None


def is_placeholder(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() in PLACEHOLDERS


def emptied(value: object, *, record: str, field: str) -> bool:
    """True (and noted) when ``value`` is a placeholder such as "N/A" or "-" for an optional
    field: the field is then empty."""
    if is_placeholder(value):
        note(EMPTIED, record, field, f"placeholder {str(value).strip()!r} emptied")
        return True
    return False


# A NUL can only be in JSON text as this escape; the pattern below tells it from an escaped
# backslash followed by "u0000" (text).
NUL_ESCAPE = b"\\u0000"
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def strip_json_nuls(data: bytes | mmap.mmap) -> bytes:
    """JSON text without its ``\\u0000`` escapes (the only way a NUL is in JSON), counted in the
    parse's notes. Callers test ``b"\\\\u0000" in data`` first: a search, not a copy."""
    count = 0

    def keep_backslashes(match: re.Match[bytes]) -> bytes:
        nonlocal count
        count += 1
        return match.group(1)

    cleaned = _NUL_ESCAPE.sub(keep_backslashes, data)
    notes = current_notes()
    if notes is not None:
        notes.nul += count
    return cleaned


def strip_nuls(text: str) -> str:
    """Text without NUL characters, counted in the parse's notes (for CSV and other text)."""
    count = text.count("\x00")
    if not count:
        return text
    notes = current_notes()
    if notes is not None:
        notes.nul += count
    return text.replace("\x00", "")


# ---------------------------------------------------------------- helpers shared by parsers


def read_json(stream: IO[bytes]) -> Any:
    """Decode a whole JSON document (msgspec: fast, strict UTF-8)."""
    data = stream.read()
    if not data.strip():
        raise ParseError("the file is empty", record="document")
    if NUL_ESCAPE in data:
        data = strip_json_nuls(data)
    try:
        decoded = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise ParseError(f"not valid JSON ({exc})", record="document") from None
    except RecursionError:
        raise ParseError("JSON nested too deeply", record="document") from None
    if len(data) <= DUPLICATE_CHECK_BYTES and current_notes() is not None:
        note_duplicate_keys(data)
    return decoded


# JSON documents up to this size, of every format but Trivy, are searched for duplicate keys
# (msgspec keeps the last value silently). The search decodes the document a second time with the
# standard library, 1-2 times the cost of the parse itself (bench/intake_checks.py); where that
# is not worth it is written in docs/formats.md ("Duplicate keys").
DUPLICATE_CHECK_BYTES = 16 * 2**20
DUPLICATE = "duplicate"


def note_duplicate_keys(data: bytes) -> None:
    """Note each key that appears twice in one object: the last value is the one kept."""
    found: dict[str, int] = {}

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(items) > 1:
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    found[key] = found.get(key, 0) + 1
                seen.add(key)
        return dict(items)

    try:
        json.loads(data, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return  # msgspec read it; what the standard library refuses is not ours to judge
    for key, count in found.items():
        times = "once" if count == 1 else f"{count} times"
        note(DUPLICATE, "document", key, f"duplicate key {key!r} ({times}): the last value kept")


def severity_from(
    value: object,
    mapping: Mapping[str, Severity],
    *,
    record: str,
    field: str,
    default: Severity | None = None,
) -> Severity:
    """Map a tool's severity word (case-insensitive) to ours; unknown words are refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not None:
            return default
        raise ParseError("severity is missing", record=record, field=field)
    key = str(value).strip().lower()
    try:
        return mapping[key]
    except KeyError:
        if default is not None and key in ("", "none", "unknown"):
            return default
        raise ParseError(f"unknown severity {value!r}", record=record, field=field) from None


COMMON_SEVERITIES: Mapping[str, Severity] = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "low": Severity.LOW,
    "info": Severity.INFO,
    "informational": Severity.INFO,
    "information": Severity.INFO,
    "negligible": Severity.INFO,
    "none": Severity.INFO,
    "unknown": Severity.INFO,
}


def severity_from_score(score: float) -> Severity:
    """CVSS v3/v4 qualitative bands (0.0 none → info)."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


_CWE_RE = re.compile(r"(?:CWE[-_ ]?)?(\d{1,5})\s*$", re.IGNORECASE)


# The largest number an integer column (line, CWE) takes on every supported database.
DB_INT_MAX = 2**31 - 1


def parse_cwe(value: object) -> int | None:
    """``"CWE-79"``, ``"79"``, ``79`` → 79; empty, zero, negative, out of range or unparsable
    → None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= DB_INT_MAX else None
    match = _CWE_RE.match(str(value).strip())
    if not match:
        return None
    number = int(match.group(1))
    return number or None


def normalise_cvss_vector(vector: object) -> str | None:
    """Put a vector in its canonical prefix form; tools drop or mangle prefixes.

    Nessus writes ``CVSS2#AV:N/...`` and v3 vectors without ``CVSS:3.x/``; some libraries drop the
    prefix too. A bare vector with v3 metrics (``S:``/``UI:``) is taken as v3.1; with ``Au:`` as v2.
    """
    if not isinstance(vector, str):
        return None
    text = vector.strip()
    if not text:
        return None
    if text.upper().startswith("CVSS2#"):
        text = text[6:]
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    if text.startswith(("CVSS:3.0/", "CVSS:3.1/", "CVSS:4.0/")):
        return text
    if "/S:" in text and "/UI:" in text and "AV:" in text:
        return "CVSS:3.1/" + text
    return text


def as_str(value: object) -> str | None:
    """A non-empty, stripped string, or None."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def as_int(value: object, *, record: str, field: str) -> int | None:
    if value is None or value == "" or emptied(value, record=record, field=field):
        return None
    if isinstance(value, bool):
        raise ParseError(f"expected a number, got {value!r}", record=record, field=field)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ParseError(
            f"expected a whole number, got {value!r}", record=record, field=field
        ) from None


def line_number(value: int | None, *, record: str, field: str) -> int | None:
    """A line number the database takes: 0 (no line) → None; negative or beyond ``DB_INT_MAX``
    → None, noted as dropped (the finding stays)."""
    if value is None or value == 0:
        return None
    if 0 < value <= DB_INT_MAX:
        return value
    note(DROPPED, record, field, f"line {value} is out of range (1 to {DB_INT_MAX}): dropped")
    return None


def as_line(value: object, *, record: str, field: str) -> int | None:
    """``as_int`` for a line number (see ``line_number``)."""
    return line_number(as_int(value, record=record, field=field), record=record, field=field)


def as_float(value: object, *, record: str, field: str) -> float | None:
    if value is None or value == "" or emptied(value, record=record, field=field):
        return None
    if isinstance(value, bool):
        raise ParseError(f"expected a number, got {value!r}", record=record, field=field)
    try:
        return float(str(value).strip())
    except ValueError:
        raise ParseError(f"expected a number, got {value!r}", record=record, field=field) from None


def require(mapping: Mapping[str, Any], key: str, *, record: str) -> Any:
    """``mapping[key]`` or a ParseError naming the record and the field."""
    if not isinstance(mapping, Mapping):
        raise ParseError("expected an object", record=record)
    if key not in mapping or mapping[key] is None:
        raise ParseError("required field is missing", record=record, field=key)
    return mapping[key]


def expect_list(value: object, *, record: str, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError("expected a list", record=record, field=field)
    return value


def expect_dict(value: object, *, record: str, field: str | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError("expected an object", record=record, field=field)
    return value


def head_has(head: bytes, *needles: bytes) -> bool:
    return all(needle in head for needle in needles)


# Tenable's own 0-4 scale (Nessus ReportItem@severity, the CSV exports' digits).
TENABLE_DIGITS: Mapping[str, Severity] = {
    "0": Severity.INFO,
    "1": Severity.LOW,
    "2": Severity.MEDIUM,
    "3": Severity.HIGH,
    "4": Severity.CRITICAL,
}


def parse_json_or_xml(
    stream: IO[bytes],
    parse_json: Callable[[IO[bytes]], Iterator[ParsedFinding]],
    parse_xml: Callable[[IO[bytes]], Iterator[ParsedFinding]],
) -> Iterator[ParsedFinding]:
    """For formats that come as JSON or XML: pick by the first byte, and turn defusedxml's
    refusals and malformed XML into a ParseError on the document."""
    head = stream.read(4096)
    stream.seek(0)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        yield from parse_json(stream)
        return
    try:
        yield from parse_xml(stream)
    except DefusedXmlException as exc:
        raise ParseError(
            f"XML refused for safety ({type(exc).__name__})", record="document"
        ) from None
    except ET.ParseError as exc:
        raise ParseError(f"not well-formed XML ({exc})", record="document") from None


def cpe_component(text: str | None) -> tuple[str | None, str | None]:
    """Product and version from the first CPE (2.2 ``cpe:/a:vendor:product:version`` or 2.3)."""
    if not text:
        return None, None
    first = text.split()[0]
    if first.startswith("cpe:2.3:"):
        parts = first.split(":")[3:]
    elif first.startswith("cpe:/"):
        parts = first[5:].split(":")[1:]
    else:
        return None, None
    product = parts[1] if len(parts) > 1 and parts[1] not in ("", "*", "-") else None
    version = parts[2] if len(parts) > 2 and parts[2] not in ("", "*", "-") else None
    return product, version
