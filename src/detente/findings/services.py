"""Writes on findings: imports, re-evaluation after a policy or intel change."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce

from detente.audit.services import audit_record
from detente.core.bulk import estimated_rows, execute_many, refresh_statistics, write_session
from detente.core.errors import InputError, PermissionDenied
from detente.findings import parse_worker
from detente.findings.enrich import due_for, enrich, enrichment_signature, state_hash
from detente.findings.importer import (
    Identifier,
    ImportOptions,
    Session,
    import_path,
    no_cycle_collection,
)
from detente.findings.importer import _db_time as db_time
from detente.findings.models import PRESENT, Finding, ScanImport
from detente.people.models import Person, Role

IMPORTER_ROLES = frozenset(
    {Role.CISO, Role.SECURITY_LEAD, Role.IT_LEAD, Role.SERVICE_OWNER, Role.ENGINEER, Role.CIO}
)
SCAN_SUFFIXES = {".json", ".sarif", ".xml", ".nessus", ".csv", ".cdx", ".txt"}


def scan_paths(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into the scanner files they hold (sorted, so imports are repeatable)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SCAN_SUFFIXES
                )
            )
        elif path.exists():
            found.append(path)
        else:
            raise InputError("no such file or folder", file=str(path))
    return found


# Work that domains above findings do after each committed import (acceptances square the
# findings they cover). Registered explicitly from that app's ``AppConfig.ready``; findings cannot
# import them (layers), and every import — file, folder, upload, gate, demo — passes here.
AfterImport = Callable[[ScanImport, Person | None], None]
_AFTER_IMPORT: list[AfterImport] = []


def after_import(hook: AfterImport) -> AfterImport:
    """Register ``hook(scan, actor)``, run after each file's import has committed."""
    if hook not in _AFTER_IMPORT:
        _AFTER_IMPORT.append(hook)
    return hook


def scan_import(
    *,
    paths: Iterable[Path],
    actor: Person | None = None,
    options: ImportOptions | None = None,
    progress: Callable[[Path, ScanImport], None] | None = None,
) -> list[ScanImport]:
    """Import each file as its own transaction, sharing intel and policy across the run.

    A bad file stops the run with an error naming it; files imported before it stay imported.
    """
    if actor is not None and not actor.has_any_role(IMPORTER_ROLES):
        raise PermissionDenied(f"a {actor.get_role_display()} does not import scans")
    options = options or ImportOptions()
    session = Session()
    results = []
    files = scan_paths(paths)
    rows_before = estimated_rows(Finding._meta.db_table)
    several = len(files) > 1
    with (
        write_session(
            cache_megabytes=FOLDER_CACHE_MB if several else 0,
            wal_megabytes=FOLDER_WAL_MB if several else 0,
        ),
        contextlib.ExitStack() as stack,
    ):
        feed = None
        if several and parse_worker.can_fork():
            # the next file is parsed on the other core while this one is written
            feed = stack.enter_context(
                parse_worker.FileFeed(
                    files,
                    fmt=options.fmt,
                    max_bytes=settings.DETENTE_MAX_IMPORT_BYTES,
                    identify=Identifier(options),
                )
            )
        if several:
            stack.enter_context(no_cycle_collection())
        for path in files:
            scan = import_path(path=path, actor=actor, options=options, session=session, feed=feed)
            results.append(scan)
            for hook in _AFTER_IMPORT:
                hook(scan, actor)
            if progress is not None:
                progress(path, scan)
    written = sum(s.new + s.reopened + s.refreshed + s.closed for s in results)
    if written >= ANALYZE_AFTER_ROWS and written >= ANALYZE_SHARE * rows_before:
        refresh_statistics(Finding._meta.db_table)
    return results


def upload_import(
    *,
    chunks: Iterable[bytes],
    name: str | None,
    size: int | None,
    actor: Person | None,
    options: ImportOptions,
) -> ScanImport:
    """One uploaded file (the web page and the API share this): streamed to a private temporary
    folder and imported by ``scan_import``; errors name the file as the user knows it."""
    name = Path(name or "upload").name
    limit: int = settings.DETENTE_MAX_IMPORT_BYTES
    if size is not None and size > limit:
        raise InputError(f"file is over the {limit} byte import limit", file=name)
    with tempfile.TemporaryDirectory(prefix="detente-upload-") as folder:
        path = Path(folder) / name
        with path.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        try:
            (scan,) = scan_import(paths=[path], actor=actor, options=options)
        except InputError as exc:
            # the temporary path means nothing to the user
            raise InputError(exc.message, file=name, record=exc.record, field=exc.field) from None
    return scan


# SQLite, a command importing several files (see core.bulk.write_session): page cache for the run,
# and how far the write-ahead log may grow between checkpoints.
FOLDER_CACHE_MB = 256
FOLDER_WAL_MB = 1024

# Rows written by one command after which the planner's statistics are refreshed (PostgreSQL),
# if they are also this share of the rows the table held before: a load that changes less is left
# to autovacuum, which analyses a table after 10% of it changed (a re-import of a million findings
# writes ~15%; its ANALYZE cost a second). What the explicit ANALYZE is for is a table that goes
# from nearly empty to large in one command, which the planner would otherwise still see as empty.
ANALYZE_AFTER_ROWS = 50_000
ANALYZE_SHARE = 0.2


@dataclass(frozen=True)
class ReevaluateResult:
    checked: int
    changed: int  # findings whose stored facts changed (enrichment, policy version, deadline)
    policy_version: int
    moved: int = 0  # findings whose deadline (its date or its class) changed


def findings_reevaluate(
    *, actor: Person | None = None, batch: int = 5000, ids: Sequence[int] | None = None
) -> ReevaluateResult:
    """Recompute enrichment and deadlines of every present finding (or of ``ids``) under the
    active policy and the intel now loaded; write only the findings whose facts changed.

    A deadline counts from ``deadline_basis`` when a restart set one, else from ``first_seen``.
    """
    session = Session()
    checked = changed = moved = 0
    last_id = 0
    # flags as 0/1 on SQLite (a bool parameter costs sqlite3 a formatted exception, see
    # ARCHITECTURE.md); PostgreSQL types each parameter and wants booleans for its boolean columns
    flag: Callable[[bool], int] = bool if session.postgres else int
    with transaction.atomic():
        while True:
            query = Finding.objects.filter(id__gt=last_id, status__in=PRESENT)
            if ids is not None:
                query = query.filter(id__in=list(ids))
            rows = list(
                query.annotate(basis=Coalesce("deadline_basis", "first_seen"))
                .order_by("id")
                .values_list(
                    "id", "cve", "severity", "cvss_vector", "asset__publicly_exposed", "basis",
                    "title", "scanner_severity", "component_version", "fixed_in", "cvss_score",
                    "status", "suppressed_by_tool", "state_hash", "deadline", "deadline_class",
                    "asset__service__criticality", "asset__service__internet_facing",
                )[:batch]
            )  # fmt: skip
            if not rows:
                break
            last_id = rows[-1][0]
            session.intel.ensure(r[1] for r in rows if r[1])
            updates = []
            for row in rows:
                (
                    fid,
                    cve,
                    severity,
                    vector,
                    exposed,
                    first_seen,
                    title,
                    scanner_severity,
                    component_version,
                    fixed_in,
                    score,
                    status,
                    suppressed,
                    old_hash,
                    old_deadline,
                    old_class,
                    criticality,
                    internet_facing,
                ) = row
                checked += 1
                e = enrich(
                    cve=cve, severity=severity, cvss_vector=vector, exposed=exposed,
                    intel=session.intel, evaluator=session.evaluator, record=f"finding {fid}",
                    service=(criticality, internet_facing) if criticality else None,
                )  # fmt: skip
                decision = e.decision
                deadline = due_for(decision, first_seen, e.kev, session.evaluator)
                cvss_score = e.cvss.score if e.cvss else score
                epss = e.epss.epss if e.epss else None
                sh = state_hash(
                    enrichment_signature(e, exposed), title=title, severity=severity,
                    scanner_severity=scanner_severity, component_version=component_version,
                    fixed_in=fixed_in, score=cvss_score, status=status, suppressed=suppressed,
                    first_seen=first_seen.isoformat(),
                )  # fmt: skip
                if sh == old_hash:
                    continue
                changed += 1
                if _moved(old_deadline, deadline) or old_class != decision.deadline_class:
                    moved += 1
                updates.append(
                    (
                        flag(e.kev is not None), epss, e.epss.percentile if e.epss else None,
                        flag(exposed is not False), db_time(deadline), decision.deadline_class,
                        session.reasons.id_for(decision.reason), flag(decision.needs_analyst),
                        session.policy_version, sh, fid,
                    )
                )  # fmt: skip
            execute_many(
                f"UPDATE {Finding._meta.db_table} SET kev = %s, epss = %s, "  # noqa: S608
                "epss_percentile = %s, exposed = %s, deadline = %s, deadline_class = %s, "
                "deadline_reason_id = %s, needs_analyst = %s, policy_version = %s, state_hash = %s "
                "WHERE id = %s",
                updates,
            )
        audit_record(
            actor=actor,
            verb="findings.reevaluated",
            subject_type="policy",
            subject_id=session.policy_version,
            after={"checked": checked, "changed": changed, "deadlines_moved": moved},
        )
    return ReevaluateResult(checked, changed, session.policy_version, moved)


def _moved(old: dt.datetime | None, new: dt.datetime | None) -> bool:
    """The deadline really moved (the database may keep less than a microsecond's precision)."""
    if old is None or new is None:
        return old is not new
    return abs(old - new) >= dt.timedelta(seconds=1)


def reason_of(finding: Finding) -> dict[str, object]:
    return finding.reason
