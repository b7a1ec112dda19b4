"""Pure readers for the intelligence feeds: bytes in, typed records out. No database."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from detente.core.errors import InputError


@dataclass(frozen=True, slots=True)
class KevRecord:
    cve_id: str
    vendor_project: str
    product: str
    vulnerability_name: str
    date_added: dt.date
    due_date: dt.date | None
    known_ransomware: bool
    required_action: str
    cwes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KevCatalogue:
    version: str
    released: dt.datetime | None
    entries: tuple[KevRecord, ...]


@dataclass(frozen=True, slots=True)
class EpssRecord:
    cve_id: str
    epss: float
    percentile: float


@dataclass(frozen=True, slots=True)
class EpssFile:
    model_version: str
    score_date: dt.datetime | None
    rows: tuple[EpssRecord, ...]


@dataclass(frozen=True, slots=True)
class SsvcDecision:
    cve_id: str
    exploitation: str
    automatable: str
    technical_impact: str
    source: str
    assessed_at: dt.datetime | None


def _date(value: object, *, record: str, field: str, optional: bool = False) -> dt.date | None:
    if (value is None or value == "") and optional:
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"not a date: {value!r}", record=record, field=field) from None


def _datetime(value: object) -> dt.datetime | None:
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    if text.endswith("+0000"):
        text = text[:-5] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


_CVE_PREFIX = "CVE-"


def _cve(value: object, *, record: str, field: str) -> str:
    text = str(value or "").strip().upper()
    if not text.startswith(_CVE_PREFIX) or len(text) < 13:
        raise InputError(f"not a CVE id: {value!r}", record=record, field=field)
    return text


def _kev_record(item: Any, index: int, cwes: tuple[str, ...]) -> KevRecord:
    record = f"vulnerabilities[{index}]"
    if not isinstance(item, dict):
        raise InputError("expected an object", record=record)
    ransomware = str(item.get("knownRansomwareCampaignUse", "Unknown")).strip()
    if ransomware not in ("Known", "Unknown"):
        raise InputError(
            f"expected Known or Unknown, got {ransomware!r}",
            record=record,
            field="knownRansomwareCampaignUse",
        )
    added = _date(item.get("dateAdded"), record=record, field="dateAdded")
    assert added is not None
    return KevRecord(
        cve_id=_cve(item.get("cveID"), record=record, field="cveID"),
        vendor_project=str(item.get("vendorProject") or ""),
        product=str(item.get("product") or ""),
        vulnerability_name=str(item.get("vulnerabilityName") or ""),
        date_added=added,
        due_date=_date(item.get("dueDate"), record=record, field="dueDate", optional=True),
        known_ransomware=ransomware == "Known",
        required_action=str(item.get("requiredAction") or ""),
        cwes=cwes,
    )


def read_kev_json(data: bytes) -> KevCatalogue:
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", record="document") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        raise InputError("not a KEV catalogue", record="document", field="vulnerabilities")
    entries = []
    for index, item in enumerate(doc["vulnerabilities"]):
        raw_cwes = item.get("cwes") if isinstance(item, dict) else None
        cwes = tuple(str(c) for c in raw_cwes) if isinstance(raw_cwes, list) else ()
        entries.append(_kev_record(item, index, cwes))
    return KevCatalogue(
        version=str(doc.get("catalogVersion") or ""),
        released=_datetime(doc.get("dateReleased")),
        entries=tuple(entries),
    )


def read_kev_csv(data: bytes) -> KevCatalogue:
    text = data.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "cveID" not in reader.fieldnames:
        raise InputError("not a KEV CSV (no cveID column)", record="header", field="cveID")
    entries = []
    for index, row in enumerate(reader):
        cwes = tuple(c.strip() for c in (row.get("cwes") or "").split(",") if c.strip())
        entries.append(_kev_record(row, index, cwes))
    return KevCatalogue(version="", released=None, entries=tuple(entries))


def read_epss_csv(data: bytes) -> EpssFile:
    """FIRST EPSS daily CSV, plain or gzip.

    The first line ``#model_version:…,score_date:…`` is optional (some mirrors strip it).
    """
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"broken gzip file ({exc})", record="document") from None
    text = data.decode("utf-8-sig")
    lines = text.splitlines()
    model_version, score_date = "", None
    start = 0
    if lines and lines[0].startswith("#"):
        for pair in lines[0][1:].split(","):
            key, _, value = pair.partition(":")  # split on the FIRST colon only
            if key.strip() == "model_version":
                model_version = value.strip()
            elif key.strip() == "score_date":
                score_date = _datetime(value.strip())
        start = 1
    if len(lines) <= start or lines[start].strip().lower() != "cve,epss,percentile":
        raise InputError("expected header cve,epss,percentile", record=f"line {start + 1}")
    rows = []
    for number, line in enumerate(lines[start + 1 :], start=start + 2):
        if not line.strip():
            continue
        parts = line.split(",")
        record = f"line {number}"
        if len(parts) != 3:
            raise InputError("expected 3 columns", record=record)
        cve = _cve(parts[0], record=record, field="cve")
        try:
            epss, percentile = float(parts[1]), float(parts[2])
        except ValueError:
            raise InputError("not a number", record=record, field="epss") from None
        if not (0.0 <= epss <= 1.0 and 0.0 <= percentile <= 1.0):
            raise InputError("scores must lie between 0 and 1", record=record, field="epss")
        rows.append(EpssRecord(cve, epss, percentile))
    return EpssFile(model_version=model_version, score_date=score_date, rows=tuple(rows))


def _ssvc_from_container(container: Any, cve_hint: str | None) -> Iterator[SsvcDecision]:
    if not isinstance(container, dict):
        return
    for metric in container.get("metrics") or []:
        other = metric.get("other") if isinstance(metric, dict) else None
        if not isinstance(other, dict) or other.get("type") != "ssvc":
            continue
        content = other.get("content") or {}
        options: dict[str, str] = {}
        for option in content.get("options") or []:
            if isinstance(option, dict):
                options.update({str(k): str(v).lower() for k, v in option.items()})
        cve = str(content.get("id") or cve_hint or "")
        record = f"ssvc {cve or '?'}"
        exploitation = options.get("Exploitation", "")
        exploitation = "public poc" if exploitation == "poc" else exploitation
        if exploitation not in ("none", "public poc", "active"):
            raise InputError(f"unknown value {exploitation!r}", record=record, field="Exploitation")
        automatable = options.get("Automatable", "")
        if automatable not in ("yes", "no"):
            raise InputError(f"unknown value {automatable!r}", record=record, field="Automatable")
        impact = options.get("Technical Impact", "")
        if impact not in ("partial", "total"):
            raise InputError(f"unknown value {impact!r}", record=record, field="Technical Impact")
        yield SsvcDecision(
            cve_id=_cve(cve, record=record, field="id"),
            exploitation=exploitation,
            automatable=automatable,
            technical_impact=impact,
            source=f"CISA Vulnrichment ({content.get('role', 'CISA Coordinator')} "
            f"{content.get('version', '')})".replace(" )", ")"),
            assessed_at=_datetime(content.get("timestamp")),
        )


def read_vulnrichment(data: bytes) -> list[SsvcDecision]:
    """A CVE JSON 5 record (whole, or just the CISA ADP container, or a list of either)."""
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", record="document") from None
    docs = doc if isinstance(doc, list) else [doc]
    decisions: list[SsvcDecision] = []
    for item in docs:
        if not isinstance(item, dict):
            continue
        cve_hint = (item.get("cveMetadata") or {}).get("cveId")
        containers = [item]
        adp = (item.get("containers") or {}).get("adp")
        if isinstance(adp, list):
            containers = adp
        for container in containers:
            decisions.extend(_ssvc_from_container(container, cve_hint))
    if not decisions:
        raise InputError("no SSVC decision found", record="document", field="metrics")
    return decisions


def sniff_feed(data: bytes, name: str) -> str:
    """Which feed a file holds: kev-json, kev-csv, epss or vulnrichment."""
    head = data[:4096]
    if head[:2] == b"\x1f\x8b" or b"cve,epss,percentile" in head or b"#model_version" in head:
        return "epss"
    if b"cveID" in head and b"vendorProject" in head:
        return "kev-json" if head.lstrip()[:1] == b"{" else "kev-csv"
    if b"catalogVersion" in head:
        return "kev-json"
    if b"ssvc" in data[:200_000] and (b"CISA ADP" in data[:200_000] or b'"adp"' in data[:200_000]):
        return "vulnrichment"
    raise InputError("not a KEV, EPSS or Vulnrichment file", file=name)
