"""Release-gate runs and their overrides.

A ``GateRun`` is one decision on one build (service, version, commit) from its scan reports:
the files' digests, the decision, the rules hit, the duration. An override of a blocked run is a
``GateOverride`` with its decision record; it needs a second signature within the policy's hours.
"""

from __future__ import annotations

from django.db import models


class GateDecision(models.TextChoices):
    PASS = "pass", "Pass"
    BLOCKED = "blocked", "Blocked"
    OVERRIDDEN = "overridden", "Blocked, passed by override"


class GateRun(models.Model):
    service = models.ForeignKey(
        "inventory.BusinessService", on_delete=models.PROTECT, related_name="gate_runs"
    )
    version = models.CharField(max_length=200)
    commit = models.CharField(max_length=80, blank=True)
    ref = models.CharField(max_length=200, blank=True, help_text="Branch or tag of the build")
    asset_name = models.CharField(max_length=500, blank=True)
    decision = models.CharField(max_length=16, choices=GateDecision.choices)
    # [{"name", "sha256", "size", "format", "kind", "findings", "age_hours"}]
    files = models.JSONField(default=list)
    rules_hit = models.JSONField(default=dict)  # rule id -> {"level", "count"}
    counts = models.JSONField(default=dict)  # blocking, warn, accepted, not_affected, baseline, …
    blocking = models.JSONField(default=list)  # the first blocking findings, as shown
    # Fingerprints of every finding the build carried, for later runs' --baseline
    keys = models.JSONField(default=list)
    scan_kinds = models.JSONField(default=list)  # sca, sast, secrets, iac, container, dast
    baseline_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    policy_version = models.PositiveIntegerField()
    actor = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    imported = models.BooleanField(default=False)

    class Meta:
        ordering = ("-started_at", "-id")
        indexes = (models.Index(fields=("service", "started_at"), name="gaterun_service_time"),)

    def __str__(self) -> str:
        return f"gate run #{self.pk} {self.version}: {self.decision}"


class OverrideStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the second signature"
    CONFIRMED = "confirmed", "Confirmed by a second signature"
    ESCALATED = "escalated", "Escalated: no second signature in time"
    REJECTED = "rejected", "Rejected by the second signer"


OS = OverrideStatus

# The only legal moves. A test walks every pair of states against this table.
ALLOWED: dict[str, frozenset[str]] = {
    OS.PENDING: frozenset({OS.CONFIRMED, OS.REJECTED, OS.ESCALATED}),
    OS.ESCALATED: frozenset({OS.CONFIRMED, OS.REJECTED}),
    OS.CONFIRMED: frozenset(),
    OS.REJECTED: frozenset(),
}


class GateOverride(models.Model):
    run = models.OneToOneField(GateRun, on_delete=models.PROTECT, related_name="override")
    actor = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32)
    reason = models.TextField()
    decision = models.ForeignKey(
        "decisions.DecisionRecord", on_delete=models.PROTECT, related_name="gate_overrides"
    )
    status = models.CharField(max_length=16, choices=OverrideStatus.choices, default=OS.PENDING)
    created_at = models.DateTimeField()
    second_due = models.DateTimeField()
    second_signer = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    second_signed_at = models.DateTimeField(null=True, blank=True)
    second_comment = models.TextField(blank=True)
    # Critical findings the override released that no acceptance covered (red line 4's input)
    uncovered_critical = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"GO-{self.pk} of run #{self.run_id}: {self.status}"


class VexState(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    REVIEWED = "reviewed", "Reviewed"
    RECORDED = "recorded", "Recorded as a fact (affected, fixed, under investigation)"
    SUPERSEDED = "superseded", "Superseded by a later statement"


class VexStatement(models.Model):
    """One incoming VEX statement: a vulnerability, a package and its versions, a status. A
    ``not_affected`` one marks its matching findings not affected once a role the policy names
    has reviewed it; ``affected`` and ``fixed`` ones are recorded as facts."""

    vuln_id = models.CharField(max_length=200)
    package = models.CharField(max_length=500)  # purl without version
    name = models.CharField(max_length=300)  # the component name findings carry
    versions = models.CharField(max_length=500, blank=True)  # "", a version or a vers: range
    status = models.CharField(max_length=24)
    justification = models.CharField(max_length=200, blank=True)
    detail = models.TextField(blank=True)
    author = models.CharField(max_length=300, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    document = models.CharField(max_length=500)
    document_sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=16)
    record = models.CharField(max_length=200)
    state = models.CharField(max_length=16, choices=VexState.choices, default=VexState.PENDING)
    applied_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    findings = models.ManyToManyField("findings.Finding", related_name="vex_statements")

    class Meta:
        ordering = ("-applied_at", "-id")
        indexes = (models.Index(fields=("vuln_id", "name"), name="vex_vuln_name"),)

    def __str__(self) -> str:
        return f"VEX-{self.pk} {self.vuln_id} {self.package}: {self.status}"
