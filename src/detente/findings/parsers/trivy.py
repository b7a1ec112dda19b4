"""Trivy JSON: SchemaVersion 2 reports, legacy top-level lists and Kubernetes cluster reports.

Built for 2 GB reports with a million findings: the document is decoded once into typed msgspec
Structs that declare only the fields we use. Each result's finding lists are kept as ``msgspec.Raw``
slices and decoded one result at a time, so only one result's records are alive at once. The bulky
per-advisory text (title, description, references, CWE ids, CVSS block) is kept raw as well and
decoded only the first time a vulnerability id appears in the file: repeats of the same id reuse
the title, CWE and CVSS, and carry ``description=None`` and no references (the first one has them).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
from collections.abc import Callable, Iterator
from typing import IO, TypeVar

import msgspec

from detente.findings.parsers.base import (
    COMMON_SEVERITIES,
    NUL_ESCAPE,
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    declare_scope,
    line_number,
    normalise_cvss_vector,
    parse_cwe,
    severity_from,
    skip_record,
    strip_json_nuls,
)

SCANNER = "trivy"
MAX_REFERENCES = 10
# Files at least this big are memory-mapped instead of read into memory.
MMAP_MIN_BYTES = 64 * 1024 * 1024
# A mapped file's pages read so far are unmapped every this many records (see _releaser).
RELEASE_EVERY = 20_000
_HEAD = 64 * 1024

_SEVERITY: dict[str, Severity] = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "UNKNOWN": Severity.INFO,
}

# Trivy's ArtifactType -> our asset kind (SBOM inputs name no asset: the user's --asset applies)
_ASSET_KIND = {
    "container_image": "image",
    "filesystem": "repository",
    "repository": "repository",
    "vm": "host",
}

_EMPTY = msgspec.Raw()

# ---------------------------------------------------------------- typed shapes (only what we use)


class _PkgIdentifier(msgspec.Struct, gc=False):
    PURL: str | None = None


class _Vuln(msgspec.Struct, gc=False):
    VulnerabilityID: str | None = None
    PkgName: str | None = None
    PkgPath: str | None = None
    PkgIdentifier: _PkgIdentifier | None = None
    Ref: str | None = None  # older Trivy kept the purl here
    InstalledVersion: str | None = None
    FixedVersion: str | None = None
    Status: str | None = None
    Severity: str | None = None
    Fingerprint: str | None = None
    # per-advisory text: decoded once per vulnerability id
    Title: msgspec.Raw = _EMPTY
    Description: msgspec.Raw = _EMPTY
    References: msgspec.Raw = _EMPTY
    PrimaryURL: msgspec.Raw = _EMPTY
    CweIDs: msgspec.Raw = _EMPTY
    CVSS: msgspec.Raw = _EMPTY


class _Cvss(msgspec.Struct, gc=False):
    V2Vector: str | None = None
    V2Score: float | None = None
    V3Vector: str | None = None
    V3Score: float | None = None
    V40Vector: str | None = None
    V40Score: float | None = None


class _Text(msgspec.Struct, gc=False):
    """The advisory fields of a vulnerability, decoded once per vulnerability id."""

    Title: str | None = None
    Description: str | None = None
    PrimaryURL: str | None = None
    References: list[str] | None = None
    CweIDs: list[str] | None = None
    CVSS: dict[str, _Cvss] | None = None


class _Cause(msgspec.Struct, gc=False):
    Resource: str | None = None
    StartLine: int | None = None


class _Misconf(msgspec.Struct, gc=False):
    ID: str | None = None
    AVDID: str | None = None
    Title: str | None = None
    Description: str | None = None
    Message: str | None = None
    Resolution: str | None = None
    Severity: str | None = None
    PrimaryURL: str | None = None
    References: list[str] | None = None
    Status: str | None = None
    CauseMetadata: _Cause | None = None


class _Secret(msgspec.Struct, gc=False):
    RuleID: str | None = None
    Category: str | None = None
    Severity: str | None = None
    Title: str | None = None
    StartLine: int | None = None
    Match: str | None = None  # hashed for identity, never stored


class _License(msgspec.Struct, gc=False):
    Severity: str | None = None
    Category: str | None = None
    PkgName: str | None = None
    FilePath: str | None = None
    Name: str | None = None
    Link: str | None = None


class _Result(msgspec.Struct, gc=False):
    Target: str | None = None
    Class: str | None = None
    Type: str | None = None
    # Split into raw records by the document's one decoding pass, each decoded in its turn: a
    # 2 GB list is neither scanned twice nor alive as a million decoded records at once.
    Vulnerabilities: list[msgspec.Raw] | None = None
    # Likewise, so that one bad record is skipped (and named) instead of refusing its whole list.
    Misconfigurations: list[msgspec.Raw] | None = None
    Secrets: list[msgspec.Raw] | None = None
    Licenses: list[msgspec.Raw] | None = None


class _Report(msgspec.Struct, gc=False):
    SchemaVersion: int | None = None
    ArtifactName: str | None = None
    ArtifactType: str | None = None
    Results: list[_Result] | None = None


class _K8sResource(msgspec.Struct, gc=False):
    Namespace: str | None = None
    Kind: str | None = None
    Name: str | None = None
    Results: list[_Result] | None = None


class _K8sReport(msgspec.Struct, gc=False):
    ClusterName: str | None = None
    Vulnerabilities: list[_K8sResource] | None = None
    Misconfigurations: list[_K8sResource] | None = None
    Resources: list[_K8sResource] | None = None


# Decoders are built once: msgspec.json.decode(..., type=X) rebuilds X's type info on every call.
_TEXT = msgspec.json.Decoder(_Text)
_VULN = msgspec.json.Decoder(_Vuln)
_MISCONF = msgspec.json.Decoder(_Misconf)
_SECRET = msgspec.json.Decoder(_Secret)
_LICENSE = msgspec.json.Decoder(_License)
_REPORT = msgspec.json.Decoder(_Report)
_K8S_REPORT = msgspec.json.Decoder(_K8sReport)
_LEGACY = msgspec.json.Decoder(list[_Result])

# ---------------------------------------------------------------- errors

_AT_RE = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_MISSING_RE = re.compile(r"missing required field `(?P<field>[^`]+)`")
_BARE_KEY_RE = re.compile(r"^[A-Za-z_][\w-]*$")
_LAST_KEY_RE = re.compile(r"^(?P<record>.*)\.(?P<field>[A-Za-z_][\w-]*)$")

T = TypeVar("T")


def _validation_error(exc: msgspec.ValidationError, prefix: str) -> ParseError:
    """msgspec's ``... - at `$.Results[0].Vulnerabilities[3].Severity``` → record + field."""
    text = str(exc)
    match = _AT_RE.match(text)
    if not match:
        return ParseError(f"unexpected value ({text})", record=prefix or "document")
    message, path = match["message"], prefix + match["path"]
    path = path.lstrip(".")
    field: str | None = None
    missing = _MISSING_RE.search(message)
    if missing:
        field = missing["field"]
    else:
        last = _LAST_KEY_RE.match(path)
        if last:
            path, field = last["record"], last["field"]
        elif _BARE_KEY_RE.match(path):
            path, field = "", path
    return ParseError(message, record=path or "document", field=field)


def _decode(
    decoder: msgspec.json.Decoder[T], data: bytes | mmap.mmap | msgspec.Raw, prefix: str
) -> T:
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise _validation_error(exc, prefix) from None
    except msgspec.DecodeError as exc:
        raise ParseError(f"not valid JSON ({exc})", record=prefix or "document") from None


def _records(
    decoder: msgspec.json.Decoder[T], raws: list[msgspec.Raw] | None, base: str
) -> Iterator[tuple[int, T]]:
    """The records of a list, one at a time with their index; a record that does not decode
    (a string where a number belongs, not an object) is skipped and named, as a record."""
    for index, raw in enumerate(raws or ()):
        try:
            yield index, _decode(decoder, raw, f"{base}[{index}]")
        except ParseError as exc:
            skip_record(exc)


# ---------------------------------------------------------------- detection


def detect(head: bytes, name: str) -> int:
    text = head.lstrip()
    if text.startswith(b"["):
        # legacy: a list of {Target, Type, Vulnerabilities:[{VulnerabilityID, PkgName, ...}]}
        if b'"Target"' in text and b'"VulnerabilityID"' in text:
            return 90
        if b'"Target"' in text and b'"Vulnerabilities"' in text and b'"Type"' in text:
            return 70
        return 0
    if not text.startswith(b"{"):
        return 0
    if b'"ClusterName"' in text and (
        b'"Vulnerabilities"' in text or b'"Misconfigurations"' in text or b'"Resources"' in text
    ):
        return 90
    if b'"SchemaVersion"' in text and (b'"ArtifactName"' in text or b'"Results"' in text):
        return 95
    return 0


# ---------------------------------------------------------------- parsing


class _Advisory(msgspec.Struct, gc=False):
    """What every occurrence of a vulnerability id reuses (the long text is not kept)."""

    title: str
    cwe: int | None
    cwes: tuple[int, ...]
    vector: str | None
    score: float | None


def _pick_cvss(sources: dict[str, _Cvss]) -> tuple[str | None, float | None]:
    """NVD's v3 vector first, then any other source's v3, then v4.0, then v2."""
    nvd = sources.get("nvd")
    if nvd is not None and nvd.V3Vector:
        return nvd.V3Vector, nvd.V3Score
    for entry in sources.values():
        if entry.V3Vector:
            return entry.V3Vector, entry.V3Score
    for entry in sources.values():
        if entry.V40Vector:
            return entry.V40Vector, entry.V40Score
    for entry in sources.values():
        if entry.V2Vector:
            return entry.V2Vector, entry.V2Score
    return None, None


def _advisory(
    vuln: _Vuln, vuln_id: str, record: str
) -> tuple[_Advisory, str | None, tuple[str, ...]]:
    """Decode the raw advisory slices of a vulnerability's first occurrence in one call."""
    pieces = [
        key + raw
        for key, raw in (
            (b'"Title":', vuln.Title),
            (b'"Description":', vuln.Description),
            (b'"PrimaryURL":', vuln.PrimaryURL),
            (b'"References":', vuln.References),
            (b'"CweIDs":', vuln.CweIDs),
            (b'"CVSS":', vuln.CVSS),
        )
        if raw
    ]
    text = _decode(_TEXT, b"{" + b",".join(pieces) + b"}", record)
    refs = list(dict.fromkeys(filter(None, (text.PrimaryURL, *(text.References or ())))))
    cwes = tuple(n for n in map(parse_cwe, text.CweIDs or ()) if n)
    vector, score = _pick_cvss(text.CVSS) if text.CVSS else (None, None)
    advisory = _Advisory(
        title=text.Title or vuln_id,
        cwe=cwes[0] if cwes else None,
        cwes=cwes,
        vector=normalise_cvss_vector(vector),
        score=score,
    )
    return advisory, text.Description or None, tuple(refs[:MAX_REFERENCES])


def _severity(word: str | None, record: str) -> Severity:
    found = _SEVERITY.get(word) if word is not None else None
    if found is not None:
        return found
    return severity_from(word, COMMON_SEVERITIES, record=record, field="Severity")


class _Context:
    """Where the findings sit: the asset, the locator prefix, and the per-file advisory cache."""

    __slots__ = ("advisories", "asset_kind", "asset_name", "release")

    def __init__(self, release: Callable[[], None]) -> None:
        self.advisories: dict[str, _Advisory] = {}
        self.asset_kind: str | None = None
        self.asset_name: str | None = None
        self.release = release


def _vuln_records(
    raws: list[msgspec.Raw], base: str, release: Callable[[], None]
) -> Iterator[tuple[int, _Vuln]]:
    """One record at a time, with its index (a record that does not decode is skipped)."""
    decode = _VULN.decode
    for index, item in enumerate(raws):
        if not index % RELEASE_EVERY:
            release()
        try:
            vuln = decode(item)
        except msgspec.ValidationError as exc:
            skip_record(_validation_error(exc, f"{base}[{index}]"))
            continue
        yield index, vuln


def _vulnerabilities(result: _Result, ctx: _Context, prefix: str) -> Iterator[ParsedFinding]:
    base = prefix + ".Vulnerabilities"
    vulns = _vuln_records(result.Vulnerabilities or [], base, ctx.release)
    target = result.Target or ""
    advisories = ctx.advisories
    asset_kind, asset_name = ctx.asset_kind, ctx.asset_name
    finding = ParsedFinding
    for index, vuln in vulns:
        try:
            record = f"{base}[{index}]"
            vuln_id = vuln.VulnerabilityID
            if not vuln_id:
                skip_record(
                    ParseError("required field is missing", record=record, field="VulnerabilityID")
                )
                continue
            word = vuln.Severity
            severity = _SEVERITY.get(word) if word is not None else None
            if severity is None:
                severity = _severity(word, record)
            advisory = advisories.get(vuln_id)
            if advisory is None:
                advisory, description, references = _advisory(vuln, vuln_id, record)
                advisories[vuln_id] = advisory
            else:
                description, references = None, ()
            component = vuln.PkgName
            ident = vuln.PkgIdentifier
            where = vuln.PkgPath or target
            not_affected = vuln.Status == "not_affected"
            yield finding(
                scanner=SCANNER,
                vuln_id=vuln_id,
                title=advisory.title,
                severity=severity,
                scanner_severity=word or "",
                record=record,
                identity=(vuln_id, component or "", where),
                asset_kind=asset_kind,
                asset_name=asset_name,
                component=component,
                component_version=vuln.InstalledVersion,
                fixed_in=vuln.FixedVersion or None,
                purl=(ident.PURL if ident is not None else None) or vuln.Ref,
                file_path=where or None,
                cwe=advisory.cwe,
                cwes=advisory.cwes,
                cvss_vector=advisory.vector,
                cvss_score=advisory.score,
                description=description,
                references=references,
                unique_id_from_tool=vuln.Fingerprint,
                suppressed=not_affected,
                vex_state="not_affected" if not_affected else None,
            )
        except ParseError as exc:
            skip_record(exc)


def _misconfigurations(result: _Result, ctx: _Context, prefix: str) -> Iterator[ParsedFinding]:
    base = prefix + ".Misconfigurations"
    target = result.Target or ""
    for index, item in _records(_MISCONF, result.Misconfigurations, base):
        try:
            record = f"{base}[{index}]"
            if (item.Status or "FAIL").upper() in ("PASS", "EXCEPTION"):
                continue  # --include-non-failures lists passed checks: not findings
            rule = item.ID or item.AVDID
            if not rule:
                skip_record(ParseError("required field is missing", record=record, field="ID"))
                continue
            cause = item.CauseMetadata
            line = cause.StartLine if cause is not None else None
            resource = (cause.Resource if cause is not None else None) or ""
            text = "\n\n".join(
                part
                for part in (
                    item.Description,
                    item.Message,
                    f"Resolution: {item.Resolution}" if item.Resolution else None,
                )
                if part
            )
            refs = [item.PrimaryURL] if item.PrimaryURL else []
            refs += [r for r in item.References or () if r and r not in refs]
            yield ParsedFinding(
                scanner=SCANNER,
                vuln_id=rule,
                aliases=(item.AVDID,) if item.AVDID and rule != item.AVDID else (),
                title=item.Title or rule,
                severity=_severity(item.Severity, record),
                scanner_severity=item.Severity or "",
                record=record,
                identity=(rule, target, resource, str(line or "")),
                asset_kind=ctx.asset_kind,
                asset_name=ctx.asset_name,
                file_path=target or None,
                line=line_number(line, record=record, field="CauseMetadata.StartLine"),
                description=text or None,
                references=tuple(refs[:MAX_REFERENCES]),
            )
        except ParseError as exc:
            skip_record(exc)


def _secrets(result: _Result, ctx: _Context, prefix: str) -> Iterator[ParsedFinding]:
    base = prefix + ".Secrets"
    target = result.Target or ""
    for index, item in _records(_SECRET, result.Secrets, base):
        try:
            record = f"{base}[{index}]"
            rule = item.RuleID
            if not rule:
                skip_record(ParseError("required field is missing", record=record, field="RuleID"))
                continue
            # Trivy masks the secret in Match; we still keep only a digest of it, for identity
            digest = hashlib.sha256((item.Match or "").encode()).hexdigest()
            yield ParsedFinding(
                scanner=SCANNER,
                vuln_id=rule,
                title=item.Title or rule,
                severity=_severity(item.Severity, record),
                scanner_severity=item.Severity or "",
                record=record,
                identity=(rule, target, str(item.StartLine or ""), digest),
                asset_kind=ctx.asset_kind,
                asset_name=ctx.asset_name,
                file_path=target or None,
                line=line_number(item.StartLine, record=record, field="StartLine"),
                description=f"Secret of category {item.Category} found" if item.Category else None,
            )
        except ParseError as exc:
            skip_record(exc)


def _licenses(result: _Result, ctx: _Context, prefix: str) -> Iterator[ParsedFinding]:
    base = prefix + ".Licenses"
    target = result.Target or ""
    for index, item in _records(_LICENSE, result.Licenses, base):
        try:
            record = f"{base}[{index}]"
            name = item.Name
            if not name:
                skip_record(ParseError("required field is missing", record=record, field="Name"))
                continue
            yield ParsedFinding(
                scanner=SCANNER,
                vuln_id=name,
                title=f"License detected in {target} - {name}" if target else f"License {name}",
                severity=_severity(item.Severity, record),
                scanner_severity=item.Severity or "",
                record=record,
                identity=(name, item.PkgName or "", item.FilePath or target),
                asset_kind=ctx.asset_kind,
                asset_name=ctx.asset_name,
                component=item.PkgName or None,
                # kept verbatim ("" for OS packages), as Trivy and DefectDojo report it
                file_path=item.FilePath,
                description=f"License category: {item.Category}" if item.Category else None,
                references=(item.Link,) if item.Link else (),
            )
        except ParseError as exc:
            skip_record(exc)


_FIRST_BYTE_RE = re.compile(rb"\S")
_OS_SUFFIX_RE = re.compile(r"\s+\([^()]*\)$")

# (results, locator prefix, asset kind, asset name)
_Section = tuple[list[_Result], str, str | None, str | None]


def _sections(data: bytes | mmap.mmap, legacy: bool) -> tuple[list[_Section], bool]:
    """Decode the document's frame; finding lists stay raw until their turn. With it, whether
    the document names its one artifact (its first section's asset is then a scope: a clean
    scan of it closes Trivy's findings there)."""
    if legacy:
        results = _decode(_LEGACY, data, "")
        if results and results[0].Target:
            # "alpine:3.10 (alpine 3.10.2)": the image, then the OS Trivy found in it
            image = _OS_SUFFIX_RE.sub("", results[0].Target) or results[0].Target
            return [(results, "", "image", image)], True
        return [(results, "", None, None)], False
    head = data[:_HEAD]
    if b'"ClusterName"' in head and b'"SchemaVersion"' not in head:
        k8s = _decode(_K8S_REPORT, data, "")
        cluster = k8s.ClusterName or ""
        sections: list[_Section] = []
        for key, resources in (
            ("Vulnerabilities", k8s.Vulnerabilities),
            ("Misconfigurations", k8s.Misconfigurations),
            ("Resources", k8s.Resources),
        ):
            for index, res in enumerate(resources or ()):
                parts = (cluster, res.Namespace or "", res.Kind or "", res.Name or "")
                workload = "/".join(parts) if cluster else "/".join(parts[1:])
                sections.append(
                    (res.Results or [], f"{key}[{index}].Results", "workload", workload)
                )
        return sections, False
    report = _decode(_REPORT, data, "")
    kind = _ASSET_KIND.get(report.ArtifactType or "")
    if kind and report.ArtifactName:
        return [(report.Results or [], "Results", kind, report.ArtifactName)], True
    return [(report.Results or [], "Results", None, None)], False


def _contents(stream: IO[bytes]) -> bytes | mmap.mmap:
    """The whole file. A big one is mapped rather than read: no 2 GB copy and no 2 GB of private
    memory. On Linux the mapping is populated up front (``MAP_POPULATE``): one call instead of
    half a million page faults as the decoder walks it (4.2 -> 1.3-1.9 s to the first batch of
    a 2 GB report here)."""
    try:
        fileno = stream.fileno()
        whole = stream.tell() == 0 and os.fstat(fileno).st_size >= MMAP_MIN_BYTES
    except (AttributeError, OSError, ValueError):  # not a real file (BytesIO, upload, pipe)
        whole = False
    if not whole:
        return stream.read()
    populate = getattr(mmap, "MAP_POPULATE", 0)
    return mmap.mmap(fileno, 0, flags=mmap.MAP_SHARED | populate, prot=mmap.PROT_READ)


def _releaser(data: bytes | mmap.mmap) -> Callable[[], None]:
    """For a mapped file: drop this process's mapping of the pages read so far.

    Decoding walks the whole 2 GB mapping; every page touched counts in the process's RSS until
    it is unmapped, although the kernel's page cache holds the data anyway. ``MADV_DONTNEED`` on
    a read-only file mapping only drops the page-table entries: a page read again is mapped again
    from the cache. So the parser stays at tens of MB instead of the file's size."""
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if not isinstance(data, mmap.mmap) or advice is None:
        return _nothing

    def release() -> None:
        data.madvise(advice)

    return release


def _nothing() -> None:
    return None


def _nul_search(data: mmap.mmap) -> Callable[[], bool]:
    """Search a mapped file for a NUL escape beside the decoding of its frame; the call returned
    says whether one was found (or may have been: an escaped backslash before ``u0000`` is text,
    which ``strip_json_nuls`` then tells apart).

    The search reads the whole file (1.4 s for 2.1 GB on a quiet machine, bench/intake_checks.py)
    and holds the interpreter the while, so it runs in a forked process of its own, on the other
    core, while this one decodes the frame (about as long): the first findings are delayed by
    the difference at most, not by the search. A searcher that dies without answering counts as
    "found": the slow, exact path is taken."""
    if not hasattr(os, "fork"):
        searched = data.find(NUL_ESCAPE) != -1
        return lambda: searched
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the forked searcher (its answer is tested)
        try:
            os._exit(1 if data.find(NUL_ESCAPE) != -1 else 0)
        finally:
            os._exit(2)

    def found() -> bool:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped by someone else: no answer
            return True
        return os.waitstatus_to_exitcode(status) != 0

    return found


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    data = _contents(stream)
    first = _FIRST_BYTE_RE.search(data)  # never data.lstrip(): that copies a 2 GB buffer
    if first is None:
        raise ParseError("the file is empty", record="document")
    legacy = first.group() == b"["
    del first  # holds the buffer: a mapping could not be closed
    if isinstance(data, mmap.mmap):
        # NULs are stripped from files of every size. A mapped one is searched beside its
        # frame's decoding (see _nul_search); if it has any, it is read whole, stripped and its
        # frame decoded again: slower, and file-sized memory, for the rare file that needs it.
        nuls = _nul_search(data)
        try:
            sections, scoped = _sections(data, legacy)
        finally:
            found = nuls()  # also after a refused frame: no searcher is left behind
        if found:
            sections = []  # its raw slices hold the mapping, unmapped with its last reference
            data = strip_json_nuls(data)
            sections, scoped = _sections(data, legacy)
    else:
        if NUL_ESCAPE in data:
            data = strip_json_nuls(data)
        sections, scoped = _sections(data, legacy)
    if scoped:
        _, _, kind, artifact = sections[0]
        declare_scope(SCANNER, kind, artifact)
    release = _releaser(data)
    ctx = _Context(release)
    for results, prefix, ctx.asset_kind, ctx.asset_name in sections:
        for index, result in enumerate(results):
            where = f"{prefix}[{index}]"
            if result.Vulnerabilities:
                yield from _vulnerabilities(result, ctx, where)
            if result.Misconfigurations:
                yield from _misconfigurations(result, ctx, where)
            if result.Secrets:
                yield from _secrets(result, ctx, where)
            if result.Licenses:
                yield from _licenses(result, ctx, where)


PARSER = Parser(name="trivy", label="Trivy JSON", detect=detect, parse=parse, scanner=SCANNER)
