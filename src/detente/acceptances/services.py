"""The acceptance workflow: request → sign by every required role → approved until expiry.

Every write locks the acceptance row, checks the move against ``ALLOWED``, writes its audit event
in the same transaction and raises a domain error — changing nothing — when a rule refuses it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from detente.acceptances.models import (
    ALLOWED,
    AcceptanceFinding,
    AcceptanceStatus,
    CoverReason,
    RiskAcceptance,
    ScopeKind,
    Signature,
    SignatureDecision,
)
from detente.audit.services import audit_record
from detente.core import clock
from detente.core.errors import InputError, NotFound, PermissionDenied, RuleViolation
from detente.decisions.models import DecisionRecord
from detente.findings.models import Finding, ScanImport, Status
from detente.findings.services import findings_reevaluate
from detente.inventory.models import Asset, BusinessService
from detente.people.models import Person, Role
from detente.policy.document import PolicyDocument
from detente.policy.services import active_policy

S = AcceptanceStatus
SNAPSHOT_LIMIT = 200
REQUESTER_ROLES = frozenset(
    {Role.CIO, Role.CISO, Role.SECURITY_LEAD, Role.IT_LEAD, Role.SERVICE_OWNER, Role.ENGINEER}
)


def _move(acceptance: RiskAcceptance, to: str) -> None:
    if to not in ALLOWED[acceptance.status]:
        raise RuleViolation(f"RA-{acceptance.pk} is {acceptance.status}; it cannot become {to}")
    acceptance.status = to


def _locked(acceptance: RiskAcceptance | int) -> RiskAcceptance:
    pk = acceptance if isinstance(acceptance, int) else acceptance.pk
    found = RiskAcceptance.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(f"risk acceptance {pk} does not exist")
    return found


def _end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


# ------------------------------------------------------------------------------ scope


def scope_findings(
    *,
    scope: str,
    finding_ids: Sequence[int] = (),
    cve: str = "",
    rule_id: str = "",
    service: BusinessService | None = None,
    asset: Asset | None = None,
) -> QuerySet[Finding]:
    """Findings a scope covers (any status; callers filter)."""
    if scope == ScopeKind.FINDINGS:
        return Finding.objects.filter(id__in=list(finding_ids))
    if scope == ScopeKind.CVE:
        query = Finding.objects.filter(Q(cve=cve.upper()) | Q(vuln_id=cve.upper()))
        return query.filter(asset__service=service) if service else query.none()
    if scope == ScopeKind.RULE:
        query = Finding.objects.filter(vuln_id=rule_id)
        if asset is not None:
            return query.filter(asset=asset)
        return query.filter(asset__service=service) if service else query.none()
    raise InputError(f"unknown scope {scope!r}", field="scope")


def _strictest_class(doc: PolicyDocument, classes: Iterable[str]) -> str:
    def days(cls: str) -> float:
        value = doc.deadlines.classes[cls].days
        return float("inf") if value is None else value

    return min(classes, key=days)


def _required_roles(doc: PolicyDocument, cls: str, renewals: int) -> list[str]:
    rule = doc.acceptances.by_class[cls]
    roles: list[str] = list(dict.fromkeys(rule.signers))
    if renewals > doc.acceptances.max_renewals:
        # Beyond the renewal limit the next level of authority must sign as well.
        roles = list(dict.fromkeys([*roles, *doc.acceptances.escalation_signers]))
    return roles


def _facts(findings: Iterable[Finding]) -> dict[str, Any]:
    rows = list(findings)
    deadlines = [f.deadline for f in rows if f.deadline is not None]
    epss = [f.epss for f in rows if f.epss is not None]
    return {
        "taken_at": clock.now().isoformat(),
        "findings": len(rows),
        "in_kev": sum(f.kev for f in rows),
        "exposed": sum(f.exposed for f in rows),
        "max_epss": max(epss) if epss else None,
        "earliest_deadline": min(deadlines).isoformat() if deadlines else None,
        "items": [
            {
                "id": f.pk,
                "vuln_id": f.vuln_id,
                "kev": f.kev,
                "epss": f.epss,
                "exposed": f.exposed,
                "deadline": f.deadline.isoformat() if f.deadline else None,
                "deadline_class": f.deadline_class,
                "status": f.status,
            }
            for f in rows[:SNAPSHOT_LIMIT]
        ],
    }


# ------------------------------------------------------------------------------ request


def _has_owner(findings: Sequence[Finding], service: BusinessService | None) -> bool:
    """Whether someone owns the service the request names or one of its findings' services."""
    owned = BusinessService.objects.filter(owner__isnull=False)
    if service is not None and owned.filter(pk=service.pk).exists():
        return True
    return owned.filter(assets__findings__in=[f.pk for f in findings]).exists()


def acceptance_request(  # noqa: PLR0913 - keyword-only service: one argument per field of the request
    *,
    actor: Person,
    title: str,
    scope: str,
    justification: str,
    until: dt.date,
    compensating_controls: str = "",
    finding_ids: Sequence[int] = (),
    cve: str = "",
    rule_id: str = "",
    service: BusinessService | None = None,
    asset: Asset | None = None,
    decision: DecisionRecord | None = None,
    submit: bool = True,
    renewal_of: RiskAcceptance | None = None,
) -> RiskAcceptance:
    """Ask to defer remediation of the open findings in ``scope`` until ``until``."""
    if not actor.has_any_role(REQUESTER_ROLES):
        raise PermissionDenied(f"a {actor.get_role_display()} cannot request a risk acceptance")
    if not justification.strip():
        raise InputError("state the business benefit of deferring", field="justification")
    if scope == ScopeKind.CVE and not (cve and service):
        raise InputError("a CVE scope needs the CVE and the service", field="cve")
    if scope == ScopeKind.RULE and not (rule_id and (asset or service)):
        raise InputError("a rule scope needs the rule and an asset or service", field="rule_id")
    doc, version = active_policy()
    today = clock.today()
    if until <= today:
        raise InputError("the end date must lie in the future", field="until")
    with transaction.atomic():
        findings = list(
            scope_findings(
                scope=scope, finding_ids=finding_ids, cve=cve, rule_id=rule_id,
                service=service, asset=asset,
            ).filter(status__in=(Status.OPEN, Status.ACCEPTED))
        )  # fmt: skip
        if scope == ScopeKind.FINDINGS:
            missing = set(finding_ids) - {f.pk for f in findings}
            if missing:
                raise InputError(
                    f"not open (or not found): {', '.join(map(str, sorted(missing)))}",
                    field="finding_ids",
                )
        if not findings:
            raise InputError("the scope covers no open finding", field="scope")
        cls = _strictest_class(doc, (f.deadline_class for f in findings if f.deadline_class))
        rule = doc.acceptances.by_class[cls]
        if (until - today).days > rule.max_days:
            raise RuleViolation(
                f"policy allows deferring {doc.deadlines.classes[cls].label} findings by at most "
                f"{rule.max_days} days; {until.isoformat()} is {(until - today).days} days away"
            )
        if (
            doc.acceptances.require_controls_for_kev
            and any(f.kev for f in findings)
            and not compensating_controls.strip()
        ):
            raise RuleViolation(
                "a known-exploited (KEV) finding is deferred only with compensating controls"
            )
        renewals = renewal_of.renewals + 1 if renewal_of is not None else 0
        required_roles = _required_roles(doc, cls, renewals)
        if Role.SERVICE_OWNER in required_roles and not _has_owner(findings, service):
            raise InputError(
                "these findings belong to no service with an owner, and the policy asks a "
                "service owner to sign: name the owning service",
                field="service",
            )
        now = clock.now()
        acceptance = RiskAcceptance.objects.create(
            title=title.strip() or f"Defer {len(findings)} finding(s)",
            scope=scope,
            cve=cve.upper(),
            rule_id=rule_id,
            service=service,
            asset=asset,
            justification=justification.strip(),
            compensating_controls=compensating_controls.strip(),
            requested_until=until,
            expires_at=_end_of_day(until),
            deadline_class=cls,
            required_roles=required_roles,
            status=S.REQUESTED if submit else S.DRAFT,
            requester=actor,
            decision=decision,
            renewal_of=renewal_of,
            renewals=renewals,
            policy_version=version.version,
            created_at=now,
            requested_at=now if submit else None,
        )
        AcceptanceFinding.objects.bulk_create(
            [
                AcceptanceFinding(
                    acceptance=acceptance, finding=f, reason=CoverReason.REQUESTED, added_at=now
                )
                for f in findings
            ]
        )
        audit_record(
            actor=actor,
            verb="acceptance.requested" if submit else "acceptance.drafted",
            subject_type="acceptance",
            subject_id=acceptance.pk,
            after={
                "status": acceptance.status,
                "findings": len(findings),
                "until": until.isoformat(),
                "deadline_class": cls,
                "required_roles": acceptance.required_roles,
                "renewals": renewals,
            },
        )
        return acceptance


def acceptance_submit(*, actor: Person, acceptance: RiskAcceptance) -> RiskAcceptance:
    with transaction.atomic():
        locked = _locked(acceptance)
        if actor.pk != locked.requester_id:
            raise PermissionDenied("only the requester submits a draft")
        _move(locked, S.REQUESTED)
        locked.requested_at = clock.now()
        locked.save(update_fields=["status", "requested_at"])
        audit_record(
            actor=actor, verb="acceptance.requested", subject_type="acceptance",
            subject_id=locked.pk, before={"status": S.DRAFT}, after={"status": S.REQUESTED},
        )  # fmt: skip
        return locked


# ------------------------------------------------------------------------------ sign


def _role_for(locked: RiskAcceptance, signer: Person, role: str | None) -> str:
    signed_roles = set(locked.signatures.values_list("role", flat=True))
    open_roles = [r for r in locked.required_roles if r not in signed_roles]
    if role is not None:
        if role not in locked.required_roles:
            raise PermissionDenied(f"RA-{locked.pk} does not need a {role} signature")
        if role in signed_roles:
            raise RuleViolation(f"RA-{locked.pk} already has its {role} signature")
        candidates = [role]
    else:
        candidates = open_roles
    for candidate in candidates:
        if not signer.has_role(candidate):
            continue
        if candidate == Role.SERVICE_OWNER:
            owners = {
                pk
                for pk in BusinessService.objects.filter(
                    Q(assets__findings__acceptance_items__acceptance=locked)
                    | Q(pk=locked.service_id)
                ).values_list("owner_id", flat=True)
                if pk is not None
            }
            if signer.pk not in owners:  # no owner at all: no service owner may sign for one
                continue
        return candidate
    needs = ", ".join(open_roles) or "none"
    raise PermissionDenied(f"{signer} has no authority to sign RA-{locked.pk} (needs: {needs})")


def acceptance_sign(
    *,
    actor: Person,
    acceptance: RiskAcceptance | int,
    verdict: str = SignatureDecision.APPROVE,
    role: str | None = None,
    comment: str = "",
) -> RiskAcceptance:
    """Sign (approve or reject) as one of the roles the acceptance still needs."""
    if verdict not in SignatureDecision.values:
        raise InputError(f"unknown verdict {verdict!r}", field="verdict")
    with transaction.atomic():
        locked = _locked(acceptance)
        if locked.status != S.REQUESTED:
            raise RuleViolation(f"RA-{locked.pk} is {locked.status}; only requests are signed")
        if actor.pk == locked.requester_id:
            raise PermissionDenied("separation of duties: nobody signs their own request")
        if locked.signatures.filter(signer=actor).exists():
            raise RuleViolation(f"{actor} has already signed RA-{locked.pk}")
        as_role = _role_for(locked, actor, role)
        if verdict == SignatureDecision.REJECT and not comment.strip():
            raise InputError("a rejection says why", field="comment")
        items = Finding.objects.filter(acceptance_items__acceptance=locked).order_by("id")
        Signature.objects.create(
            acceptance=locked, signer=actor, role=as_role, verdict=verdict,
            comment=comment.strip(), signed_at=clock.now(), facts=_facts(items),
        )  # fmt: skip
        audit_record(
            actor=actor, verb=f"acceptance.signed.{verdict}", subject_type="acceptance",
            subject_id=locked.pk, after={"role": as_role, "comment": comment.strip()},
        )  # fmt: skip
        if verdict == SignatureDecision.REJECT:
            _close(locked, actor, S.REJECTED, comment.strip())
            return locked
        signed = set(locked.signatures.values_list("role", flat=True))
        if signed >= set(locked.required_roles):
            _approve(locked, actor)
        return locked


def _approve(locked: RiskAcceptance, actor: Person) -> None:
    _move(locked, S.APPROVED)
    now = clock.now()
    locked.approved_at = now
    locked.save(update_fields=["status", "approved_at"])
    covered = Finding.objects.filter(acceptance_items__acceptance=locked, status=Status.OPEN)
    accepted = covered.update(status=Status.ACCEPTED)
    previous = locked.renewal_of
    if previous is not None:
        prior = _locked(previous)
        if prior.status == S.APPROVED:
            _close(prior, actor, S.SUPERSEDED, f"renewed by RA-{locked.pk}")
    audit_record(
        actor=actor, verb="acceptance.approved", subject_type="acceptance", subject_id=locked.pk,
        before={"status": S.REQUESTED},
        after={"status": S.APPROVED, "findings_accepted": accepted,
               "expires_at": locked.expires_at.isoformat()},
    )  # fmt: skip


def _close(locked: RiskAcceptance, actor: Person | None, to: str, reason: str) -> None:
    before = locked.status
    _move(locked, to)
    locked.closed_at = clock.now()
    locked.closed_reason = reason
    locked.save(update_fields=["status", "closed_at", "closed_reason"])
    reopened = 0
    if before == S.APPROVED and to in (S.EXPIRED, S.REVOKED):
        reopened_ids = _reopen_uncovered(locked)
        reopened = len(reopened_ids)
        doc, _ = active_policy()
        if to == S.EXPIRED and reopened_ids and doc.acceptances.restart_deadline_on_expiry:
            # Policy: an expired deferral's findings get their deadline counted from now.
            Finding.objects.filter(id__in=reopened_ids).update(deadline_basis=locked.closed_at)
            findings_reevaluate(actor=actor, ids=reopened_ids)
    audit_record(
        actor=actor, verb=f"acceptance.{to}", subject_type="acceptance", subject_id=locked.pk,
        before={"status": before}, after={"status": to, "reason": reason, "reopened": reopened},
    )  # fmt: skip


def _reopen_uncovered(locked: RiskAcceptance) -> list[int]:
    """Accepted findings of ``locked`` that no other approved acceptance covers become open;
    returns their ids."""
    still_covered = (
        AcceptanceFinding.objects.filter(acceptance__status=S.APPROVED)
        .exclude(acceptance=locked)
        .values("finding_id")
    )
    ids = list(
        Finding.objects.filter(acceptance_items__acceptance=locked, status=Status.ACCEPTED)
        .exclude(id__in=still_covered)
        .values_list("id", flat=True)
    )
    Finding.objects.filter(id__in=ids).update(status=Status.OPEN)
    return ids


def acceptance_reject(
    *, actor: Person, acceptance: RiskAcceptance | int, reason: str
) -> RiskAcceptance:
    return acceptance_sign(
        actor=actor, acceptance=acceptance, verdict=SignatureDecision.REJECT, comment=reason
    )


def acceptance_revoke(
    *, actor: Person, acceptance: RiskAcceptance | int, reason: str
) -> RiskAcceptance:
    """Withdraw a draft or request (the requester), or end an approval early (a signer role)."""
    if not reason.strip():
        raise InputError("a revocation says why", field="reason")
    with transaction.atomic():
        locked = _locked(acceptance)
        if locked.status in (S.DRAFT, S.REQUESTED):
            if actor.pk != locked.requester_id and not actor.has_any_role((Role.CISO, Role.CIO)):
                raise PermissionDenied(
                    "only the requester, the CISO or the CIO withdraws a request"
                )
        elif not actor.has_any_role({*locked.required_roles, Role.CISO, Role.CIO}):
            raise PermissionDenied(f"a {actor.get_role_display()} cannot revoke RA-{locked.pk}")
        _close(locked, actor, S.REVOKED, reason.strip())
        return locked


def acceptance_renew(
    *,
    actor: Person,
    acceptance: RiskAcceptance | int,
    until: dt.date,
    justification: str,
    compensating_controls: str | None = None,
) -> RiskAcceptance:
    """Ask to extend an approved or expired acceptance: a new request, counted as a renewal."""
    with transaction.atomic():
        locked = _locked(acceptance)
        if locked.status not in (S.APPROVED, S.EXPIRED):
            raise RuleViolation(
                f"RA-{locked.pk} is {locked.status}; only approved or expired ones renew"
            )
        if RiskAcceptance.objects.filter(renewal_of=locked).exists():
            raise RuleViolation(f"RA-{locked.pk} already has a renewal")
        ids = list(
            Finding.objects.filter(
                acceptance_items__acceptance=locked, status__in=(Status.OPEN, Status.ACCEPTED)
            ).values_list("id", flat=True)
        )
        return acceptance_request(
            actor=actor,
            title=f"Renewal of RA-{locked.pk}: {locked.title}"[:200],
            scope=ScopeKind.FINDINGS if locked.scope == ScopeKind.FINDINGS else locked.scope,
            justification=justification,
            until=until,
            compensating_controls=(
                locked.compensating_controls if compensating_controls is None
                else compensating_controls
            ),
            finding_ids=ids,
            cve=locked.cve,
            rule_id=locked.rule_id,
            service=locked.service,
            asset=locked.asset,
            decision=locked.decision,
            renewal_of=locked,
        )  # fmt: skip


# ------------------------------------------------------------------------------ time and imports


def acceptances_expire(*, now: dt.datetime | None = None) -> list[int]:
    """Expire every approval whose end has passed; their findings reopen. Returns the ids."""
    moment = now or clock.now()
    expired = []
    due = RiskAcceptance.objects.filter(status=S.APPROVED, expires_at__lte=moment)
    for pk in due.values_list("id", flat=True):
        with transaction.atomic():
            locked = _locked(pk)
            if locked.status != S.APPROVED or locked.expires_at > moment:
                continue  # changed since we looked
            _close(locked, None, S.EXPIRED, f"reached its end ({locked.requested_until})")
            expired.append(pk)
    return expired


def acceptances_due_reminders(
    *, now: dt.datetime | None = None
) -> list[tuple[RiskAcceptance, int]]:
    """Approvals reaching a reminder point (policy ``reminder_days``) not yet reminded for it.

    Marks each as reminded in the same transaction, so a reminder goes out once.
    """
    moment = now or clock.now()
    doc, _ = active_policy()
    points = sorted(doc.acceptances.reminder_days, reverse=True)
    due: list[tuple[RiskAcceptance, int]] = []
    horizon = moment + dt.timedelta(days=max(points, default=0))
    with transaction.atomic():
        for acceptance in RiskAcceptance.objects.select_for_update().filter(
            status=S.APPROVED, expires_at__gt=moment, expires_at__lte=horizon
        ):
            left = (acceptance.expires_at - moment).total_seconds() / 86400
            reached = [p for p in points if left <= p and p not in acceptance.reminders_sent]
            if not reached:
                continue
            point = min(reached)
            acceptance.reminders_sent = sorted({*acceptance.reminders_sent, *reached}, reverse=True)
            acceptance.save(update_fields=["reminders_sent"])
            due.append((acceptance, point))
    return due


def acceptances_reconcile(*, scan: ScanImport, actor: Person | None = None) -> dict[str, int]:
    """After an import: note covered findings that disappeared, and cover new findings that fall
    inside an approved CVE- or rule-scoped acceptance when policy allows."""
    if (
        not scan.closed
        and not RiskAcceptance.objects.filter(
            status=S.APPROVED, scope__in=(ScopeKind.CVE, ScopeKind.RULE)
        ).exists()
    ):
        # nothing this import closed, and no approved acceptance that findings could join: one
        # query, not a transaction, per file of a folder
        return {"noted_fixed": 0, "covered_new": 0}
    doc, _ = active_policy()
    now = clock.now()
    noted = 0
    with transaction.atomic():
        gone = AcceptanceFinding.objects.select_for_update().filter(
            fixed_at__isnull=True,
            finding__status=Status.FIXED,
            finding__last_import=scan,
            acceptance__status=S.APPROVED,
        )
        # only findings this import closed can have disappeared (none: no query)
        for item in gone.select_related("finding") if scan.closed else ():
            item.fixed_at = item.finding.closed_at or now
            item.save(update_fields=["fixed_at"])
            noted += 1
            audit_record(
                actor=actor, verb="acceptance.finding_fixed", subject_type="acceptance",
                subject_id=item.acceptance_id, after={"finding": item.finding_id},
            )  # fmt: skip
        covered = 0
        if doc.acceptances.cover_new_findings:
            for acceptance in RiskAcceptance.objects.select_for_update().filter(
                status=S.APPROVED, scope__in=(ScopeKind.CVE, ScopeKind.RULE)
            ):
                new = list(
                    scope_findings(
                        scope=acceptance.scope, cve=acceptance.cve, rule_id=acceptance.rule_id,
                        service=acceptance.service, asset=acceptance.asset,
                    )
                    .filter(status=Status.OPEN)
                    .exclude(acceptance_items__acceptance=acceptance)
                )  # fmt: skip
                if not new:
                    continue
                AcceptanceFinding.objects.bulk_create(
                    [
                        AcceptanceFinding(
                            acceptance=acceptance,
                            finding=f,
                            reason=CoverReason.NEW_IN_SCOPE,
                            added_at=now,
                        )
                        for f in new
                    ]
                )
                Finding.objects.filter(id__in=[f.pk for f in new]).update(status=Status.ACCEPTED)
                covered += len(new)
                audit_record(
                    actor=actor, verb="acceptance.covered_new", subject_type="acceptance",
                    subject_id=acceptance.pk, after={"findings": [f.pk for f in new]},
                )  # fmt: skip
    return {"noted_fixed": noted, "covered_new": covered}


def reconcile_after_import(scan: ScanImport, actor: Person | None) -> None:
    """Registered with ``findings.services.after_import`` (``AcceptancesConfig.ready``)."""
    acceptances_reconcile(scan=scan, actor=actor)
