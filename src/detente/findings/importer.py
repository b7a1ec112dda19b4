"""The import pipeline: parse → resolve assets → enrich → deadline → reconcile, in one transaction.

Streams: findings are processed in chunks as the parser yields them, so memory holds the scope's
existing fingerprints and one chunk, not every parsed record. Writes are set-based (``core.bulk``).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from hashlib import blake2b
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

import msgspec
from django.conf import settings
from django.db import connection, models, transaction

from detente.audit.services import audit_record
from detente.core import clock
from detente.core.bulk import (
    CopyBehind,
    DeferredIndexes,
    insert_new_rows,
    is_postgres,
    update_rows,
    write_cache,
)
from detente.core.errors import InputError
from detente.findings import parse_worker
from detente.findings.enrich import (
    Enriched,
    IntelCache,
    ReasonCache,
    due_for,
    enrich,
    enrichment_signature,
    state_hash,
)
from detente.findings.models import Finding, ScanImport, ScanScope, Status, Vulnerability
from detente.findings.parsers import ParsedFinding, detect_format, parse_stream
from detente.findings.parsers.base import (
    META,
    SCOPE,
    SKIPPED,
    TRAILER,
    ParseError,
    Severity,
)
from detente.findings.parsers.registry import formats
from detente.inventory.models import Asset, AssetKind, BusinessService
from detente.people.models import Person
from detente.policy.deadlines import DeadlineEvaluator
from detente.policy.services import active_policy

CHUNK = 20_000
# notes kept on an import's record (all are counted; a broken report could name a million)
MAX_NOTES = 1_000
# SQLite bulk load: once an import has inserted this many rows and more than the table held
# before it, the secondary indexes the importer itself never reads are rebuilt at the end instead
# of updated row by row (core.bulk.DeferredIndexes).
BULK_MIN_ROWS = 100_000
# What a finding takes in a large scanner file (Trivy's are about 2 KB), for guessing a bulk load
# before its rows are there: a file that promises BULK_MIN_ROWS findings and twice the table's
# rows defers from its first rows (maybe_defer_indexes).
BYTES_PER_FINDING = 2048
DEFERRABLE_INDEXES = ("finding_cve", "finding_priority", "finding_status_deadline")
# The most SQLite page cache an import may take (see core.bulk.write_cache).
WRITE_CACHE_LIMIT = 512 * 2**20
_OPEN = Status.OPEN.value
_FALSE_POSITIVE = Status.FALSE_POSITIVE.value
_FIXED = Status.FIXED.value
_SEVERITY_TEXT = {s: s.value for s in Severity}  # Enum.value is a slow property
_REOPENABLE = frozenset({Status.FIXED.value, Status.MITIGATED.value})
_KEPT = frozenset({Status.ACCEPTED.value, Status.FALSE_POSITIVE.value})
_CLOSABLE = frozenset({Status.OPEN.value, Status.ACCEPTED.value})


def _max_length(model: type[Finding | Vulnerability | Asset | ScanImport], name: str) -> int:
    column = model._meta.get_field(name)
    length = column.max_length if isinstance(column, models.Field) else None
    if length is None:
        raise TypeError(f"{model.__name__}.{name} has no max_length")
    return length


# Field length limits, from the models: a value is cut to its column, never refused for length.
SCANNER_LEN = _max_length(Finding, "scanner")
VULN_ID_LEN = _max_length(Finding, "vuln_id")
TITLE_LEN = _max_length(Finding, "title")
SCANNER_SEVERITY_LEN = _max_length(Finding, "scanner_severity")
COMPONENT_LEN = _max_length(Finding, "component")
COMPONENT_VERSION_LEN = _max_length(Finding, "component_version")
FIXED_IN_LEN = _max_length(Finding, "fixed_in")
FILE_PATH_LEN = _max_length(Finding, "file_path")
ENDPOINT_LEN = _max_length(Finding, "endpoint")
CVSS_VECTOR_LEN = _max_length(Finding, "cvss_vector")
VULN_TITLE_LEN = _max_length(Vulnerability, "title")
ASSET_IDENTIFIER_LEN = _max_length(Asset, "identifier")
FILE_NAME_LEN = _max_length(ScanImport, "file_name")
IMPORT_SCANNER_LEN = _max_length(ScanImport, "scanner")
# Not column limits (text columns): how much of a vulnerability's texts is kept.
DESCRIPTION_LIMIT = 20_000
REFERENCES_LIMIT = 20
# Vulnerability texts are written in batches of this many ids (about 20 MB at 2 KB each) instead
# of once at the end of the file: memory stays bounded whatever the number of distinct texts.
TEXT_BATCH = 10_000

FINDING_COLUMNS = (
    "fingerprint", "asset_id", "scanner", "vuln_id", "cve", "aliases", "title", "severity",
    "scanner_severity", "component", "component_version", "fixed_in", "file_path", "line",
    "endpoint", "cwe", "cvss_vector", "cvss_score", "cvss_version", "kev", "epss",
    "epss_percentile", "exposed", "status", "suppressed_by_tool", "deadline", "deadline_class",
    "deadline_reason_id", "needs_analyst", "state_hash",
)  # fmt: skip
# and what every new row of one import shares (core.bulk.insert_rows' constants): first_seen,
# last_seen (the import's time), policy_version, last_import_id; closed_at stays NULL

# Columns a re-import refreshes on a finding that is still reported.
REFRESH_COLUMNS = (
    "title", "severity", "scanner_severity", "component_version", "fixed_in", "cvss_vector",
    "cvss_score", "cvss_version", "kev", "epss", "epss_percentile", "exposed", "status",
    "suppressed_by_tool", "deadline_basis", "last_seen", "closed_at", "deadline",
    "deadline_class", "deadline_reason_id", "needs_analyst", "policy_version", "state_hash",
    "last_import_id",
)  # fmt: skip
# A refresh never moves first_seen (the discovery date): it writes the deadline's basis, which is
# first_seen unless a restart moved it (see Finding.deadline_basis).


@dataclass
class ImportOptions:
    fmt: str | None = None
    service: BusinessService | None = None
    asset_name: str | None = None
    asset_kind: str = AssetKind.APPLICATION
    # refuse a file when a record was skipped or a value emptied, dropped or stripped
    strict: bool = False


@dataclass(frozen=True, slots=True)
class Note:
    """What the parse or the import noticed in one record: skipped, emptied, dropped, stripped."""

    kind: str
    record: str
    field: str
    message: str

    def text(self) -> str:
        where = f"{self.record} ({self.field})" if self.field else self.record
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "record": self.record, "field": self.field,
                "message": self.message}  # fmt: skip


# A finding already stored in a scope, as the scope's query returns it (``EXISTING_COLUMNS``:
# fingerprint, id, status, state hash, deadline basis as stored text). The row itself, not a tuple
# built from it: a re-import of a large report loads a million of them; the basis is parsed once
# per distinct value (``_Run.basis``), when a finding needs it. Read by unpacking into names.
_Existing = tuple[str, int, str, str, Any]
EXISTING_COLUMNS = ("fingerprint", "id", "status", "state_hash", "deadline_basis")


@dataclass
class _Scope:
    asset: Asset
    scanner: str
    existing: dict[str, _Existing]
    previous_seen: dt.datetime | None
    seen: set[str] = field(default_factory=set)


class Session:
    """What a run of imports shares: intel lookups and the policy. One per command."""

    def __init__(self) -> None:
        doc, version = active_policy()
        self.policy_version = version.version
        self.evaluator = DeadlineEvaluator(doc, version.version)
        self.restart_on_reopen = doc.deadlines.restart_on_reopen
        self.intel = IntelCache()
        self.reasons = ReasonCache()
        self.postgres = is_postgres()
        self.enriched: dict[_FactsKey, _Facts] = {}
        # vulnerability ids whose texts an earlier, committed import of this run stored: the
        # texts table keeps the first it is given, so later files need not send them again
        self.stored: set[str] = set()


def _db_time(moment: dt.datetime | None, postgres: bool | None = None) -> Any:
    """Datetimes as Django stores them: aware for PostgreSQL, naive UTC text for SQLite."""
    if moment is None:
        return None
    if is_postgres() if postgres is None else postgres:
        return moment
    return str(moment.astimezone(dt.UTC).replace(tzinfo=None))


def _from_db_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class _Target:
    """Per (asset, scanner) context of a run, looked up once per finding with one dict access."""

    asset: Asset
    asset_id: int
    exposed: bool | None
    scope: _Scope
    # (criticality, internet-facing) of the asset's service, for deadlines.by_service
    service: tuple[str, bool] | None
    prefix: str  # the fingerprint's leading text: scanner, asset kind, asset identifier
    existing: dict[str, _Existing] = field(init=False)
    seen_add: Callable[[str], None] = field(init=False)

    def __post_init__(self) -> None:
        self.existing = self.scope.existing
        self.seen_add = self.scope.seen.add


class _Run:
    def __init__(
        self, session: Session, scan: ScanImport, options: ImportOptions, source: str
    ) -> None:
        self.s = session
        self.scan = scan
        self.scan_id = scan.pk
        self.options = options
        self.source = source
        self.now = scan.started_at
        self.now_iso = self.now.isoformat()
        self.pg = session.postgres
        self.now_db = _db_time(self.now, self.pg)
        self.assets: dict[tuple[str, str], Asset] = {}
        self.scopes: dict[tuple[int, str], _Scope] = {}
        self.targets: dict[tuple[str | None, str | None, str], _Target] = {}
        # the session's facts with this import's deadline for a new finding
        self.enriched: dict[_FactsKey, tuple[_Facts, Any]] = {}
        self.dues: dict[tuple[int | None, dt.date | None], Any] = {}
        self.times: dict[dt.datetime | None, Any] = {None: None}
        self.isos: dict[Any, str] = {}  # datetimes, and stored bases (text), to ISO text
        self.bases: dict[Any, dt.datetime] = {}
        # vulnerability texts waiting to be written (at most TEXT_BATCH: a report where every
        # finding carries its own 2 KB text must not hold them all), and every id described so
        # far in this file (the texts table keeps the first text it is given for an id)
        self.vulns: dict[str, tuple[str, str, str]] = {}
        self.described: set[str] = set()
        self.cves: dict[str | tuple[str, tuple[str, ...]], str | None] = {}
        self.inserts: list[tuple[Any, ...]] = []
        self.updates: list[tuple[Any, ...]] = []
        self.report_fps: set[str] = set()
        self.parsed = self.duplicates = self.new = self.unchanged = 0
        self.refreshed = self.reopened = self.closed = 0
        self.scanners: set[str] = set()
        self.notes: list[Note] = []
        self.metadata: dict[str, str] = {}
        self.indexes = DeferredIndexes(Finding._meta.db_table, DEFERRABLE_INDEXES)
        self.copier = CopyBehind()
        self.rows_before: int | None = None

    @property
    def counts(self) -> dict[str, int]:
        return {
            "parsed": self.parsed, "duplicates": self.duplicates, "new": self.new,
            "unchanged": self.unchanged, "refreshed": self.refreshed, "reopened": self.reopened,
            "closed": self.closed,
        }  # fmt: skip

    # -- assets and scopes -----------------------------------------------------------------
    def asset_for(self, kind: str | None, name: str | None) -> Asset:
        key = asset_key(kind, name, self.options, self.source)
        asset = self.assets.get(key)
        if asset is None:
            if key[0] not in AssetKind.values:
                raise InputError(f"unknown asset kind {key[0]!r}", field="asset_kind")
            asset, created = Asset.objects.get_or_create(
                kind=key[0],
                identifier=key[1],
                defaults={"name": key[1], "service": self.options.service},
            )
            if not created and asset.service_id is None and self.options.service is not None:
                asset.service = self.options.service
                asset.save(update_fields=["service"])
            self.assets[key] = asset
        return asset

    def scope_for(self, asset: Asset, scanner: str) -> _Scope:
        key = (asset.pk, scanner)
        scope = self.scopes.get(key)
        if scope is None:
            existing: dict[str, _Existing] = {}
            basis = "COALESCE(deadline_basis, first_seen)"
            if self.pg:
                # as text, like SQLite stores it: a million rows share a few instants, parsed
                # once each below, where the driver would parse every row's timestamp (~4 s)
                basis = f"to_char({basis} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
            columns = ", ".join(EXISTING_COLUMNS[:-1])
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {columns}, {basis} "  # noqa: S608
                    f"FROM {Finding._meta.db_table} WHERE asset_id = %s AND scanner = %s",
                    [asset.pk, scanner],
                )
                while rows := cursor.fetchmany(50_000):
                    existing.update({row[0]: row for row in rows})
            previous = (
                ScanScope.objects.filter(asset=asset, scanner=scanner)
                .values_list("last_seen", flat=True)
                .first()
            )
            scope = self.scopes[key] = _Scope(asset, scanner, existing, previous)
        return scope

    def target_for(self, pf: ParsedFinding, fingerprint: str | None = None) -> _Target:
        """The finding's (asset, scanner) context; with ``fingerprint`` (the parse child's),
        check once per target that the child and this process agree on identities."""
        key = (pf.asset_kind, pf.asset_name, pf.scanner)
        target = self.targets.get(key)
        if target is None:
            self.copier.wait()
            asset = self.asset_for(pf.asset_kind, pf.asset_name)
            scanner = pf.scanner[:SCANNER_LEN]
            self.scanners.add(scanner)
            target = self.targets[key] = _Target(
                asset=asset,
                asset_id=asset.pk,
                exposed=asset.publicly_exposed,
                scope=self.scope_for(asset, scanner),
                service=self.service_facts(asset),
                prefix="\x1f".join((scanner, asset.kind, asset.identifier, "")),
            )
            if fingerprint is not None and fingerprint != _fingerprint(target.prefix, pf):
                raise RuntimeError(f"the parse child's fingerprints differ in {self.source}")
        return target

    def service_facts(self, asset: Asset) -> tuple[str, bool] | None:
        if asset.service_id is None:
            return None
        row = BusinessService.objects.filter(pk=asset.service_id).values_list(
            "criticality", "internet_facing"
        )
        return next(iter(row), None)

    def facts_for(self, pf: ParsedFinding, cve: str | None, target: _Target) -> tuple[_Facts, Any]:
        """The enrichment of the finding's (CVE, severity, vector, exposure), and the deadline a
        new finding with them gets in this import."""
        key = (cve, pf.severity, pf.cvss_vector, target.exposed, target.service)
        facts = self.s.enriched.get(key)
        if facts is None:
            self.copier.wait()  # a new deadline reason may be stored
            vector = pf.cvss_vector
            try:
                e = enrich(
                    cve=cve,
                    severity=pf.severity.value,
                    cvss_vector=vector,
                    exposed=target.exposed,
                    intel=self.s.intel,
                    evaluator=self.s.evaluator,
                    record=pf.record,
                    service=target.service,
                )
            except InputError as exc:
                if exc.field != "cvss_vector":
                    raise InputError(
                        exc.message, file=self.source, record=pf.record, field=exc.field
                    ) from None
                # an unparseable optional vector is dropped from that rating only
                self.notes.append(
                    Note(
                        "dropped", pf.record, "cvss_vector", f"CVSS vector dropped ({exc.message})"
                    )
                )
                vector = None
                e = enrich(
                    cve=cve, severity=pf.severity.value, cvss_vector=None, exposed=target.exposed,
                    intel=self.s.intel, evaluator=self.s.evaluator, record=pf.record,
                )  # fmt: skip
            d = e.decision
            facts = _Facts(
                e=e,
                vector=vector,
                signature=enrichment_signature(e, target.exposed),
                score=e.cvss.score if e.cvss else None,
                version=e.cvss.version if e.cvss else "",
                kev=int(e.kev is not None),
                epss=e.epss.epss if e.epss else None,
                percentile=e.epss.percentile if e.epss else None,
                exposed=int(target.exposed is not False),
                deadline_class=d.deadline_class,
                reason_id=self.s.reasons.id_for(d.reason),
                needs_analyst=int(d.needs_analyst),
            )
            # the session keeps what does not depend on the import's time (a folder of files
            # shares it); the deadline of a new finding counts from this import's time
            self.s.enriched[key] = facts
        # a deadline is the import's time plus the decision's days, capped by KEV's due date:
        # few distinct pairs, computed once each per import
        kev = facts.e.kev
        due_key = (facts.e.decision.days, kev.due_date if kev is not None else None)
        new_deadline = self.dues.get(due_key, _MISSING)
        if new_deadline is _MISSING:
            new_deadline = self.dues[due_key] = self.db_time(
                due_for(facts.e.decision, self.now, kev, self.s.evaluator)
            )
        found = self.enriched[key] = (facts, new_deadline)
        return found

    # -- the per-finding step --------------------------------------------------------------
    def cves_of(self, chunk: list[ParsedFinding]) -> list[str | None]:
        """Each finding's ``pf.cve`` (a regular expression over its ids), remembered per
        distinct id set: a report repeats its CVEs across packages and layers."""
        known = self.cves
        cves: list[str | None] = []
        append = cves.append
        for pf in chunk:
            key = (pf.vuln_id, pf.aliases) if pf.aliases else pf.vuln_id
            cve = known.get(key, _MISSING)
            if cve is _MISSING:
                cve = known[key] = pf.cve
            append(cve)  # type: ignore[arg-type]
        return cves

    def handle_chunk(self, chunk: list[ParsedFinding], fps: list[str] | None = None) -> None:  # noqa: PLR0915 - the hot loop, written out for speed (see docstring)
        """Every finding of a chunk: the new ones straight into rows, the known ones through
        ``handle_existing``. One loop with the new-row path written out: at a million findings a
        method call per finding is a second of the import."""
        if not chunk[-1].identity:
            # the findings first: the first of each target checks the child's fingerprints
            chunk, fps, trailer = self.split_trailer(chunk, fps)
            if chunk:
                self.handle_chunk(chunk, fps)
            self.take_trailer(trailer)
            return
        cves = self.cves_of(chunk)
        wanted = {c for c in cves if c}
        if self.s.intel.missing(wanted):
            self.copier.wait()  # a query next: let an error of the previous COPY come first
            self.s.intel.ensure(wanted)
        report_fps = self.report_fps
        report_add = report_fps.add
        targets = self.targets
        enriched = self.enriched
        vulns = self.vulns
        described = self.described
        describe = described.add
        stored = self.s.stored
        append = self.inserts.append
        now_iso = self.now_iso
        severity_text = _SEVERITY_TEXT
        basis_isos = self.isos
        hash_state = state_hash
        title_len, scanner_len, vuln_id_len = TITLE_LEN, SCANNER_LEN, VULN_ID_LEN
        scanner_severity_len, component_len = SCANNER_SEVERITY_LEN, COMPONENT_LEN
        component_version_len, fixed_in_len = COMPONENT_VERSION_LEN, FIXED_IN_LEN
        file_path_len, endpoint_len, cvss_vector_len = FILE_PATH_LEN, ENDPOINT_LEN, CVSS_VECTOR_LEN
        duplicates = new = unchanged = 0
        for pf, cve, given in zip(chunk, cves, fps or _nones(len(chunk)), strict=True):
            target = targets.get((pf.asset_kind, pf.asset_name, pf.scanner))
            if target is None:
                target = self.target_for(pf, given)
            if given is None:
                fp = blake2b(
                    (target.prefix + "\x1f".join(pf.identity)).encode(), digest_size=16
                ).hexdigest()
            else:
                fp = given  # taken by the parse child (Identifier)
            if fp in report_fps:
                duplicates += 1
                continue
            report_add(fp)
            target.seen_add(fp)
            found = enriched.get((cve, pf.severity, pf.cvss_vector, target.exposed, target.service))
            if found is None:
                found = self.facts_for(pf, cve, target)
            facts, new_deadline = found
            vuln_id = pf.vuln_id
            if pf.description and vuln_id not in described and vuln_id not in stored:
                describe(vuln_id)
                vulns[vuln_id] = (
                    pf.title[:VULN_TITLE_LEN],
                    pf.description[:DESCRIPTION_LIMIT],
                    _json_text(list(pf.references[:REFERENCES_LIMIT])),
                )
            suppressed = pf.suppressed
            status = _FALSE_POSITIVE if suppressed else _OPEN
            severity = severity_text[pf.severity]
            title = pf.title[:title_len]
            score = facts.score if facts.score is not None else pf.cvss_score
            component_version = pf.component_version
            fixed_in = pf.fixed_in
            existing = target.existing.get(fp)
            if existing is not None:
                # most of a re-import: still reported, nothing changed; a change or a reopening
                # goes through handle_existing
                _, _, old_status, old_hash, raw_basis = existing
                if old_status not in _REOPENABLE:
                    first_iso = basis_isos.get(raw_basis) or self.iso(
                        self.basis(raw_basis), raw_basis
                    )
                    sh = hash_state(
                        facts.signature, title, severity, pf.scanner_severity, component_version,
                        fixed_in, score, old_status if old_status in _KEPT else status,
                        suppressed, first_iso,
                    )  # fmt: skip
                    if sh == old_hash:
                        unchanged += 1
                        continue
                self.handle_existing(pf, facts, existing)
                continue
            sh = hash_state(
                facts.signature, title, severity, pf.scanner_severity, component_version,
                fixed_in, score, status, suppressed, now_iso,
            )  # fmt: skip
            new += 1
            cvss_vector = facts.vector
            component = pf.component
            file_path = pf.file_path
            endpoint = pf.endpoint
            # one value per FINDING_COLUMNS entry, in its order (a tuple literal: a NamedTuple
            # built per row costs seconds per million)
            append(
                (
                    fp,                                                   # fingerprint
                    target.asset_id,                                      # asset_id
                    pf.scanner[:scanner_len],                             # scanner
                    vuln_id[:vuln_id_len],                                # vuln_id
                    cve,                                                  # cve
                    _json_text(list(pf.aliases)) if pf.aliases else "[]",  # aliases
                    title,                                                # title
                    severity,                                             # severity
                    pf.scanner_severity[:scanner_severity_len],           # scanner_severity
                    component and component[:component_len],              # component
                    component_version and component_version[:component_version_len],
                    fixed_in and fixed_in[:fixed_in_len],                 # fixed_in
                    file_path and file_path[:file_path_len],              # file_path
                    pf.line,                                              # line
                    endpoint and endpoint[:endpoint_len],                 # endpoint
                    pf.cwe,                                               # cwe
                    cvss_vector and cvss_vector[:cvss_vector_len],        # cvss_vector
                    score,                                                # cvss_score
                    facts.version,                                        # cvss_version
                    facts.kev,                                            # kev
                    facts.epss,                                           # epss
                    facts.percentile,                                     # epss_percentile
                    facts.exposed,                                        # exposed
                    status,                                               # status
                    1 if suppressed else 0,                               # suppressed_by_tool
                    new_deadline,                                         # deadline
                    facts.deadline_class,                                 # deadline_class
                    facts.reason_id,                                      # deadline_reason_id
                    facts.needs_analyst,                                  # needs_analyst
                    sh,                                                   # state_hash
                )
            )  # fmt: skip
        self.parsed += len(chunk)
        self.duplicates += duplicates
        self.new += new
        self.unchanged += unchanged
        self.flush()

    @staticmethod
    def split_trailer(
        chunk: list[ParsedFinding], fps: list[str] | None
    ) -> tuple[list[ParsedFinding], list[str] | None, list[ParsedFinding]]:
        """The chunk's findings (and fingerprints), and the parse's trailer items that end it
        (``parsers.base.Notes``: they end the last chunk, or fill it)."""
        end = len(chunk)
        while end and not chunk[end - 1].identity and chunk[end - 1].vuln_id == TRAILER:
            end -= 1
        return chunk[:end], (fps[:end] if fps is not None else None), chunk[end:]

    def take_trailer(self, trailer: list[ParsedFinding]) -> None:
        """The scopes a clean scan covers become this import's scopes (so ``finish`` closes what
        they no longer report); the rest become notes and metadata."""
        for pf in trailer:
            kind = pf.scanner_severity
            if kind == SCOPE:
                self.target_for(pf)
            elif kind == META:
                self.metadata[pf.component or ""] = pf.title
            else:
                self.notes.append(Note(kind, pf.record, pf.component or "", pf.title))

    def handle_existing(self, pf: ParsedFinding, facts: _Facts, existing: _Existing) -> None:
        """A finding the scope already holds: count it, and refresh or reopen its row."""
        suppressed = pf.suppressed
        status: str = _FALSE_POSITIVE if suppressed else _OPEN
        severity = _SEVERITY_TEXT[pf.severity]
        title = pf.title[:TITLE_LEN]
        score = facts.score if facts.score is not None else pf.cvss_score
        component_version = pf.component_version
        fixed_in = pf.fixed_in
        _, existing_id, old_status, old_hash, raw_basis = existing
        first_seen = self.basis(raw_basis)
        reopening = old_status in _REOPENABLE
        if reopening:
            if self.s.restart_on_reopen:
                first_seen = self.now
        elif old_status in _KEPT:
            status = old_status
        sh = state_hash(
            facts.signature, title, severity, pf.scanner_severity, component_version, fixed_in,
            score, status, suppressed, self.iso(first_seen),
        )  # fmt: skip
        if reopening:
            self.reopened += 1
        else:
            self.unchanged += 1
            if old_hash == sh:
                return
            self.refreshed += 1
        deadline = due_for(facts.e.decision, first_seen, facts.e.kev, self.s.evaluator)
        # one value per REFRESH_COLUMNS entry, in its order, then the row's id
        self.updates.append(
            (
                title,                                              # title
                severity,                                           # severity
                pf.scanner_severity[:SCANNER_SEVERITY_LEN],         # scanner_severity
                _cut(component_version, COMPONENT_VERSION_LEN),     # component_version
                _cut(fixed_in, FIXED_IN_LEN),                       # fixed_in
                _cut(facts.vector, CVSS_VECTOR_LEN),                # cvss_vector
                score,                                              # cvss_score
                facts.version,                                      # cvss_version
                facts.kev,                                          # kev
                facts.epss,                                         # epss
                facts.percentile,                                   # epss_percentile
                facts.exposed,                                      # exposed
                status,                                             # status
                1 if suppressed else 0,                             # suppressed_by_tool
                self.db_time(first_seen),                           # deadline_basis
                self.now_db,                                        # last_seen
                None,                                               # closed_at
                self.db_time(deadline),                             # deadline
                facts.deadline_class,                               # deadline_class
                facts.reason_id,                                    # deadline_reason_id
                facts.needs_analyst,                                # needs_analyst
                self.s.policy_version,                              # policy_version
                sh,                                                 # state_hash
                self.scan_id,                                       # last_import_id
                existing_id,                                        # id (the row to update)
            )
        )  # fmt: skip

    def iso(self, moment: dt.datetime, key: Any = None) -> str:
        """``moment.isoformat()``, remembered under ``key`` (the moment itself by default)."""
        key = moment if key is None else key
        found = self.isos.get(key)
        if found is None:
            found = moment.isoformat()
            if len(self.isos) < 10_000:
                self.isos[key] = found
        return found

    def basis(self, raw: Any) -> dt.datetime:
        """A stored deadline basis as an aware datetime, parsed once per distinct value."""
        found = self.bases.get(raw)
        if found is None:
            found = _from_db_time(raw)
            if len(self.bases) < 10_000:
                self.bases[raw] = found
        return found

    def db_time(self, moment: dt.datetime | None) -> Any:
        found = self.times.get(moment)
        if found is None:
            found = _db_time(moment, self.pg)
            if len(self.times) < 10_000:
                self.times[moment] = found
        return found

    def maybe_defer_indexes(self) -> None:
        """Defer the secondary indexes once this import is a bulk load: it has brought more new
        rows than the table held, or (before its rows are there) its file is big enough for
        twice as many findings as the table holds; a re-import of a report of the same size
        never qualifies by its size."""
        if self.pg or self.indexes.deferred:
            return
        guess = self.scan.size_bytes // BYTES_PER_FINDING
        if self.new < BULK_MIN_ROWS and guess < BULK_MIN_ROWS:
            return
        if self.rows_before is None:
            # rows there before this import (ids only grow; max is an upper bound of the count)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT max(id) FROM {Finding._meta.db_table}")  # noqa: S608
                (top,) = cursor.fetchone()
            self.rows_before = max(0, int(top or 0) - (self.new - len(self.inserts)))
        if (self.new >= BULK_MIN_ROWS and self.new > self.rows_before) or (
            guess >= BULK_MIN_ROWS and guess > 2 * self.rows_before
        ):
            self.indexes.defer()

    def flush(self) -> None:
        self.maybe_defer_indexes()
        if len(self.vulns) >= TEXT_BATCH:
            self.write_texts()
        if self.inserts:
            # in fingerprint order: the unique index is then written page by page, not at random
            self.inserts.sort(key=_first)
            constants = (
                ("first_seen", self.now_db), ("last_seen", self.now_db),
                ("policy_version", self.s.policy_version), ("last_import_id", self.scan_id),
            )  # fmt: skip
            # rows built here satisfy the table's CHECKs (aliases is JSON we encoded, the policy
            # version is the stored one's): SQLite need not evaluate them a million times
            self.copier.insert(
                Finding._meta.db_table, FINDING_COLUMNS, self.inserts, constants, checked=False
            )
            self.inserts = []
        if self.updates:
            self.copier.wait()
            update_rows(Finding._meta.db_table, REFRESH_COLUMNS, self.updates)
            self.updates = []

    # -- after the last finding ------------------------------------------------------------
    def refuse_if_noted(self) -> None:
        """``--strict``: the first skipped record or emptied/dropped/stripped value refuses the
        file (the transaction rolls back: nothing is written)."""
        if self.notes:
            first = self.notes[0]
            raise ParseError(
                f"{first.message} (refused by --strict; {len(self.notes)} such in the file)",
                file=self.source,
                record=first.record,
                field=first.field or None,
            )

    def finish(self) -> None:
        self.flush()
        self.copier.wait()
        table = Finding._meta.db_table
        gone: list[tuple[Any, ...]] = []
        for scope in self.scopes.values():
            last_seen = self.db_time(scope.previous_seen or self.now)
            seen = scope.seen
            for fp, pk, status, _, _ in scope.existing.values():
                if status in _CLOSABLE and fp not in seen:
                    gone.append((_FIXED, self.now_db, last_seen, self.scan_id, pk))
        self.closed = len(gone)
        update_rows(table, ("status", "closed_at", "last_seen", "last_import_id"), gone)
        if self.indexes.deferred:
            self.indexes.rebuild()
        for scope in self.scopes.values():
            # scope_for read whether the scope's row exists (previous_seen): one statement here
            if scope.previous_seen is None:
                ScanScope.objects.create(
                    asset=scope.asset, scanner=scope.scanner, last_import=self.scan,
                    last_seen=self.now,
                )  # fmt: skip
            else:
                ScanScope.objects.filter(asset=scope.asset, scanner=scope.scanner).update(
                    last_import=self.scan, last_seen=self.now
                )
        self.write_texts()

    def write_texts(self) -> None:
        """Write the waiting vulnerability texts (an id already stored keeps its text)."""
        if not self.vulns:
            return
        self.copier.wait()  # the connection's next statement: the previous COPY ends first
        insert_new_rows(
            Vulnerability._meta.db_table,
            ("vuln_id", "title", "description", '"references"'),
            [(vid, *rest) for vid, rest in self.vulns.items()],
            key="vuln_id",
        )
        self.vulns = {}


@dataclass(frozen=True, slots=True)
class _Facts:
    """Enrichment of one distinct (CVE, severity, vector, exposure), ready for the row.

    Flags are 0/1, not bool: Python's sqlite3 binds a bool through its adapter protocol, which
    fails its lookup and formats an exception each time (about 12,000 instructions, against a few
    dozen for an int); four flags a row were a third of a million-row insert. PostgreSQL's COPY
    writes 0/1 into a boolean column as false/true.
    """

    e: Enriched
    vector: str | None  # the finding's CVSS vector as stored: None when it was dropped
    signature: str
    score: float | None
    version: str
    kev: int
    epss: float | None
    percentile: float | None
    exposed: int
    deadline_class: str
    reason_id: int
    needs_analyst: int


# What a finding's enrichment depends on: CVE, severity, CVSS vector, the asset's exposure.
_FactsKey = tuple[str | None, Severity, str | None, bool | None, tuple[str, bool] | None]


_first = itemgetter(0)
_MISSING = object()


def _nones(count: int) -> list[None]:
    return [None] * count


def asset_key(
    kind: str | None, name: str | None, options: ImportOptions, source: str
) -> tuple[str, str]:
    """(kind, identifier) of the asset a finding is on: the one the scanner named, else the
    one the options name, else one named after the file."""
    if name:
        return (kind or options.asset_kind), name[:ASSET_IDENTIFIER_LEN]
    return options.asset_kind, (options.asset_name or Path(source).stem)[:ASSET_IDENTIFIER_LEN]


def _fingerprint(prefix: str, pf: ParsedFinding) -> str:
    """The finding's identity on its asset (``_Target.prefix``: scanner, asset kind and
    identifier), hashed. The chunk loop inlines this; ``Identifier`` uses it."""
    return blake2b((prefix + "\x1f".join(pf.identity)).encode(), digest_size=16).hexdigest()


class Identifier:
    """The fingerprints of a batch, computed in the parse child (``parse_worker.Identify``).

    The child knows each finding's scanner and asset name, and the options name the rest, so it
    can take the million hashes of a large report on its own core. The importer checks the
    child's fingerprint of the first finding of every (asset, scanner) against its own.
    """

    def __init__(self, options: ImportOptions) -> None:
        self.options = options
        self.prefixes: dict[tuple[str | None, str | None, str, str], str] = {}

    def __call__(self, findings: Sequence[ParsedFinding], source: str) -> list[str]:
        prefixes = self.prefixes
        fingerprints: list[str] = []
        append = fingerprints.append
        for pf in findings:
            key = (pf.asset_kind, pf.asset_name, pf.scanner, source)
            prefix = prefixes.get(key)
            if prefix is None:
                kind, identifier = asset_key(pf.asset_kind, pf.asset_name, self.options, source)
                prefix = prefixes[key] = "\x1f".join(
                    (pf.scanner[:SCANNER_LEN], kind, identifier, "")
                )
            append(_fingerprint(prefix, pf))
        return fingerprints


def _json_text(value: list[str]) -> str:
    return msgspec.json.encode(value).decode()


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


def _chunks(findings: Iterator[ParsedFinding]) -> Iterator[list[ParsedFinding]]:
    chunk: list[ParsedFinding] = []
    for pf in findings:
        chunk.append(pf)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows are built (or, around a folder run, while
    its files are imported: the run's caches would otherwise be walked between every two files).

    An import allocates millions of tuples and keeps a million existing-finding entries alive;
    the collector would walk all of them again and again to find no cycles. Reference counting
    still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parallel(size: int) -> bool:
    return size >= parse_worker.PARALLEL_MIN_BYTES and parse_worker.can_fork()


def _parsed_batches(
    stream: IO[bytes],
    name: str,
    fmt: str,
    size: int,
    digest: parse_worker.Digest | None,
    options: ImportOptions,
) -> Generator[parse_worker.Batch, None, None]:
    """The parsed findings in chunks; a big file is parsed on the other core meanwhile, which
    also takes the findings' fingerprints."""
    if _parallel(size):
        yield from parse_worker.parse_batches(
            stream, name, fmt=fmt, digest=digest, batch=parse_worker.BATCH,
            identify=Identifier(options),
        )  # fmt: skip
    else:
        if digest is not None:
            digest.hexdigest = parse_worker.stream_sha256(stream)
            stream.seek(0)
        for chunk in _chunks(parse_stream(stream, name, fmt=fmt, trailer=True)):
            yield chunk, None


def _check_size(path: Path) -> int:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", file=str(path)) from None
    limit: int = settings.DETENTE_MAX_IMPORT_BYTES
    if size > limit:
        raise InputError(
            f"file is {size} bytes, over the {limit} byte import limit", file=str(path)
        )
    return size


def import_path(
    *,
    path: Path,
    actor: Person | None,
    options: ImportOptions,
    session: Session | None = None,
    feed: parse_worker.FileFeed | None = None,
) -> ScanImport:
    """Import one scanner file as one transaction; return its ``ScanImport`` summary.

    With ``feed`` (a folder run), the file was parsed by the feed's child process, which detected
    its format and hashes it."""
    size = _check_size(path)
    if feed is not None:
        parsed = feed.take(path)
        return _import(
            name=str(path), size=size, fmt=parsed.fmt, batches=parsed.batches,
            digest=parsed.digest, sha256=None, actor=actor, options=options, session=session,
        )  # fmt: skip
    with path.open("rb") as handle:
        # the digest is taken while parsing (by the parse child, for a big file)
        return import_stream(
            stream=handle, name=str(path), size=size, sha256=None, actor=actor, options=options,
            session=session,
        )  # fmt: skip


def import_stream(
    *,
    stream: IO[bytes],
    name: str,
    size: int,
    sha256: str | None,
    actor: Person | None,
    options: ImportOptions,
    session: Session | None = None,
) -> ScanImport:
    """Import one stream as one transaction. ``sha256=None``: hash the stream while importing."""
    digest = parse_worker.Digest() if sha256 is None else None
    known = formats()
    if options.fmt is not None and options.fmt not in known:
        # refused before the import's record is written (a format is at most 32 characters)
        raise InputError(
            f"unknown format {options.fmt[:40]!r}; known: {', '.join(sorted(known))}",
            file=name,
            field="format",
        )
    fmt = options.fmt or _detected(name, stream)
    batches = _parsed_batches(stream, name, fmt, size, digest, options)
    return _import(
        name=name, size=size, fmt=fmt, batches=batches, digest=digest, sha256=sha256,
        actor=actor, options=options, session=session,
    )  # fmt: skip


def _import(
    *,
    name: str,
    size: int,
    fmt: str,
    batches: Generator[parse_worker.Batch, None, None],
    digest: parse_worker.Digest | None,
    sha256: str | None,
    actor: Person | None,
    options: ImportOptions,
    session: Session | None,
) -> ScanImport:
    session = session or Session()
    started = time.perf_counter()
    # about a third of a scanner file's size ends up as table and index pages
    cache = min(size // 3, WRITE_CACHE_LIMIT) // 2**20
    with write_cache(cache), transaction.atomic():
        scan = ScanImport.objects.create(
            file_name=Path(name).name[:FILE_NAME_LEN],
            sha256=sha256 or "",
            size_bytes=size,
            format=fmt,
            service=options.service,
            actor=actor,
            started_at=clock.now(),
            policy_version=session.policy_version,
        )
        run = _Run(session, scan, options, name)
        if options.asset_name:
            run.asset_for(options.asset_kind, options.asset_name)
        with (
            no_cycle_collection(),
            closing(batches) as chunks,
        ):
            try:
                for chunk, fingerprints in chunks:
                    run.handle_chunk(chunk, fingerprints)
                # A clean scan closes its scanner's findings on its asset through the scope the
                # parse declared (take_trailer); a report whose scanner is unknown closes nothing.
                if options.strict:
                    run.refuse_if_noted()
                run.finish()
            except BaseException:
                run.copier.wait()  # the rows being copied fail first, if they do: raise that
                raise
        if digest is not None:
            scan.sha256 = sha256 = digest.hexdigest or ""
        for key, value in run.counts.items():  # parsed, duplicates, new, unchanged, …
            setattr(scan, key, value)
        scan.skipped = sum(1 for n in run.notes if n.kind == SKIPPED)
        scan.notes = [n.as_dict() for n in run.notes[:MAX_NOTES]]
        scan.metadata = run.metadata
        scan.scanner = ",".join(sorted(run.scanners))[:IMPORT_SCANNER_LEN]
        scan.duration_ms = int((time.perf_counter() - started) * 1000)
        scan.save()
        audit_record(
            actor=actor,
            verb="scan.imported",
            subject_type="scan_import",
            subject_id=scan.pk,
            after={
                "file": scan.file_name,
                "sha256": sha256,
                "format": scan.format,
                **run.counts,
                "skipped": scan.skipped,
                "notes": len(run.notes),
            },
        )
    session.stored.update(run.described)  # committed (or part of the caller's transaction)
    if not is_postgres() and scan.new > 50_000:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize")
    return scan


def summary(scan: ScanImport) -> str:
    """One import's outcome in words, for the command line and the import page:
    ``27 parsed, 12 new, 15 merged as duplicates, …; 2 records skipped: findings[3] (…): …``."""
    parts = [f"{scan.parsed} parsed", f"{scan.new} new"]
    if scan.duplicates:
        parts.append(f"{scan.duplicates} merged as duplicates")
    parts += [f"{scan.unchanged} unchanged", f"{scan.reopened} reopened", f"{scan.closed} closed"]
    text = ", ".join(parts)
    notes = [Note(**n) for n in scan.notes or ()]
    skipped = [n for n in notes if n.kind == SKIPPED]
    others = [n for n in notes if n.kind != SKIPPED]
    if scan.skipped:
        shown = "; ".join(n.text() for n in skipped[:3])
        more = f"; and {scan.skipped - 3} more" if scan.skipped > 3 else ""
        text += f"; {scan.skipped} record{'s' if scan.skipped != 1 else ''} skipped: {shown}{more}"
    if others:
        shown = "; ".join(n.text() for n in others[:3])
        more = f"; and {len(others) - 3} more" if len(others) > 3 else ""
        text += f"; {len(others)} value{'s' if len(others) != 1 else ''} cleaned: {shown}{more}"
    return text


def _detected(name: str, stream: IO[bytes]) -> str:
    head = stream.read(64 * 1024)
    stream.seek(0)
    return detect_format(head, name)
