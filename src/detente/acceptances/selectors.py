"""Reads of risk acceptances: what a person may see, what waits for their signature."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from detente.acceptances.models import (
    AcceptanceFinding,
    AcceptanceStatus,
    RiskAcceptance,
    SignatureDecision,
)
from detente.core import clock
from detente.core.errors import NotFound
from detente.decisions.principles import Principle, missing_of_request
from detente.findings.models import Finding
from detente.people.models import Person, Role

EXPIRING_WITHIN = dt.timedelta(days=30)


def visible_acceptances(person: Person) -> QuerySet[RiskAcceptance]:
    """Every acceptance, except for a service owner: those covering their services' findings or
    requested for one of their services (what the acceptance pages answer with 200)."""
    query = RiskAcceptance.objects.select_related("requester").prefetch_related("signatures")
    if person.owner_scoped:
        query = query.filter(
            Q(items__finding__asset__service__owner=person) | Q(service__owner=person)
        ).distinct()
    return query


def awaiting_signature_of(person: Person) -> list[RiskAcceptance]:
    """Requested acceptances ``person`` may sign now: their role is required and not yet signed,
    they did not request it and have not signed it in another role; a service owner only for
    their own services. Oldest request first."""
    if person.has_role(Role.AUDITOR):
        return []
    pending = (
        visible_acceptances(person)
        .filter(status=AcceptanceStatus.REQUESTED)
        .exclude(requester=person)
        .order_by("requested_at", "id")
    )
    return [a for a in pending if roles_to_sign(person, a)]


def roles_to_sign(person: Person, acceptance: RiskAcceptance) -> list[str]:
    """The required roles ``person`` holds that are not signed yet; none once they signed in any
    role or when they requested it (separation of duties: one person, one signature, even when
    they hold two of the required roles)."""
    if person.pk == acceptance.requester_id:
        return []
    signatures = list(acceptance.signatures.all())
    if any(s.signer_id == person.pk for s in signatures):
        return []
    signed = {s.role for s in signatures}
    return [r for r in acceptance.required_roles if r not in signed and person.has_role(r)]


def requested_by(person: Person, *, limit: int = 20) -> list[RiskAcceptance]:
    """The person's own requests still open or recently decided, newest first."""
    return list(
        RiskAcceptance.objects.filter(requester=person)
        .prefetch_related("signatures")
        .order_by("-created_at", "-id")[:limit]
    )


def expiring(person: Person, *, within: dt.timedelta = EXPIRING_WITHIN) -> list[RiskAcceptance]:
    """Approved acceptances the person may see that end within ``within``, soonest first."""
    return list(
        visible_acceptances(person)
        .filter(status=AcceptanceStatus.APPROVED, expires_at__lte=clock.now() + within)
        .order_by("expires_at", "id")[:20]
    )


def signature_states(acceptance: RiskAcceptance) -> list[tuple[str, str]]:
    """Each required role with "signed" or "pending" (or "rejected"), in the order required."""
    verdicts = {s.role: s.verdict for s in acceptance.signatures.all()}
    out = []
    for role in acceptance.required_roles:
        verdict = verdicts.get(role)
        out.append((role, "pending" if verdict is None else
                    "signed" if verdict == SignatureDecision.APPROVE else "rejected"))  # fmt: skip
    return out


def latest_until(findings: Iterable[Finding]) -> tuple[dt.date, int] | None:
    """The latest "defer until" date the active policy allows for these findings (their strictest
    deadline class, a first request), and that many days; None without a deadline class."""
    from detente.policy.services import active_policy

    classes = [f.deadline_class for f in findings if f.deadline_class]
    if not classes:
        return None
    doc, _ = active_policy()

    def days(cls: str) -> float:
        value = doc.deadlines.classes[cls].days
        return float("inf") if value is None else value

    strictest = min(classes, key=days)
    rule = doc.acceptances.by_class.get(strictest)
    if rule is None:
        return None
    return clock.today() + dt.timedelta(days=rule.max_days), rule.max_days


def acceptance_get(pk: int) -> RiskAcceptance:
    found = RiskAcceptance.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"risk acceptance {pk} does not exist")
    return found


def acceptances_list(*, status: str | None = None) -> QuerySet[RiskAcceptance]:
    """Every acceptance (newest first), optionally of one status, with requester and signatures."""
    query = RiskAcceptance.objects.select_related("requester").prefetch_related("signatures")
    return query.filter(status=status) if status else query


def acceptance_ids_of(finding: Finding) -> list[int]:
    """The acceptances that cover ``finding``."""
    return list(
        AcceptanceFinding.objects.filter(finding=finding).values_list("acceptance_id", flat=True)
    )


def acceptances_of(finding: Finding) -> QuerySet[RiskAcceptance]:
    """The acceptances that cover ``finding``."""
    return RiskAcceptance.objects.filter(items__finding=finding).distinct()


def principles_lacking(acceptance: RiskAcceptance) -> list[Principle]:
    """The five principles this acceptance (with its decision record, if any) still lacks."""
    return missing_of_request(
        acceptance.decision,
        business_benefit=acceptance.justification,
        has_facts=bool(acceptance.cve or acceptance.rule_id or acceptance.items.exists()),
    )
