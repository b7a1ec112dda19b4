"""Decision records: the question, the options with their business benefit and facts, both
leaders' positions, and the five principles as fields."""

from __future__ import annotations

from django.db import models


class PressurePoint(models.TextChoices):
    PATCHING = "patching", "Patching and deferrals"
    CUSTOMER_CHANGE = "customer_change", "Security changes that touch customers"
    API_PLATFORM = "api_platform", "API platforms"
    INCIDENT = "incident", "Incidents"
    DEVSECOPS = "devsecops", "DevOps vs DevSecOps"


class EscalationLevel(models.TextChoices):
    TEAM = "team", "Team"
    LEADERS = "leaders", "CIO and CISO"
    EXECUTIVE = "executive", "Executive"
    FACILITATOR = "facilitator", "Independent facilitator"


class DecisionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DECIDED = "decided", "Decided"


class DecisionRecord(models.Model):
    title = models.CharField(max_length=200)
    pressure_point = models.CharField(max_length=32, choices=PressurePoint.choices)
    question = models.TextField()
    # [{"title", "business_benefit", "facts": [str], "findings": [int]}]; at least one option
    options = models.JSONField(default=list)
    company_first = models.TextField(blank=True, help_text="Why this serves the company first")
    cio_position = models.TextField(blank=True)
    ciso_position = models.TextField(blank=True)
    informed = models.JSONField(default=list, blank=True)  # who was told (transparency)
    win_win = models.TextField(blank=True, help_text="The win-win option considered")
    decision = models.TextField(blank=True)
    chosen_option = models.PositiveSmallIntegerField(null=True, blank=True)
    # Whose recommendation the outcome followed; the tension radar counts outcomes against the CISO.
    ciso_recommendation_followed = models.BooleanField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=DecisionStatus.choices, default=DecisionStatus.OPEN
    )
    escalation_level = models.CharField(
        max_length=16, choices=EscalationLevel.choices, default=EscalationLevel.TEAM
    )
    review_date = models.DateField(null=True, blank=True)
    # Why principles were blank when decided (the decider must say; decisions.principles)
    principles_waived = models.TextField(blank=True)
    created_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"DR-{self.pk}: {self.title}"
