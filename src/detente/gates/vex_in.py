"""Incoming VEX: CycloneDX VEX, OpenVEX and CSAF 2.0 VEX documents read into statements.

Pure: bytes in, ``Statement`` list out; ``InputError`` naming the record and the field on
anything malformed. A statement says, for one vulnerability and one package (``purl`` without its
version, plus a version or a ``vers:`` range), ``not_affected`` (with its justification),
``affected``, ``fixed`` or ``under_investigation``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import msgspec

from detente.core.errors import InputError

STATUSES = ("not_affected", "affected", "fixed", "under_investigation")
_CDX_STATE = {
    "not_affected": "not_affected", "false_positive": "not_affected",
    "exploitable": "affected", "resolved": "fixed", "resolved_with_pedigree": "fixed",
    "in_triage": "under_investigation",
}  # fmt: skip


@dataclass(frozen=True)
class Statement:
    vuln_id: str
    package: str  # purl without version, qualifiers or subpath (pkg:type/namespace/name)
    name: str  # the package's name (what findings call the component)
    versions: str  # "" (any), an exact version, or a vers: range
    status: str
    justification: str
    detail: str
    author: str
    issued_at: dt.datetime | None
    record: str


def split_purl(purl: str) -> tuple[str, str, str]:
    """``pkg:npm/%40scope/name@1.2.3?x=y`` → (``pkg:npm/@scope/name``, ``name``, ``1.2.3``)."""
    text = purl.split("#", 1)[0].split("?", 1)[0]
    version = ""
    if "@" in text.rsplit("/", 1)[-1]:
        text, version = text.rsplit("@", 1)
    text = unquote(text)
    return text, text.rsplit("/", 1)[-1], unquote(version)


def _time(value: Any, record: str, field: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"not an ISO 8601 time: {value!r}", record=record, field=field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _need(mapping: Any, key: str, record: str) -> Any:
    if not isinstance(mapping, dict):
        raise InputError("expected an object", record=record)
    value = mapping.get(key)
    if value in (None, "", []):
        raise InputError("required field is missing", record=record, field=key)
    return value


def _openvex(doc: dict[str, Any]) -> list[Statement]:
    author = str(doc.get("author") or "")
    issued = _time(doc.get("timestamp"), "document", "timestamp")
    out = []
    for n, st in enumerate(_need(doc, "statements", "document")):
        record = f"statements[{n}]"
        vuln = _need(st, "vulnerability", record)
        vuln_id = vuln.get("name") if isinstance(vuln, dict) else vuln
        if not vuln_id:
            raise InputError("required field is missing", record=record, field="vulnerability")
        status = _need(st, "status", record)
        if status not in STATUSES:
            raise InputError(f"unknown status {status!r}", record=record, field="status")
        if status == "not_affected" and not (st.get("justification") or st.get("impact_statement")):
            raise InputError("not_affected needs a justification or an impact_statement",
                             record=record, field="justification")  # fmt: skip
        when = _time(st.get("timestamp"), record, "timestamp") or issued
        for m, product in enumerate(_need(st, "products", record)):
            pid = product.get("@id") if isinstance(product, dict) else product
            if not isinstance(pid, str) or not pid.startswith("pkg:"):
                raise InputError("a product is a package URL (pkg:…)",
                                 record=f"{record}.products[{m}]", field="@id")  # fmt: skip
            package, name, version = split_purl(pid)
            out.append(Statement(
                str(vuln_id), package, name, version, status, str(st.get("justification") or ""),
                str(st.get("impact_statement") or st.get("status_notes") or ""), author, when,
                f"{record}.products[{m}]",
            ))  # fmt: skip
    return out


def _cyclonedx(doc: dict[str, Any]) -> list[Statement]:
    refs: dict[str, str] = {}

    def walk(components: Any) -> None:
        for c in components or []:
            if isinstance(c, dict):
                if c.get("bom-ref") and c.get("purl"):
                    refs[str(c["bom-ref"])] = str(c["purl"])
                walk(c.get("components"))

    walk(doc.get("components"))
    meta = doc.get("metadata") or {}
    if isinstance(meta.get("component"), dict):
        walk([meta["component"]])
    authors = meta.get("authors") or []
    author = ", ".join(str(a.get("name", "")) for a in authors if isinstance(a, dict))
    issued = _time(meta.get("timestamp"), "metadata", "timestamp")
    out = []
    for n, vuln in enumerate(_need(doc, "vulnerabilities", "document")):
        record = f"vulnerabilities[{n}]"
        vuln_id = _need(vuln, "id", record)
        analysis = vuln.get("analysis")
        if not isinstance(analysis, dict) or not analysis.get("state"):
            continue  # not a VEX statement, a plain vulnerability record
        state = analysis["state"]
        if state not in _CDX_STATE:
            raise InputError(f"unknown state {state!r}", record=f"{record}.analysis",
                             field="state")  # fmt: skip
        when = _time(analysis.get("lastUpdated") or analysis.get("firstIssued"),
                     f"{record}.analysis", "lastUpdated") or issued  # fmt: skip
        for m, affect in enumerate(_need(vuln, "affects", record)):
            where = f"{record}.affects[{m}]"
            ref = str(_need(affect, "ref", where))
            purl = refs.get(ref) or (ref if ref.startswith("pkg:") else None)
            if purl is None:
                raise InputError(f"bom-ref {ref!r} names no component with a purl", record=where,
                                 field="ref")  # fmt: skip
            package, name, version = split_purl(purl)
            ranges = [
                str(v.get("version") or v.get("range") or "")
                for v in affect.get("versions") or []
                if isinstance(v, dict) and v.get("status", "affected") in ("affected", "unaffected")
            ]
            for spec in ranges or [version]:
                out.append(Statement(
                    str(vuln_id), package, name, spec, _CDX_STATE[state],
                    str(analysis.get("justification") or ""), str(analysis.get("detail") or ""),
                    author, when, where,
                ))  # fmt: skip
    return out


_CSAF_STATUS = {
    "known_not_affected": "not_affected", "known_affected": "affected", "fixed": "fixed",
    "first_fixed": "fixed", "under_investigation": "under_investigation",
}  # fmt: skip


def _csaf(doc: dict[str, Any]) -> list[Statement]:
    document = _need(doc, "document", "document")
    publisher = document.get("publisher") or {}
    author = str(publisher.get("name") or "")
    tracking = document.get("tracking") or {}
    issued = _time(tracking.get("current_release_date"), "document.tracking",
                   "current_release_date")  # fmt: skip
    products: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "product_id" in node:
                helper = node.get("product_identification_helper") or {}
                if helper.get("purl"):
                    products[str(node["product_id"])] = str(helper["purl"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc.get("product_tree"))
    out = []
    for n, vuln in enumerate(_need(doc, "vulnerabilities", "document")):
        record = f"vulnerabilities[{n}]"
        vuln_id = vuln.get("cve") or next(
            (i.get("text") for i in vuln.get("ids") or [] if isinstance(i, dict)), None
        )
        if not vuln_id:
            raise InputError("required field is missing", record=record, field="cve")
        flags = {
            pid: str(flag.get("label") or "")
            for flag in vuln.get("flags") or [] if isinstance(flag, dict)
            for pid in flag.get("product_ids") or []
        }  # fmt: skip
        threats = {
            pid: str(t.get("details") or "")
            for t in vuln.get("threats") or []
            if isinstance(t, dict) and t.get("category") == "impact"
            for pid in t.get("product_ids") or []
        }  # fmt: skip
        for key, status in _CSAF_STATUS.items():
            for pid in (vuln.get("product_status") or {}).get(key) or []:
                purl = products.get(str(pid))
                if purl is None:
                    raise InputError(f"product {pid!r} has no purl in the product tree",
                                     record=f"{record}.product_status.{key}")  # fmt: skip
                if status == "not_affected" and not (flags.get(pid) or threats.get(pid)):
                    raise InputError("known_not_affected needs a flag or an impact statement",
                                     record=f"{record}.product_status.{key}")  # fmt: skip
                package, name, version = split_purl(purl)
                out.append(Statement(
                    str(vuln_id), package, name, version, status, flags.get(pid, ""),
                    threats.get(pid, ""), author, issued, f"{record}.product_status.{key}",
                ))  # fmt: skip
    return out


def read_vex(data: bytes, name: str) -> tuple[str, list[Statement]]:
    """The document's format (``openvex``, ``cyclonedx``, ``csaf``) and its statements."""
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", file=name, record="document") from None
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object", file=name, record="document")
    try:
        context = str(doc.get("@context", ""))
        if context.startswith("https://openvex.dev/ns"):
            return "openvex", _openvex(doc)
        if doc.get("bomFormat") == "CycloneDX":
            return "cyclonedx", _cyclonedx(doc)
        if isinstance(doc.get("document"), dict) and "csaf_version" in doc["document"]:
            return "csaf", _csaf(doc)
    except InputError as exc:
        raise exc.with_file(name) from None
    except (AttributeError, TypeError, KeyError) as exc:
        raise InputError(
            f"not a valid VEX document ({exc})", file=name, record="document"
        ) from None
    raise InputError("not a VEX document (OpenVEX, CycloneDX or CSAF 2.0)", file=name)


_NUM = re.compile(r"\d+|[a-z]+")


def _key(version: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _NUM.findall(version.lower()))


def version_matches(spec: str, version: str | None) -> bool:
    """``spec`` "" matches any version; an exact version matches itself; a ``vers:`` range
    (``vers:npm/>=1.0.0|<2.0.0``, constraints ANDed as in the spec's simple form) is compared
    numerically part by part."""
    if not spec:
        return True
    if version is None:
        return False
    if not spec.startswith("vers:"):
        return spec == version
    constraints = spec.split("/", 1)[1] if "/" in spec else ""
    if constraints == "*":
        return True
    have = _key(version)
    for raw in constraints.split("|"):
        c = raw.strip()
        for op in (">=", "<=", "!=", ">", "<", "="):
            if c.startswith(op):
                want = _key(c[len(op) :])
                ok = {">=": have >= want, "<=": have <= want, "!=": have != want,
                      ">": have > want, "<": have < want, "=": have == want}[op]  # fmt: skip
                break
        else:
            ok = have == _key(c)
        if not ok:
            return False
    return True
