"""Leader profiles, monthly pulse answers and the radar's snapshot per period."""

from __future__ import annotations

import datetime as dt

from django.db import models


class LeaderRole(models.TextChoices):
    CIO = "cio", "CIO"
    CISO = "ciso", "CISO"


class Zone(models.TextChoices):
    GREEN = "green", "Green"
    AMBER = "amber", "Amber"
    RED = "red", "Red"


ZONE_RANK = {Zone.GREEN: 0, Zone.AMBER: 1, Zone.RED: 2}


class LeaderProfile(models.Model):
    """One completed questionnaire; a person's latest is their current profile."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=8, choices=LeaderRole.choices)
    answers = models.JSONField()
    conflict_answers = models.JSONField(null=True, blank=True)  # CS-9, optional
    dimensions = models.JSONField()  # archetype key -> within-person z
    primary = models.CharField(max_length=32)
    secondary = models.CharField(max_length=32)
    weights = models.JSONField()  # the top two, summing to 1
    kind = models.CharField(max_length=16)  # single | blend | undifferentiated
    conflict = models.JSONField(null=True, blank=True)  # assertiveness, cooperativeness, ...
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ("-taken_at", "-id")

    def __str__(self) -> str:
        return f"{self.person_id} as {self.role}: {self.primary}/{self.secondary}"


class PulseResponse(models.Model):
    """One leader's monthly pulse: P1-P10 and how they think the counterpart answered."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=8, choices=LeaderRole.choices)
    period = models.CharField(max_length=7)  # YYYY-MM
    answers = models.JSONField()  # {"P1": 4, ...}
    meta = models.JSONField(default=dict)  # {"P3": 4, "P9": 5}: the counterpart's answers, guessed
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ("period", "role")
        constraints = (
            models.UniqueConstraint(fields=("period", "role"), name="one_pulse_per_role_period"),
        )

    def __str__(self) -> str:
        return f"{self.role} pulse {self.period}"


class TensionSnapshot(models.Model):
    """The radar for one period: the same numbers for both leaders, each down to its evidence."""

    period = models.CharField(max_length=7, unique=True)  # YYYY-MM
    index = models.FloatField()
    zone = models.CharField(max_length=8, choices=Zone.choices)
    raw_zone = models.CharField(max_length=8, choices=Zone.choices)  # before hysteresis
    sub_indices = models.JSONField()  # name -> 0..1 (null when no input)
    triggers = models.JSONField(default=list)  # red lines and the silence detector
    actions = models.JSONField(default=dict)  # what the zone calls for
    signals = models.JSONField(default=list)  # key, value, normalised, evidence
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    # Why the zone differs from the month before (index.explain_change); null when it does not.
    change = models.JSONField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ("period",)

    def __str__(self) -> str:
        return f"{self.period}: {self.index:.0f} {self.zone}"

    @property
    def period_end(self) -> dt.datetime:
        year, month = (int(part) for part in self.period.split("-"))
        return dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)

    @property
    def month_to_date(self) -> bool:
        """Computed before its month ended: judged as of ``computed_at``, not the month's end."""
        return self.computed_at < self.period_end

    @property
    def as_of(self) -> dt.datetime:
        """The moment the figures describe: the month's end, or when a running month was judged."""
        return min(self.computed_at, self.period_end)
