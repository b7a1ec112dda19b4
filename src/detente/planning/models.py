"""Change windows, blackouts, effort overrides, emergency changes and the plans built on them."""

from __future__ import annotations

from django.db import models


class CapacityUnit(models.TextChoices):
    SLOTS = "slots", "Change slots (one work item each)"
    HOURS = "hours", "Engineer-hours"


class ChangeWindow(models.Model):
    """A recurring window in which a business service may be changed.

    ``rrule`` is an RFC 5545 recurrence rule (``FREQ=WEEKLY;BYDAY=SA``) anchored at ``starts_on``
    + ``start_time`` in ``timezone``: wall-clock time, so 02:00 stays 02:00 across DST changes.
    """

    service = models.ForeignKey(
        "inventory.BusinessService", on_delete=models.PROTECT, related_name="change_windows"
    )
    name = models.CharField(max_length=200)
    rrule = models.CharField(max_length=500)
    starts_on = models.DateField()
    start_time = models.TimeField()
    timezone = models.CharField(max_length=64, default="UTC")
    duration_minutes = models.PositiveIntegerField()
    capacity = models.FloatField()
    capacity_unit = models.CharField(
        max_length=8, choices=CapacityUnit.choices, default=CapacityUnit.HOURS
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("service_id", "name", "id")

    def __str__(self) -> str:
        return f"{self.name} ({self.rrule})"


class Blackout(models.Model):
    """No change in ``[starts_at, ends_at)``: for one service, or all when ``service`` is null."""

    service = models.ForeignKey(
        "inventory.BusinessService",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="blackouts",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("starts_at", "id")

    def __str__(self) -> str:
        return f"blackout {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}: {self.reason}"


class EffortOverride(models.Model):
    """The effort of one work item (by its key), when the policy default by kind is wrong."""

    item_key = models.CharField(max_length=400, unique=True)
    hours = models.FloatField()
    reason = models.CharField(max_length=300)
    set_at = models.DateTimeField()
    set_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.item_key}: {self.hours} h"


class EmergencyChange(models.Model):
    """A change outside any window, called by a role the policy names, counted per month."""

    service = models.ForeignKey(
        "inventory.BusinessService", on_delete=models.PROTECT, related_name="emergency_changes"
    )
    item_key = models.CharField(max_length=400, blank=True)
    finding_ids = models.JSONField(default=list)
    reason = models.TextField()
    scheduled_for = models.DateTimeField()
    called_at = models.DateTimeField()
    called_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    plan_item = models.ForeignKey(
        "PlanItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-called_at", "-id")

    def __str__(self) -> str:
        return f"emergency change {self.pk} on {self.service_id}"


class PlanStatus(models.TextChoices):
    CURRENT = "current", "Current"
    SUPERSEDED = "superseded", "Superseded by a newer plan"


# The only legal moves. A test walks every pair of states against this table.
ALLOWED: dict[str, frozenset[str]] = {
    PlanStatus.CURRENT: frozenset({PlanStatus.SUPERSEDED}),
    PlanStatus.SUPERSEDED: frozenset(),
}


class PatchPlan(models.Model):
    """One run of the planner: what it assigned, what it could not, and what that costs."""

    status = models.CharField(max_length=16, choices=PlanStatus.choices)
    made_at = models.DateTimeField()
    made_by = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    horizon_start = models.DateTimeField()
    horizon_end = models.DateTimeField()
    method = models.CharField(max_length=16)  # cp-sat | greedy
    optimal = models.BooleanField(default=False)
    objective = models.FloatField()
    exposure_days = models.FloatField()
    items = models.PositiveIntegerField()
    planned = models.PositiveIntegerField()
    missed = models.PositiveIntegerField()
    solve_ms = models.PositiveIntegerField()
    policy_version = models.PositiveIntegerField()
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ("-made_at", "-id")

    def __str__(self) -> str:
        return f"plan {self.pk} ({self.status})"


class MissReason(models.TextChoices):
    NONE = "", "On time"
    CAPACITY = "capacity", "Not enough capacity before the deadline"
    NO_WINDOW = "no_window", "No change window before the deadline"


class PlanItem(models.Model):
    """One work item in a plan: where it goes (if anywhere), and whether it meets its deadline."""

    plan = models.ForeignKey(PatchPlan, on_delete=models.CASCADE, related_name="work")
    key = models.CharField(max_length=400)
    kind = models.CharField(max_length=16)
    asset = models.ForeignKey("inventory.Asset", on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(
        "inventory.BusinessService",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    component = models.CharField(max_length=300, blank=True)
    effort_hours = models.FloatField()
    weight = models.FloatField()
    deadline = models.DateTimeField()
    deadline_class = models.CharField(max_length=32)
    finding_ids = models.JSONField()
    window = models.ForeignKey(
        ChangeWindow, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    exposure_days = models.FloatField()
    late_days = models.FloatField(default=0)
    miss = models.CharField(max_length=16, choices=MissReason.choices, blank=True, default="")
    remedies = models.JSONField(default=list, blank=True)
    acceptance = models.ForeignKey(
        "acceptances.RiskAcceptance",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ("plan_id", "starts_at", "id")
        indexes = (models.Index(fields=("plan", "miss")),)

    def __str__(self) -> str:
        return f"{self.key} in plan {self.plan_id}"
