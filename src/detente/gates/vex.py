"""Applying incoming VEX: statements recorded with their author, document and time; a reviewed
``not_affected`` statement marks its matching findings not affected (a state distinct from
accepted); a later statement for the same vulnerability, package and versions supersedes it and,
if it no longer says not affected, reopens them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import Q

from detente.audit.services import audit_record
from detente.core import clock
from detente.core.errors import InputError, NotFound, PermissionDenied, RuleViolation
from detente.findings.models import Finding, Status
from detente.gates.models import VexState, VexStatement
from detente.gates.vex_in import Statement, read_vex, version_matches
from detente.people.models import Person, Role
from detente.policy.services import active_policy

MAX_VEX_BYTES = 50 * 2**20


@dataclass(frozen=True)
class VexApplied:
    format: str
    statements: list[VexStatement]
    findings: int  # findings the statements match
    not_affected: int  # findings marked not affected by this call
    reopened: int  # findings a superseding statement reopened


def _matching(st: Statement) -> list[int]:
    wanted = st.vuln_id.upper()
    rows = Finding.objects.filter(Q(cve=wanted) | Q(vuln_id=st.vuln_id), component=st.name)
    return [
        pk
        for pk, version in rows.values_list("id", "component_version")
        if version_matches(st.versions, version)
    ]


def _mark(statement: VexStatement) -> int:
    return Finding.objects.filter(
        pk__in=statement.findings.values("id"), status=Status.OPEN
    ).update(status=Status.NOT_AFFECTED)


def _reviewers(actor: Person) -> None:
    doc, _ = active_policy()
    if not actor.has_any_role(doc.gate.vex_reviewers):
        raise PermissionDenied(
            f"policy lets {', '.join(doc.gate.vex_reviewers)} review VEX statements, not a "
            f"{actor.get_role_display()}"
        )


def vex_apply(*, actor: Person, path: Path, review: bool = False) -> VexApplied:
    """Record every statement of the document; with ``review`` (a role the policy names) its
    ``not_affected`` statements are reviewed at once."""
    if actor.has_role(Role.AUDITOR):
        raise PermissionDenied("auditors read; they do not apply VEX")
    if review:
        _reviewers(actor)
    try:
        if path.stat().st_size > MAX_VEX_BYTES:
            raise InputError(f"over the {MAX_VEX_BYTES} byte limit", file=str(path))
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", file=str(path)) from None
    fmt, statements = read_vex(data, str(path))
    if not statements:
        raise InputError("the document makes no VEX statement", file=str(path))
    sha = hashlib.sha256(data).hexdigest()
    now = clock.now()
    made: list[VexStatement] = []
    matched: set[int] = set()
    marked = reopened = 0
    with transaction.atomic():
        for st in statements:
            earlier = (
                VexStatement.objects.select_for_update()
                .filter(vuln_id=st.vuln_id, package=st.package, versions=st.versions)
                .exclude(state=VexState.SUPERSEDED)
            )
            for old in earlier:
                if old.status == "not_affected" and st.status != "not_affected":
                    reopened += Finding.objects.filter(
                        pk__in=old.findings.values("id"), status=Status.NOT_AFFECTED
                    ).update(status=Status.OPEN)
                old.state = VexState.SUPERSEDED
                old.save(update_fields=["state"])
            row = VexStatement.objects.create(
                vuln_id=st.vuln_id[:200], package=st.package[:500], name=st.name[:300],
                versions=st.versions[:500], status=st.status,
                justification=st.justification[:200], detail=st.detail, author=st.author[:300],
                issued_at=st.issued_at, document=path.name[:500], document_sha256=sha,
                format=fmt, record=st.record[:200],
                state=VexState.PENDING if st.status == "not_affected" else VexState.RECORDED,
                applied_by=actor, applied_at=now,
            )  # fmt: skip
            ids = _matching(st)
            row.findings.set(ids)
            matched.update(ids)
            if review and st.status == "not_affected":
                row.state, row.reviewed_by, row.reviewed_at = VexState.REVIEWED, actor, now
                row.save(update_fields=["state", "reviewed_by", "reviewed_at"])
                marked += _mark(row)
            made.append(row)
        audit_record(
            actor=actor, verb="vex.applied", subject_type="vex_document", subject_id=sha[:16],
            after={"document": path.name, "format": fmt, "statements": [r.pk for r in made],
                   "findings": len(matched), "not_affected": marked, "reopened": reopened,
                   "reviewed": review},
        )  # fmt: skip
    return VexApplied(fmt, made, len(matched), marked, reopened)


def vex_review(*, actor: Person, statement: int) -> tuple[VexStatement, int]:
    """Review a pending ``not_affected`` statement: its matching open findings become not
    affected."""
    _reviewers(actor)
    with transaction.atomic():
        row = VexStatement.objects.select_for_update().filter(pk=statement).first()
        if row is None:
            raise NotFound(f"VEX statement {statement} does not exist")
        if row.state != VexState.PENDING:
            raise RuleViolation(f"VEX-{row.pk} is {row.state}; only pending statements are "
                                "reviewed")  # fmt: skip
        row.state, row.reviewed_by, row.reviewed_at = VexState.REVIEWED, actor, clock.now()
        row.save(update_fields=["state", "reviewed_by", "reviewed_at"])
        marked = _mark(row)
        audit_record(
            actor=actor, verb="vex.reviewed", subject_type="vex_statement", subject_id=row.pk,
            before={"state": VexState.PENDING},
            after={"state": VexState.REVIEWED, "not_affected": marked},
        )  # fmt: skip
        return row, marked
