"""Risk acceptances, the findings they cover, and the signatures that approve them."""

from __future__ import annotations

from django.db import models


class AcceptanceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    SUPERSEDED = "superseded", "Superseded by a renewal"


S = AcceptanceStatus

# The only legal moves. A test walks every pair of states against this table.
ALLOWED: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.REQUESTED, S.REVOKED}),
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED, S.REVOKED}),
    S.APPROVED: frozenset({S.EXPIRED, S.REVOKED, S.SUPERSEDED}),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REVOKED: frozenset(),
    S.SUPERSEDED: frozenset(),
}


class ScopeKind(models.TextChoices):
    FINDINGS = "findings", "Chosen findings"
    CVE = "cve", "A CVE across a service"
    RULE = "rule", "A rule on an asset or service"


class RiskAcceptance(models.Model):
    title = models.CharField(max_length=200)
    scope = models.CharField(max_length=16, choices=ScopeKind.choices)
    cve = models.CharField(max_length=32, blank=True)
    rule_id = models.CharField(max_length=200, blank=True)
    service = models.ForeignKey(
        "inventory.BusinessService", null=True, blank=True, on_delete=models.PROTECT
    )
    asset = models.ForeignKey("inventory.Asset", null=True, blank=True, on_delete=models.PROTECT)
    justification = models.TextField(help_text="The business benefit of deferring")
    compensating_controls = models.TextField(blank=True)
    requested_until = models.DateField()
    expires_at = models.DateTimeField()
    deadline_class = models.CharField(max_length=32)
    required_roles = models.JSONField(default=list)
    status = models.CharField(
        max_length=16, choices=AcceptanceStatus.choices, default=AcceptanceStatus.DRAFT
    )
    requester = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    decision = models.ForeignKey(
        "decisions.DecisionRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="acceptances",
    )
    renewal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewal"
    )
    renewals = models.PositiveSmallIntegerField(default=0)
    policy_version = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    requested_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # rejected/expired/revoked/superseded
    closed_reason = models.TextField(blank=True)
    reminders_sent = models.JSONField(default=list, blank=True)  # days-before values already sent

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (models.Index(fields=("status", "expires_at")),)

    def __str__(self) -> str:
        return f"RA-{self.pk}: {self.title}"


class CoverReason(models.TextChoices):
    REQUESTED = "requested", "In the request"
    NEW_IN_SCOPE = "new_in_scope", "New finding inside the scope"


class AcceptanceFinding(models.Model):
    """A finding an acceptance covers; ``fixed_at`` notes one that disappeared while covered."""

    acceptance = models.ForeignKey(RiskAcceptance, on_delete=models.CASCADE, related_name="items")
    finding = models.ForeignKey(
        "findings.Finding", on_delete=models.CASCADE, related_name="acceptance_items"
    )
    reason = models.CharField(max_length=16, choices=CoverReason.choices)
    added_at = models.DateTimeField()
    fixed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("acceptance", "finding"), name="acceptance_item"),
        )

    def __str__(self) -> str:
        return f"RA-{self.acceptance_id} covers {self.finding_id}"


class SignatureDecision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class Signature(models.Model):
    """One signer's verdict, with the facts as they stood at that moment."""

    acceptance = models.ForeignKey(
        RiskAcceptance, on_delete=models.CASCADE, related_name="signatures"
    )
    signer = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32)
    verdict = models.CharField(max_length=8, choices=SignatureDecision.choices)
    comment = models.TextField(blank=True)
    signed_at = models.DateTimeField()
    facts = models.JSONField()

    class Meta:
        ordering = ("signed_at", "id")
        constraints = (
            models.UniqueConstraint(fields=("acceptance", "role"), name="one_signature_per_role"),
            models.UniqueConstraint(
                fields=("acceptance", "signer"), name="one_signature_per_person"
            ),
        )

    def __str__(self) -> str:
        return f"{self.signer_id} {self.verdict}s RA-{self.acceptance_id} as {self.role}"
