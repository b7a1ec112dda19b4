"""The gate decision: a build's scan reports, the active policy and the valid acceptances → pass or
blocked, with what each blocking finding needs to unblock. Reads only; recording is in services.

The reports are read with the import's parsers (detection included) and identified with the
import's fingerprints, so a finding in a report is matched to the stored finding an import of the
same file would update; enrichment (KEV, EPSS, deadline class) is the import's ``enrich``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import pickle
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import msgspec
from django.conf import settings

from detente.acceptances.models import (
    AcceptanceFinding,
    AcceptanceStatus,
    RiskAcceptance,
    ScopeKind,
)
from detente.core import clock
from detente.core.errors import InputError
from detente.findings.enrich import IntelCache, enrich
from detente.findings.importer import Identifier, ImportOptions, asset_key, no_cycle_collection
from detente.findings.models import Finding, Status
from detente.findings.parsers.base import HEAD_BYTES, ParsedFinding
from detente.findings.parsers.registry import detect_format, parse_stream
from detente.findings.services import scan_paths
from detente.gates.models import VexState, VexStatement
from detente.gates.vex_in import version_matches
from detente.inventory.models import Asset, AssetKind, BusinessService
from detente.policy.deadlines import DeadlineEvaluator
from detente.policy.document import PolicyDocument
from detente.policy.gate import SEVERITY_RANK, GateRule
from detente.policy.services import active_policy

CHUNK = 900
# Reports of at least this many bytes in all are parsed on two cores (see _parse_all).
PARALLEL_MIN_BYTES = 1024 * 1024
SHOWN = 50  # blocking findings kept on the run record

# What an item's state is after the rules and the exemptions.
BLOCK, WARN, ACCEPTED, BASELINE, FALSE_POSITIVE, NOT_AFFECTED, PASSED = (
    "block", "warn", "accepted", "baseline", "false_positive", "not_affected", "pass",
)  # fmt: skip

# Scan kinds (DevSecOps coverage) by scanner, refined by what a finding is.
_SCA = {
    "grype", "anchore_grype", "osv", "osv-scanner", "npm_audit", "npm", "pip_audit",
    "pip-audit", "dependency_check", "dependency-check", "snyk", "github", "cyclonedx",
}  # fmt: skip
_SAST = {"semgrep", "bandit", "codeql", "sonarqube", "eslint", "brakeman", "gosec"}
_DAST = {"zap", "owasp zap", "nessus", "tenable", "burp"}
_SECRETS = {"gitleaks", "trufflehog", "detect-secrets"}


class Item(msgspec.Struct, kw_only=True, gc=False):
    """One finding of the build as the gate judged it (a Struct: 15,000 are built per run)."""

    key: str
    file: str
    scanner: str
    vuln_id: str
    cve: str | None
    title: str
    severity: str
    kind: str
    asset: str
    component: str | None = None
    component_version: str | None = None
    fixed_in: str | None = None
    purl: str | None = None
    file_path: str | None = None
    line: int | None = None
    kev: bool = False
    epss: float | None = None
    epss_model: str | None = None
    deadline: str | None = None
    overdue: bool = False
    finding_id: int | None = None
    state: str = PASSED
    rules: list[str] = msgspec.field(default_factory=list)
    warns: list[str] = msgspec.field(default_factory=list)
    acceptance: dict[str, Any] | None = None  # the valid acceptance exempting it
    lapsed: dict[str, Any] | None = None  # an acceptance that covered it and no longer does
    vex: dict[str, Any] | None = None  # the reviewed not_affected VEX statement exempting it
    unblock: str = ""

    def as_dict(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)


@dataclass
class FileFacts:
    name: str
    sha256: str
    size: int
    format: str
    kind: str
    findings: int
    age_hours: float


@dataclass
class Result:
    service: str
    version: str
    decision: str
    policy_version: int
    items: list[Item]
    files: list[FileFacts]
    rules_hit: dict[str, dict[str, Any]]
    counts: dict[str, int]
    scan_kinds: list[str]
    duration_ms: int
    started_at: dt.datetime
    baseline: str | None = None

    @property
    def blocking(self) -> list[Item]:
        return [i for i in self.items if i.state == BLOCK]

    @property
    def keys(self) -> list[str]:
        return sorted({i.key for i in self.items})

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "version": self.version,
            "decision": self.decision,
            "policy_version": self.policy_version,
            "started_at": self.started_at.isoformat(),
            "duration_ms": self.duration_ms,
            "baseline": self.baseline,
            "counts": self.counts,
            "rules_hit": self.rules_hit,
            "scan_kinds": self.scan_kinds,
            "files": [asdict(f) for f in self.files],
            "findings": [
                i for i in self.items if i.state != PASSED
            ],  # Structs: encode with msgspec
            "keys": self.keys,  # every finding's fingerprint: a later run's --baseline FILE
        }


@dataclass
class GateRequest:
    service: BusinessService
    version: str
    paths: Sequence[Path]
    asset_name: str | None = None
    asset_kind: str = AssetKind.APPLICATION
    fmt: str | None = None
    baseline: frozenset[str] | None = None  # fingerprints already there before this build
    baseline_label: str | None = None
    now: dt.datetime | None = None


def finding_kind(pf: ParsedFinding, cve: str | None) -> str:
    scanner = pf.scanner.lower()
    if scanner in _SECRETS or ".Secrets[" in pf.record:
        return "secret"
    if ".Misconfigurations[" in pf.record:
        return "misconfiguration"
    if scanner in _DAST:
        return "dast"
    if cve or pf.component or pf.purl or scanner in _SCA:
        return "vulnerability"
    return "code"


def scan_kind(scanner: str, kinds: Iterable[str], asset_kinds: Iterable[str | None]) -> str:
    """SCA, SAST, secrets, IaC, container or DAST: what kind of scan a report is."""
    kinds, asset_kinds = set(kinds), set(asset_kinds)
    s = scanner.lower()
    if ("secret" in kinds and kinds <= {"secret"}) or s in _SECRETS:
        return "secrets"
    if "misconfiguration" in kinds and kinds <= {"misconfiguration"}:
        return "iac"
    if s in _DAST or "dast" in kinds:
        return "dast"
    if "image" in asset_kinds:
        return "container"
    if s in _SAST or (kinds and kinds <= {"code"}):
        return "sast"
    return "sca"


def _read(path: Path, fmt: str | None) -> tuple[str, bytes, str]:
    try:
        size = path.stat().st_size
        limit: int = settings.DETENTE_MAX_IMPORT_BYTES
        if size > limit:
            raise InputError(f"file is {size} bytes, over the {limit} byte limit", file=str(path))
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", file=str(path)) from None
    if not data.strip():
        raise InputError("the file is empty", file=str(path), record="document")
    name = str(path)
    if fmt:
        return name, data, fmt
    try:
        return name, data, detect_format(data[:HEAD_BYTES], name)
    except InputError as exc:
        message = exc.message.replace("with --format", "with --scan-format")
        raise InputError(message, file=name) from None


class _Report(msgspec.Struct, array_like=True, gc=False):
    """One scan report read, parsed and identified (in this process or a forked one)."""

    fmt: str
    sha256: str
    size: int
    findings: list[ParsedFinding]
    keys: list[str]


def _parse(path: Path, fmt: str | None, identify: Identifier) -> _Report:
    name, data, found = _read(path, fmt)
    findings = list(parse_stream(io.BytesIO(data), name, fmt=found))
    keys = identify(findings, name)
    return _Report(found, hashlib.sha256(data).hexdigest(), len(data), findings, keys)


class _Child:
    """Some reports parsed in a forked process while the caller parses another.

    The child never touches the database; it writes its reports (MessagePack) or its refusal
    (the ``InputError``'s fields) to an unnamed temporary file and leaves with ``os._exit``, so
    nothing the parent owns is closed. A file rather than a pipe: the child never waits for the
    parent to read.
    """

    def __init__(self, paths: list[Path], fmt: str | None, identify: Identifier) -> None:
        self.out = tempfile.TemporaryFile()  # noqa: SIM115 - closed in result()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the child's coverage is not collected
            code = 0
            try:
                try:
                    body = b"R" + msgspec.msgpack.encode([_parse(p, fmt, identify) for p in paths])
                except InputError as exc:
                    details = (type(exc), exc.message, exc.file, exc.record, exc.field)
                    body = b"E" + pickle.dumps(details)
                self.out.write(body)
                self.out.flush()
            except BaseException:  # noqa: BLE001 - the parent reports a failed child
                code = 1
            finally:
                os._exit(code)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.out.close()

    def result(self) -> list[_Report]:
        _, status = os.waitpid(self.pid, 0)
        with self.out:
            self.out.seek(0)
            body = self.out.read()
        if os.waitstatus_to_exitcode(status) != 0 or not body:
            raise RuntimeError("the gate's parse process failed")
        if body[:1] == b"E":
            cls, message, file, record, field = pickle.loads(body[1:])  # noqa: S301 - our child
            raise cls(message, file=file, record=record, field=field)
        return msgspec.msgpack.decode(body[1:], type=list[_Report])


def _parse_all(paths: list[Path], fmt: str | None, identify: Identifier) -> list[_Report]:
    """Every report, in order. With two or more reports of ``PARALLEL_MIN_BYTES`` in all (and
    fork), the largest is parsed here while a forked child parses the others on the other core.
    A bad report is refused as the serial reading would: the first bad one in the given order."""
    sizes = [_size(p) for p in paths]
    if len(paths) < 2 or sum(sizes) < PARALLEL_MIN_BYTES or not hasattr(os, "fork"):
        return [_parse(p, fmt, identify) for p in paths]
    largest = max(range(len(paths)), key=sizes.__getitem__)
    others = [p for i, p in enumerate(paths) if i != largest]
    child = _Child(others, fmt, identify)
    try:
        mine: _Report | InputError = _parse(paths[largest], fmt, identify)
    except InputError as exc:
        mine = exc
    except BaseException:
        child.kill()
        raise
    try:
        theirs: list[_Report] | InputError = child.result()
    except InputError as exc:
        theirs = exc
    bad = [(largest, mine)] if isinstance(mine, InputError) else []
    if isinstance(theirs, InputError):
        bad.append((_first(theirs, paths), theirs))
    if bad:
        raise min(bad, key=lambda b: b[0])[1]
    assert isinstance(mine, _Report)
    assert not isinstance(theirs, InputError)
    reports = list(theirs)
    reports.insert(largest, mine)
    return reports


def _first(exc: InputError, paths: list[Path]) -> int:
    names = [str(p) for p in paths]
    return names.index(exc.file) if exc.file in names else len(paths)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # _read names the problem


class _Acceptances:
    """The acceptances in force (approved, not expired) and what they cover."""

    def __init__(self, now: dt.datetime, finding_ids: list[int], cover_new: bool) -> None:
        self.cover_new = cover_new
        rows = RiskAcceptance.objects.filter(status=AcceptanceStatus.APPROVED).values(
            "id", "scope", "cve", "rule_id", "service_id", "asset_id", "expires_at", "title"
        )
        self.valid: dict[int, dict[str, Any]] = {
            r["id"]: dict(r) for r in rows if r["expires_at"] > now
        }
        self.by_finding: dict[int, dict[str, Any]] = {}
        self.lapsed: dict[int, dict[str, Any]] = {}
        for start in range(0, len(finding_ids), CHUNK):
            chunk = finding_ids[start : start + CHUNK]
            for fid, aid, status, expires in AcceptanceFinding.objects.filter(
                finding_id__in=chunk
            ).values_list(
                "finding_id", "acceptance_id", "acceptance__status", "acceptance__expires_at"
            ):
                if aid in self.valid:
                    self.by_finding[fid] = self.valid[aid]
                elif status in (AcceptanceStatus.APPROVED, AcceptanceStatus.EXPIRED):
                    previous = self.lapsed.get(fid)
                    if previous is None or previous["expires_at"] < expires:
                        self.lapsed[fid] = {"id": aid, "expires_at": expires, "status": status}
        self.by_scope = [r for r in self.valid.values() if r["scope"] != ScopeKind.FINDINGS]

    def covering(self, item: Item, service_id: int, asset_id: int | None) -> dict[str, Any] | None:
        if item.finding_id is not None and item.finding_id in self.by_finding:
            return self.by_finding[item.finding_id]
        if not self.cover_new and item.finding_id is None:
            return None
        for r in self.by_scope:
            if r["scope"] == ScopeKind.CVE:
                wanted = r["cve"].upper()
                if r["service_id"] == service_id and wanted in (item.cve, item.vuln_id.upper()):
                    return r
            elif (
                r["scope"] == ScopeKind.RULE
                and r["rule_id"] == item.vuln_id
                and (
                    (r["asset_id"] is not None and r["asset_id"] == asset_id)
                    or (r["asset_id"] is None and r["service_id"] == service_id)
                )
            ):
                return r
        return None


def _vex_not_affected(finding_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Reviewed not_affected statements by the stored findings they cover."""
    through = VexStatement.findings.through
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(finding_ids), CHUNK):
        for fid, sid, versions, author, justification in through.objects.filter(
            finding_id__in=finding_ids[start : start + CHUNK],
            vexstatement__state=VexState.REVIEWED,
            vexstatement__status="not_affected",
        ).values_list(
            "finding_id", "vexstatement_id", "vexstatement__versions", "vexstatement__author",
            "vexstatement__justification",
        ):  # fmt: skip
            found[fid] = {"id": sid, "versions": versions, "author": author,
                          "justification": justification}  # fmt: skip
    return found


def _matches(  # noqa: PLR0911 - one return per rule condition (gate branch edits this)
    rule: GateRule, item: Item, criticality: str, internet_facing: bool, exposed: bool
) -> bool:
    if rule.criticality and criticality not in rule.criticality:
        return False
    if rule.internet_facing is not None and internet_facing != rule.internet_facing:
        return False
    if rule.exposed is not None and exposed != rule.exposed:
        return False
    if rule.kev is not None and item.kev != rule.kev:
        return False
    if rule.min_severity is not None and (
        SEVERITY_RANK.get(item.severity, 0) < SEVERITY_RANK[rule.min_severity]
    ):
        return False
    if rule.fix_available is not None and bool(item.fixed_in) != rule.fix_available:
        return False
    if rule.kind and item.kind not in rule.kind:
        return False
    if rule.past_deadline is not None and item.overdue != rule.past_deadline:
        return False
    if rule.min_epss:
        if item.epss is None:
            return False
        threshold = rule.min_epss.get(item.epss_model or "", rule.min_epss.get("*"))
        if threshold is None or item.epss < threshold:
            return False
    return True


def _unblock(item: Item, service: str) -> str:
    if item.kind == "secret":
        return "remove the secret from the build and rotate it"
    if item.fixed_in:
        what = item.component or item.vuln_id
        return f"upgrade {what} to {item.fixed_in}"
    if item.overdue and item.finding_id is not None:
        return (
            f"fix it, or request an acceptance: detente accept request --finding "
            f"{item.finding_id} --until YYYY-MM-DD --justification '…'"
        )
    if item.finding_id is not None:
        return (
            f"request an acceptance: detente accept request --finding {item.finding_id} "
            "--until YYYY-MM-DD --justification '…'"
        )
    scope = f"--cve {item.cve}" if item.cve else f"--rule {item.vuln_id}"
    return (
        f"request an acceptance (after importing the report): detente accept request "
        f"--service {service} {scope} --until YYYY-MM-DD --justification '…'"
    )


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def evaluate(request: GateRequest, *, doc: PolicyDocument | None = None) -> Result:
    """Decide the build; raises ``InputError`` (nothing decided) on any unreadable input.

    The cyclic garbage collector is paused meanwhile (as during an import): a run allocates
    some hundred thousand containers and holds them to the end, none in a cycle; walking them
    again and again cost a fifth of the decision's CPU."""
    with no_cycle_collection():
        return _evaluate(request, doc)


def _evaluate(request: GateRequest, doc: PolicyDocument | None) -> Result:  # noqa: C901, PLR0912, PLR0915 - one pass over the build's findings; split pending
    started = time.perf_counter()
    now = request.now or clock.now()
    if doc is None:
        doc, version = active_policy()
        policy_version = version.version
    else:
        policy_version = 0
    paths = scan_paths(request.paths)
    if not paths:
        raise InputError("no scan report found in the given paths", field="FILE")
    options = ImportOptions(
        fmt=request.fmt,
        service=request.service,
        asset_name=request.asset_name,
        asset_kind=request.asset_kind,
    )
    identify = Identifier(options)
    parsed: list[tuple[ParsedFinding, str, str, tuple[str, str], str, str | None]] = []
    files: list[FileFacts] = []
    for path, report in zip(paths, _parse_all(paths, request.fmt, identify), strict=True):
        name, fmt, findings, keys = str(path), report.fmt, report.findings, report.keys
        kinds: set[str] = set()
        scanners: Counter[str] = Counter()
        asset_kinds: set[str | None] = set()
        akeys: dict[tuple[str | None, str | None], tuple[str, str]] = {}
        for pf, key in zip(findings, keys, strict=True):
            cve = pf.cve
            kind = finding_kind(pf, cve)
            kinds.add(kind)
            scanners[pf.scanner] += 1
            akey = akeys.get((pf.asset_kind, pf.asset_name))
            if akey is None:
                akey = akeys[(pf.asset_kind, pf.asset_name)] = asset_key(
                    pf.asset_kind, pf.asset_name, options, name
                )
            asset_kinds.add(akey[0])
            parsed.append((pf, key, kind, akey, path.name, cve))
        scanner = scanners.most_common(1)[0][0] if scanners else fmt
        age = max(0.0, (now.timestamp() - path.stat().st_mtime) / 3600)
        files.append(
            FileFacts(
                name=path.name,
                sha256=report.sha256,
                size=report.size,
                format=fmt,
                kind=scan_kind(scanner, kinds, asset_kinds),
                findings=len(findings),
                age_hours=round(age, 2),
            )
        )

    # stored assets and findings the reports match
    asset_keys = {a for _, _, _, a, _, _ in parsed}
    assets: dict[tuple[str, str], Asset] = {}
    for asset_kind, identifier in asset_keys:
        found = Asset.objects.filter(kind=asset_kind, identifier=identifier).first()
        if found is not None:
            assets[(asset_kind, identifier)] = found
    stored: dict[tuple[int, str, str], tuple[int, str, dt.datetime | None]] = {}
    wanted: dict[tuple[int, str], list[str]] = {}
    for pf, key, _, akey, _, _ in parsed:
        asset = assets.get(akey)
        if asset is not None:
            wanted.setdefault((asset.pk, pf.scanner[:64]), []).append(key)
    for (asset_id, scanner), fps in wanted.items():
        for start in range(0, len(fps), CHUNK):
            for fp, fid, stored_status, deadline in Finding.objects.filter(
                asset_id=asset_id, scanner=scanner, fingerprint__in=fps[start : start + CHUNK]
            ).values_list("fingerprint", "id", "status", "deadline"):
                stored[(asset_id, scanner, fp)] = (fid, stored_status, deadline)

    evaluator = DeadlineEvaluator(doc, policy_version)
    intel = IntelCache()
    intel.ensure({cve for _, _, _, _, _, cve in parsed if cve})
    acceptances = _Acceptances(
        now,
        sorted({fid for fid, _, _ in stored.values()}),
        doc.acceptances.cover_new_findings,
    )
    vex = _vex_not_affected(
        sorted({fid for fid, status, _ in stored.values() if status == Status.NOT_AFFECTED})
    )
    criticality = request.service.criticality
    internet_facing = request.service.internet_facing
    rules = doc.gate.rules
    items: list[Item] = []
    seen: set[tuple[tuple[str, str], str]] = set()
    enriched: dict[tuple[str | None, str, str | None, bool | None], Any] = {}
    dues: dict[tuple[int | None, dt.date | None], str | None] = {}
    verdicts: dict[tuple[Any, ...], tuple[list[str], list[str]]] = {}
    for pf, key, kind, akey, fname, cve in parsed:
        ident = (akey, key)
        if ident in seen:
            continue
        seen.add(ident)
        asset = assets.get(akey)
        exposed = asset.publicly_exposed if asset is not None else None
        ekey = (cve, pf.severity.value, pf.cvss_vector, exposed)
        e = enriched.get(ekey)
        if e is None:
            try:
                e = enriched[ekey] = enrich(
                    cve=cve, severity=pf.severity.value, cvss_vector=pf.cvss_vector,
                    exposed=exposed, intel=intel, evaluator=evaluator, record=pf.record,
                )  # fmt: skip
            except InputError as exc:
                raise InputError(exc.message, file=fname, record=pf.record,
                                 field=exc.field) from None  # fmt: skip
        row = stored.get((asset.pk, pf.scanner[:64], key)) if asset is not None else None
        item = Item(
            key=key, file=fname, scanner=pf.scanner, vuln_id=pf.vuln_id, cve=cve,
            title=pf.title[:300], severity=pf.severity.value, kind=kind,
            asset=f"{akey[0]}:{akey[1]}", component=pf.component,
            component_version=pf.component_version, fixed_in=pf.fixed_in, purl=pf.purl,
            file_path=pf.file_path, line=pf.line, kev=e.kev is not None,
            epss=e.epss.epss if e.epss else None,
            epss_model=e.epss.model_version if e.epss else None,
        )  # fmt: skip
        status: str | None = None
        if row is not None:
            item.finding_id, status, deadline = row
            item.deadline = _iso(deadline)
            item.overdue = deadline is not None and deadline < now and status == Status.OPEN
            if status == Status.ACCEPTED and deadline is not None and deadline < now:
                item.overdue = item.finding_id not in acceptances.by_finding
        else:
            kev = e.kev
            due_key = (e.decision.days, kev.due_date if kev else None)
            if due_key not in dues:
                due = e.decision.due(now, due_key[1], kev_earliest=evaluator.kev_earliest)
                dues[due_key] = _iso(due)
            item.deadline = dues[due_key]
        # the rules' verdicts depend on few facts: decided once per distinct set of them
        on_exposed = exposed is not False  # unknown (or not stored yet) counts as exposed
        facts = (item.kev, item.severity, bool(item.fixed_in), item.kind, item.overdue,
                 item.epss, item.epss_model, on_exposed)  # fmt: skip
        verdict = verdicts.get(facts)
        if verdict is None:
            hit = [r for r in rules if _matches(r, item, criticality, internet_facing, on_exposed)]
            verdict = verdicts[facts] = (
                [r.id for r in hit if r.level == "block"],
                [r.id for r in hit if r.level != "block"],
            )
        item.rules, item.warns = list(verdict[0]), list(verdict[1])
        statement = vex.get(item.finding_id) if item.finding_id is not None else None
        if status == Status.FALSE_POSITIVE:
            item.state = FALSE_POSITIVE
        elif item.rules and statement is not None:
            item.vex = statement
            if version_matches(statement["versions"], item.component_version):
                item.state = NOT_AFFECTED
            else:  # a new product version re-opens the question
                item.state = BLOCK
                item.unblock = (
                    f"VEX-{statement['id']} says not affected for "
                    f"{statement['versions'] or 'any version'}, not {item.component_version}: "
                    "apply and review a statement for this version, or fix it"
                )
        elif item.rules:
            covering = acceptances.covering(item, request.service.pk, asset.pk if asset else None)
            if covering is not None:
                item.state = ACCEPTED
                item.acceptance = {
                    "id": covering["id"], "expires_at": covering["expires_at"].isoformat(),
                    "title": covering["title"],
                }  # fmt: skip
            elif request.baseline is not None and key in request.baseline and not item.overdue:
                item.state = BASELINE
            else:
                item.state = BLOCK
                if item.finding_id is not None and item.finding_id in acceptances.lapsed:
                    lapsed = acceptances.lapsed[item.finding_id]
                    item.lapsed = {"id": lapsed["id"], "expires_at": _iso(lapsed["expires_at"])}
                item.unblock = _unblock(item, request.service.slug)
        elif item.warns:
            item.state = WARN
        items.append(item)

    order = {BLOCK: 0, WARN: 1, ACCEPTED: 2, NOT_AFFECTED: 3, BASELINE: 4, FALSE_POSITIVE: 5,
             PASSED: 6}  # fmt: skip
    items.sort(key=lambda i: (order[i.state], -SEVERITY_RANK.get(i.severity, 0), i.vuln_id))
    hits: Counter[str] = Counter()
    blocking: Counter[str] = Counter()
    for i in items:
        if i.rules or i.warns:
            hits.update(i.rules)
            hits.update(i.warns)
            if i.state == BLOCK:
                blocking.update(i.rules)
    rules_hit = {
        rule.id: {"level": rule.level, "count": hits[rule.id], "blocking": blocking[rule.id]}
        for rule in rules
        if hits[rule.id]
    }
    states = Counter(i.state for i in items)
    counts = {
        "findings": len(items),
        "blocking": states[BLOCK],
        "warn": states[WARN],
        "accepted": states[ACCEPTED],
        "not_affected": states[NOT_AFFECTED],
        "baseline": states[BASELINE],
        "false_positive": states[FALSE_POSITIVE],
        "passed": states[PASSED],
    }
    return Result(
        service=request.service.slug,
        version=request.version,
        decision="blocked" if states[BLOCK] else "pass",
        policy_version=policy_version,
        items=items,
        files=files,
        rules_hit=rules_hit,
        counts=counts,
        scan_kinds=sorted({f.kind for f in files}),
        duration_ms=int((time.perf_counter() - started) * 1000),
        started_at=now,
        baseline=request.baseline_label,
    )
