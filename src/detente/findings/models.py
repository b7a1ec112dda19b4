"""Findings, the vulnerability facts they share, and the imports that produced them.

The import hot path writes these tables with set-based SQL (see ``findings/store.py``); the column
names here are the contract with it.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce

# Where a finding without a deadline sorts: after every real deadline.
NO_DEADLINE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


class Status(models.TextChoices):
    OPEN = "open", "Open"
    FIXED = "fixed", "Fixed"
    ACCEPTED = "accepted", "Accepted"
    FALSE_POSITIVE = "false_positive", "False positive"
    MITIGATED = "mitigated", "Mitigated"
    NOT_AFFECTED = "not_affected", "Not affected (reviewed VEX)"


# Statuses in which a finding is still reported by its scanner and still counts as present.
PRESENT = (Status.OPEN, Status.ACCEPTED, Status.FALSE_POSITIVE)
# Statuses that a new report of the same flaw turns back into open.
REOPENABLE = (Status.FIXED, Status.MITIGATED)


class SeverityLevel(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INFO = "info", "Info"


class Vulnerability(models.Model):
    """What is known about one vulnerability id, stored once however many findings carry it."""

    vuln_id = models.CharField(max_length=200, primary_key=True)
    title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    references = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.vuln_id


class DeadlineReason(models.Model):
    """Why a deadline is what it is: the policy, the rule or table row, and the inputs with their
    sources. Few distinct reasons exist, so findings point at one instead of each carrying a copy.
    """

    digest = models.CharField(max_length=32, unique=True)
    reason = models.JSONField()

    def __str__(self) -> str:
        return str(self.reason.get("rule", self.digest))


class ScanImport(models.Model):
    file_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    format = models.CharField(max_length=32)
    scanner = models.CharField(max_length=64, blank=True)
    service = models.ForeignKey(
        "inventory.BusinessService", null=True, blank=True, on_delete=models.SET_NULL
    )
    actor = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    parsed = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    refreshed = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    # records the parse skipped, and what it noticed: [{kind, record, field, message}], kinds
    # skipped / emptied / dropped / stripped (findings.importer.Note; the first MAX_NOTES)
    skipped = models.PositiveIntegerField(default=0)
    notes = models.JSONField(default=list, blank=True)
    # the report's own top-level fields we do not read (a generic report's title, date, …)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"import #{self.pk} {self.file_name}"


class ScanScope(models.Model):
    """One scanner's view of one asset: when it last reported, by which import.

    A finding that is present (open, accepted, false positive) was last seen at its scope's
    ``last_seen``: any later import of the scope that did not report it would have closed it. So
    re-imports update one row per scope instead of every finding.
    """

    asset = models.ForeignKey("inventory.Asset", on_delete=models.CASCADE, related_name="scopes")
    scanner = models.CharField(max_length=64)
    last_import = models.ForeignKey(ScanImport, on_delete=models.PROTECT, related_name="+")
    last_seen = models.DateTimeField()

    class Meta:
        constraints = (models.UniqueConstraint(fields=("asset", "scanner"), name="scope_unique"),)

    def __str__(self) -> str:
        return f"{self.scanner} on {self.asset_id}"


class Finding(models.Model):
    # Unique through Meta.constraints, not unique=True: on PostgreSQL a unique CharField also gets
    # a second, varchar_pattern_ops index for LIKE queries that nothing runs on a fingerprint, and
    # every import row would pay for it.
    fingerprint = models.CharField(max_length=32)
    # The import hot path writes millions of rows; per-row foreign-key checks cost a third of
    # SQLite's insert rate, so these references are kept by the code (PROTECT in the ORM), not by
    # database constraints. See ARCHITECTURE.md.
    asset = models.ForeignKey(
        "inventory.Asset",
        on_delete=models.PROTECT,
        related_name="findings",
        db_index=False,
        db_constraint=False,
    )
    scanner = models.CharField(max_length=64)
    vuln_id = models.CharField(max_length=200)
    cve = models.CharField(max_length=32, null=True, blank=True)
    aliases = models.JSONField(default=list, blank=True)
    title = models.CharField(max_length=500)
    severity = models.CharField(max_length=10, choices=SeverityLevel.choices)
    scanner_severity = models.CharField(max_length=40, blank=True)
    component = models.CharField(max_length=300, null=True, blank=True)
    component_version = models.CharField(max_length=200, null=True, blank=True)
    fixed_in = models.CharField(max_length=500, null=True, blank=True)
    file_path = models.CharField(max_length=1000, null=True, blank=True)
    line = models.IntegerField(null=True, blank=True)
    endpoint = models.CharField(max_length=1000, null=True, blank=True)
    cwe = models.IntegerField(null=True, blank=True)
    cvss_vector = models.CharField(max_length=200, null=True, blank=True)
    cvss_score = models.FloatField(null=True, blank=True)
    cvss_version = models.CharField(max_length=4, blank=True)
    kev = models.BooleanField(default=False)
    epss = models.FloatField(null=True, blank=True)
    epss_percentile = models.FloatField(null=True, blank=True)
    exposed = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    suppressed_by_tool = models.BooleanField(default=False)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    # What the deadline counts from when it is not ``first_seen``: a restart (a reopened finding
    # under ``restart_on_reopen``, or an expired acceptance under the policy's restart rule).
    deadline_basis = models.DateTimeField(null=True, blank=True)
    deadline_class = models.CharField(max_length=32, blank=True)
    deadline_reason = models.ForeignKey(
        DeadlineReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
    )
    needs_analyst = models.BooleanField(default=False)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    state_hash = models.CharField(max_length=16)
    last_import = models.ForeignKey(
        ScanImport,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    # The priority order of every finding list (exploited, then exposed, then the nearest deadline
    # with "none" last, then id), as two columns the database computes on every write, so that one
    # index serves the order and a keyset cursor seeks into it: no sort of the open findings, and
    # no writer (importer, intel refresh, policy apply, exposure change) has to remember them.
    # ``priority`` 0 = KEV and exposed, 1 = KEV, 2 = exposed, 3 = neither.
    priority = models.GeneratedField(
        expression=Case(When(kev=True, then=Value(0)), default=Value(2))
        + Case(When(exposed=True, then=Value(0)), default=Value(1)),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )
    due = models.GeneratedField(
        expression=Coalesce(F("deadline"), Value(NO_DEADLINE)),
        output_field=models.DateTimeField(),
        db_persist=True,
    )

    class Meta:
        # One index is both the fingerprint's uniqueness and the scope lookup of the importer and
        # the asset pages (asset first). The fingerprint is a hash that already contains scanner
        # and asset, so this is exactly as unique as the fingerprint alone, and a scanner file's
        # new rows land together at the end of their asset's range instead of on as many random
        # index pages as the file has findings (each of which a commit writes to the log).
        constraints = (
            models.UniqueConstraint(
                fields=("asset", "scanner", "fingerprint"), name="finding_identity"
            ),
        )
        indexes = (
            models.Index(fields=("status", "deadline"), name="finding_status_deadline"),
            models.Index(fields=("cve",), name="finding_cve"),
            models.Index(fields=("status", "priority", "due", "id"), name="finding_priority"),
        )

    def __str__(self) -> str:
        return f"{self.vuln_id} on {self.asset_id}"

    @property
    def reason(self) -> dict[str, object]:
        """The deadline's reason (policy, rule, inputs and sources), or {} when none is set."""
        reason = self.deadline_reason
        return dict(reason.reason) if reason is not None else {}
