"""Our generic findings format, CSV or JSON, for tools we have no parser for.

Compatible with DefectDojo's "Generic Findings Import" files; the full specification (columns, keys,
severities, dates, examples) is docs/formats/deps.md. Strict on purpose: unknown JSON keys and
unknown CSV columns are refused (a typo would otherwise silently drop data), and so are two
records that share a ``unique_id_from_tool`` but differ.

Every file is validated completely before the first finding is yielded.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator, Mapping
from typing import IO, Any

import msgspec

from detente.findings.parsers.base import (
    META,
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_float,
    as_int,
    as_line,
    as_str,
    declare_scope,
    emptied,
    expect_dict,
    expect_list,
    normalise_cvss_vector,
    note,
    parse_cwe,
    read_json,
    require,
    severity_from,
    skip_record,
    strip_nuls,
)

DEFAULT_SCANNER = "generic"
SEVERITIES: Mapping[str, Severity] = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "info": Severity.INFO,
    "informational": Severity.INFO,
}
ASSET_KINDS = frozenset(
    {"image", "host", "repository", "application", "api", "cloud", "workload", "package"}
)

TOP_KEYS = frozenset(
    {"name", "type", "version", "description", "dynamic_tool", "static_tool", "soc", "findings"}
)
# DefectDojo's allowed finding keys, plus our "asset" extension.
FINDING_KEYS = frozenset(
    {
        "title", "severity", "description", "date", "cwe", "cwes", "cve", "vulnerability_ids",
        "epss_score", "epss_percentile", "cvssv3", "cvssv3_score", "cvssv4", "cvssv4_score",
        "mitigation", "impact", "steps_to_reproduce", "severity_justification", "references",
        "active", "verified", "false_p", "out_of_scope", "risk_accepted", "under_review",
        "is_mitigated", "thread_id", "mitigated", "numerical_severity", "param", "payload", "line",
        "file_path", "component_name", "component_version", "static_finding", "dynamic_finding",
        "scanner_confidence", "unique_id_from_tool", "vuln_id_from_tool", "sast_source_object",
        "sast_sink_object", "sast_source_line", "sast_source_file_path", "nb_occurences",
        "publish_date", "service", "planned_remediation_date", "planned_remediation_version",
        "effort_for_fixing", "tags", "kev_date", "known_exploited", "ransomware_used",
        "fix_available", "fix_version", "endpoints", "files", "asset",
    }
)  # fmt: skip
_BOOL_KEYS = (
    "active", "verified", "false_p", "out_of_scope", "risk_accepted", "under_review",
    "is_mitigated", "static_finding", "dynamic_finding", "known_exploited", "ransomware_used",
    "fix_available",
)  # fmt: skip
_DATE_KEYS = ("date", "mitigated", "publish_date", "kev_date", "planned_remediation_date")
_ENDPOINT_KEYS = frozenset({"protocol", "userinfo", "host", "port", "path", "query", "fragment"})

# CSV columns: matched case-insensitively, ignoring spaces and underscores.
CSV_COLUMNS: Mapping[str, str] = {
    key.replace(" ", "").replace("_", "").lower(): key
    for key in (
        "Date", "Title", "CweId", "CweIds", "Url", "Severity", "Description", "Mitigation",
        "Impact", "References", "Active", "Verified", "FalsePositive", "Duplicate",
        "IsMitigated", "MitigatedDate", "CVE", "Vulnerability Id", "CVSSV3", "CVSSV3_score",
        "CVSSV4", "CVSSV4_score", "epss_score", "epss_percentile", "kev_date", "known_exploited",
        "ransomware_used", "fix_available", "fix_version", "Component Name", "Component Version",
        "File Path", "Line", "Unique Id From Tool", "Vuln Id From Tool", "Asset Kind",
        "Asset Name",
    )
}  # fmt: skip
_CSV_BOOLS = (
    "Active", "Verified", "FalsePositive", "Duplicate", "IsMitigated", "known_exploited",
    "ransomware_used", "fix_available",
)  # fmt: skip
_CSV_DATES = ("Date", "MitigatedDate", "kev_date")

_JSON_HEAD = re.compile(rb'"findings"\s*:\s*\[')
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ID_SPLIT = re.compile(r"[,\s]+")
_URL_RE = re.compile(r"https?://[^\s)\]>\"']+")
_BOM = b"\xef\xbb\xbf"


# ---------------------------------------------------------------- detection


def detect(head: bytes, name: str) -> int:
    """Low confidence on purpose: any real format's own parser wins over this one."""
    text = head.removeprefix(_BOM)
    if text.lstrip().startswith(b"{"):
        return 10 if _JSON_HEAD.search(text) else 0
    first = text.split(b"\n", 1)[0].strip()
    try:
        header = next(csv.reader([first.decode("utf-8")]))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return 0
    keys = [_column_key(cell) for cell in header]
    if "title" in keys and "severity" in keys and all(k in CSV_COLUMNS for k in keys):
        return 40
    return 0


# ---------------------------------------------------------------- entry point


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    data = stream.read().removeprefix(_BOM)
    if data.lstrip().startswith(b"{"):
        findings = _parse_json(read_json(io.BytesIO(data)))
    else:
        findings = _parse_csv(data)
    _check_unique_ids(findings)
    for _, finding in findings:
        yield finding


def _check_unique_ids(findings: list[tuple[object, ParsedFinding]]) -> None:
    """Two records with one ``unique_id_from_tool`` must be the same record (else: ambiguous)."""
    seen: dict[str, tuple[object, str]] = {}
    for raw, finding in findings:
        uid = finding.unique_id_from_tool
        if uid is None:
            continue
        source = finding.record.split(".endpoints[")[0]
        if uid not in seen:
            seen[uid] = (raw, source)
            continue
        first_raw, first_source = seen[uid]
        if first_raw != raw:
            raise ParseError(
                f"duplicated entries: {first_source} and {source} share unique_id_from_tool "
                f"{uid!r} but differ",
                record=source,
                field="unique_id_from_tool",
            )


# ---------------------------------------------------------------- JSON


def _parse_json(data: object) -> list[tuple[object, ParsedFinding]]:
    document = expect_dict(data, record="document")
    for key in sorted(set(document) - TOP_KEYS):
        # a report's own title, date, description…: kept as the import's metadata
        value = document[key]
        text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
        note(META, "document", str(key)[:100], text[:2000])
    scanner = _scanner(document)
    if any(as_str(document.get(key)) for key in ("type", "name")):
        declare_scope(scanner, None, None)
    items = expect_list(
        require(document, "findings", record="document"), record="document", field="findings"
    )
    out: list[tuple[object, ParsedFinding]] = []
    for index, raw in enumerate(items):
        record = f"findings[{index}]"
        try:
            item = expect_dict(raw, record=record)
            out.extend((item, finding) for finding in _json_finding(item, record, scanner))
        except ParseError as exc:
            skip_record(exc)
    return out


def _scanner(document: dict[str, Any]) -> str:
    for key in ("type", "name"):
        value = document.get(key)
        if value is not None and not isinstance(value, str):
            raise ParseError("expected a string", record="document", field=key)
        text = as_str(value)
        if text:
            return text.lower()
    return DEFAULT_SCANNER


def _json_finding(item: dict[str, Any], record: str, scanner: str) -> list[ParsedFinding]:
    unknown = sorted(set(item) - FINDING_KEYS)
    if unknown:
        raise ParseError(
            f"unknown fields: {', '.join(unknown)} (see docs/formats/deps.md)",
            record=record,
            field=unknown[0],
        )
    title = _text(require(item, "title", record=record), record, "title")
    if title is None:
        raise ParseError("required field is empty", record=record, field="title")
    word = require(item, "severity", record=record)
    if not isinstance(word, str):
        raise ParseError("expected a string", record=record, field="severity")
    severity = severity_from(word, SEVERITIES, record=record, field="severity")
    for key in _BOOL_KEYS:
        if item.get(key) is not None and not isinstance(item[key], bool):
            raise ParseError("expected true or false", record=record, field=key)
    for key in _DATE_KEYS:
        _date(item.get(key), record, key)

    ids = [_text(item.get("cve"), record, "cve")]
    ids += [
        _text(value, record, "vulnerability_ids")
        for value in expect_list(
            item.get("vulnerability_ids"), record=record, field="vulnerability_ids"
        )
    ]
    cwes = [_cwe(item.get("cwe"), record, "cwe")]
    cwes += [
        _cwe(v, record, "cwes") for v in expect_list(item.get("cwes"), record=record, field="cwes")
    ]
    for tag in expect_list(item.get("tags"), record=record, field="tags"):
        if not isinstance(tag, str):
            raise ParseError("expected a list of strings", record=record, field="tags")
    expect_list(item.get("files"), record=record, field="files")

    asset_kind, asset_name = _asset(item.get("asset"), record)
    endpoints = [
        _endpoint(value, f"{record}.endpoints[{n}]")
        for n, value in enumerate(
            expect_list(item.get("endpoints"), record=record, field="endpoints")
        )
    ]
    vector = normalise_cvss_vector(
        _text(item.get("cvssv3"), record, "cvssv3")
    ) or normalise_cvss_vector(_text(item.get("cvssv4"), record, "cvssv4"))
    score = as_float(item.get("cvssv3_score"), record=record, field="cvssv3_score")
    if score is None:
        score = as_float(item.get("cvssv4_score"), record=record, field="cvssv4_score")
    references = _text(item.get("references"), record, "references")
    fields = {
        "scanner": scanner,
        "title": title,
        "severity": severity,
        "scanner_severity": word,
        "ids": ids,
        "vuln_id_from_tool": _text(item.get("vuln_id_from_tool"), record, "vuln_id_from_tool"),
        "unique_id_from_tool": _text(
            item.get("unique_id_from_tool"), record, "unique_id_from_tool"
        ),
        "cwes": cwes,
        "component": _text(item.get("component_name"), record, "component_name"),
        "component_version": _text(item.get("component_version"), record, "component_version"),
        "fixed_in": _text(item.get("fix_version"), record, "fix_version"),
        "file_path": _text(item.get("file_path"), record, "file_path"),
        "line": as_line(item.get("line"), record=record, field="line"),
        "cvss_vector": vector,
        "cvss_score": score,
        "description": _text(item.get("description"), record, "description"),
        "references": tuple(_URL_RE.findall(references)) if references else (),
        "suppressed": item.get("false_p") is True,
        "asset_kind": asset_kind,
        "asset_name": asset_name,
    }
    if not endpoints:
        return [_finding(record, None, fields)]
    return [_finding(f"{record}.endpoints[{n}]", ep, fields) for n, ep in enumerate(endpoints)]


def _asset(value: object, record: str) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    asset = expect_dict(value, record=record, field="asset")
    unknown = sorted(set(asset) - {"kind", "name"})
    if unknown:
        raise ParseError(f"unknown fields: {', '.join(unknown)}", record=record, field="asset")
    kind = _text(require(asset, "kind", record=f"{record}.asset"), record, "asset.kind")
    name = _text(require(asset, "name", record=f"{record}.asset"), record, "asset.name")
    if kind not in ASSET_KINDS:
        raise ParseError(
            f"unknown asset kind {kind!r} (one of {', '.join(sorted(ASSET_KINDS))})",
            record=record,
            field="asset.kind",
        )
    if name is None:
        raise ParseError("required field is empty", record=record, field="asset.name")
    return kind, name


def _endpoint(value: object, record: str) -> str:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ParseError("empty endpoint", record=record)
        return text
    endpoint = expect_dict(value, record=record)
    unknown = sorted(set(endpoint) - _ENDPOINT_KEYS)
    if unknown:
        raise ParseError(
            f"unknown endpoint fields: {', '.join(unknown)}", record=record, field=unknown[0]
        )
    parts = {key: _text(endpoint.get(key), record, key) for key in _ENDPOINT_KEYS - {"port"}}
    host = parts["host"]
    if host is None:
        raise ParseError("required field is missing", record=record, field="host")
    port = as_int(endpoint.get("port"), record=record, field="port")
    url = f"{parts['protocol']}://" if parts["protocol"] else ""
    url += f"{parts['userinfo']}@" if parts["userinfo"] else ""
    url += host + (f":{port}" if port is not None else "")
    path = parts["path"]
    if path:
        url += path if path.startswith("/") else "/" + path
    url += f"?{parts['query']}" if parts["query"] else ""
    url += f"#{parts['fragment']}" if parts["fragment"] else ""
    return url


# ---------------------------------------------------------------- CSV


def _column_key(cell: str) -> str:
    return cell.strip().replace(" ", "").replace("_", "").lower()


def _parse_csv(data: bytes) -> list[tuple[object, ParsedFinding]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"text is not valid UTF-8 (byte offset {exc.start})", record="document"
        ) from None
    text = strip_nuls(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",", quotechar='"', strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ParseError("the file is empty", record="document") from None
    except csv.Error as exc:
        raise ParseError(f"not valid CSV ({exc})", record="line 1") from None
    columns: list[str] = []
    for cell in header:
        key = _column_key(cell)
        if key not in CSV_COLUMNS:
            raise ParseError(
                "unknown column (see docs/formats/deps.md)", record="line 1", field=cell.strip()
            )
        if CSV_COLUMNS[key] in columns:
            raise ParseError("duplicated column", record="line 1", field=cell.strip())
        columns.append(CSV_COLUMNS[key])
    for needed in ("Title", "Severity"):
        if needed not in columns:
            raise ParseError("required column is missing", record="line 1", field=needed)

    out: list[tuple[object, ParsedFinding]] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ParseError(f"not valid CSV ({exc})", record=f"line {reader.line_num}") from None
        record = f"line {reader.line_num}"
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            skip_record(ParseError(f"{len(cells)} cells for {len(columns)} columns", record=record))
            continue
        row = dict(zip(columns, cells, strict=True))
        try:
            out.append((row, _csv_finding(row, record)))
        except ParseError as exc:
            skip_record(exc)
    return out


def _csv_finding(row: dict[str, str], record: str) -> ParsedFinding:
    def cell(column: str) -> str | None:
        return as_str(row.get(column))

    title = cell("Title")
    if title is None:
        raise ParseError("required field is empty", record=record, field="Title")
    word = row["Severity"].strip()
    # An empty severity is Info (DefectDojo behaviour; generic/generic_report4.csv).
    severity = severity_from(
        word, SEVERITIES, record=record, field="Severity", default=Severity.INFO
    )
    flags = {column: _bool(row.get(column), record, column) for column in _CSV_BOOLS}
    for column in _CSV_DATES:
        _date(cell(column), record, column)
    ids: list[str | None] = [cell("CVE")]
    ids += _ID_SPLIT.split(cell("Vulnerability Id") or "")
    cwes = [_cwe(cell("CweId"), record, "CweId")]
    cwes += [_cwe(v, record, "CweIds") for v in _ID_SPLIT.split(cell("CweIds") or "") if v]
    kind, name = cell("Asset Kind"), cell("Asset Name")
    if (kind is None) != (name is None):
        raise ParseError("Asset Kind and Asset Name go together", record=record, field="Asset Kind")
    if kind is not None and kind not in ASSET_KINDS:
        raise ParseError(f"unknown asset kind {kind!r}", record=record, field="Asset Kind")
    vector = normalise_cvss_vector(cell("CVSSV3")) or normalise_cvss_vector(cell("CVSSV4"))
    score = as_float(cell("CVSSV3_score"), record=record, field="CVSSV3_score")
    if score is None:
        score = as_float(cell("CVSSV4_score"), record=record, field="CVSSV4_score")
    as_float(cell("epss_score"), record=record, field="epss_score")
    as_float(cell("epss_percentile"), record=record, field="epss_percentile")
    references = cell("References")
    fields = {
        "scanner": DEFAULT_SCANNER,
        "title": title,
        "severity": severity,
        "scanner_severity": word,
        "ids": ids,
        "vuln_id_from_tool": cell("Vuln Id From Tool"),
        "unique_id_from_tool": cell("Unique Id From Tool"),
        "cwes": cwes,
        "component": cell("Component Name"),
        "component_version": cell("Component Version"),
        "fixed_in": cell("fix_version"),
        "file_path": cell("File Path"),
        "line": as_line(cell("Line"), record=record, field="Line"),
        "cvss_vector": vector,
        "cvss_score": score,
        "description": cell("Description"),
        "references": tuple(_URL_RE.findall(references)) if references else (),
        "suppressed": flags["FalsePositive"] is True,
        "asset_kind": kind,
        "asset_name": name,
    }
    return _finding(record, cell("Url"), fields)


# ---------------------------------------------------------------- shared


def _finding(record: str, endpoint: str | None, f: dict[str, Any]) -> ParsedFinding:
    ids = [i for i in dict.fromkeys(f["ids"]) if i]
    cves = [i.upper() for i in ids if i.upper().startswith("CVE-")]
    others = [i for i in ids if not i.upper().startswith("CVE-")]
    # The title is the id of last resort: in this format nothing else may name the flaw.
    vuln_id: str = f["vuln_id_from_tool"] or (cves + others + [f["title"]])[0]
    aliases = tuple(i for i in dict.fromkeys(cves + others) if i != vuln_id)
    cwes = tuple(dict.fromkeys(c for c in f["cwes"] if c))
    uid: str | None = f["unique_id_from_tool"]
    if uid is not None:
        identity: tuple[str, ...] = ("uid", uid, endpoint or "")
    else:
        line = f["line"]
        identity = (
            vuln_id,
            f["component"] or "",
            f["file_path"] or "",
            "" if line is None else str(line),
            endpoint or "",
        )
    return ParsedFinding(
        scanner=f["scanner"],
        vuln_id=vuln_id,
        title=f["title"],
        severity=f["severity"],
        scanner_severity=f["scanner_severity"],
        record=record,
        identity=identity,
        aliases=aliases,
        asset_kind=f["asset_kind"],
        asset_name=f["asset_name"],
        component=f["component"],
        component_version=f["component_version"],
        fixed_in=f["fixed_in"],
        file_path=f["file_path"],
        line=f["line"],
        endpoint=endpoint,
        cwe=cwes[0] if cwes else None,
        cwes=cwes,
        cvss_vector=f["cvss_vector"],
        cvss_score=f["cvss_score"],
        description=f["description"],
        references=f["references"],
        unique_id_from_tool=uid,
        suppressed=f["suppressed"],
    )


def _text(value: object, record: str, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError("expected a string", record=record, field=field)
    return value.strip() or None


def _cwe(value: object, record: str, field: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if emptied(value, record=record, field=field):
        return None
    number = parse_cwe(value)
    if number is None and str(value).strip() != "0":
        raise ParseError(f"not a CWE id: {value!r}", record=record, field=field)
    return number


def _bool(value: str | None, record: str, field: str) -> bool | None:
    text = (value or "").strip().lower()
    if not text:
        return None
    if text in ("true", "t", "yes", "y", "1"):
        return True
    if text in ("false", "f", "no", "n", "0"):
        return False
    raise ParseError(f"expected TRUE or FALSE, got {value!r}", record=record, field=field)


def _date(value: object, record: str, field: str) -> dt.date | None:
    """ISO 8601 (date or date-time), DD/MM/YYYY or MM/DD/YYYY (month first when ambiguous)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError("expected a date string", record=record, field=field)
    text = value.strip()
    if not text:
        return None
    match = _SLASH_DATE.match(text)
    try:
        if match:
            first, second, year = (int(g) for g in match.groups())
            month, day = (second, first) if first > 12 else (first, second)
            return dt.date(year, month, day)
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        raise ParseError(
            f"unreadable date {value!r} (use YYYY-MM-DD, DD/MM/YYYY or MM/DD/YYYY)",
            record=record,
            field=field,
        ) from None


PARSER = Parser(name="generic", label="generic findings CSV/JSON", detect=detect, parse=parse)
