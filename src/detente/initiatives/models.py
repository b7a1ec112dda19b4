"""Data and invariants of initiatives: an initiative, its phases (a state machine), each phase's
guardrails and their signatures, metric points, and the history of every move."""

from __future__ import annotations

from django.db import models


class PhaseStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    RESUMED = "resumed", "Resumed"
    ROLLED_BACK = "rolled_back", "Rolled back"
    DONE = "done", "Done"
    # A leader objected and the rollout was cancelled: the phase and every later one not started.
    CANCELLED = "cancelled", "Cancelled after objection"


P = PhaseStatus

# The only legal moves of a phase; a test walks every pair of states against this table.
# A paused phase goes on only through a go/no-go decision (resumed) or is rolled back; a resumed
# phase may pause again. Any phase not ended may be cancelled after a leader's objection. Rolled
# back, done and cancelled are final (a retry is a new phase).
ALLOWED: dict[str, frozenset[str]] = {
    P.PLANNED: frozenset({P.RUNNING, P.CANCELLED}),
    P.RUNNING: frozenset({P.PAUSED, P.ROLLED_BACK, P.DONE, P.CANCELLED}),
    P.PAUSED: frozenset({P.RESUMED, P.ROLLED_BACK, P.CANCELLED}),
    P.RESUMED: frozenset({P.PAUSED, P.ROLLED_BACK, P.DONE, P.CANCELLED}),
    P.ROLLED_BACK: frozenset(),
    P.DONE: frozenset(),
    P.CANCELLED: frozenset(),
}

# States a phase never leaves.
ENDED = frozenset({P.ROLLED_BACK, P.DONE, P.CANCELLED})

# States in which a phase's cohort sees the change and its guardrails are evaluated.
LIVE = frozenset({P.RUNNING, P.RESUMED})


class Side(models.TextChoices):
    CIO = "cio", "CIO side"
    CISO = "ciso", "CISO side"


class Direction(models.TextChoices):
    """On which side of the threshold a value breaches the guardrail."""

    BELOW = "below", "breached below the threshold"
    ABOVE = "above", "breached above the threshold"


class GuardrailAction(models.TextChoices):
    PAUSE = "pause", "Pause the phase"
    NOTIFY = "notify", "Notify both sponsors"


class GuardrailState(models.TextChoices):
    UNKNOWN = "unknown", "Not evaluated"
    HEALTHY = "healthy", "Healthy"
    BREACHED = "breached", "Breached"
    # No (or too few) points in the window, or the source failed: never counts as healthy.
    UNAVAILABLE = "unavailable", "Metric unavailable"


class Initiative(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    cio_sponsor = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    ciso_sponsor = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    services = models.ManyToManyField("inventory.BusinessService", related_name="+", blank=True)
    # The risk it reduces: a figure with its baseline and the expected value after the rollout.
    risk_measure = models.CharField(max_length=200)
    risk_baseline = models.FloatField()
    risk_expected = models.FloatField()
    risk_observed = models.FloatField(null=True, blank=True)
    # {"findings": [int], "threats": [str], "incident_types": [str]}
    risk_links = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=300, blank=True)  # the YAML file's name
    created_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"IN-{self.pk}: {self.title}"


class Phase(models.Model):
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="phases")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    # [{"share": percent, "segment": str, "region": str, "channel": str}]
    cohorts = models.JSONField(default=list)
    share = models.FloatField()  # the cohorts' total share of users, percent (≤ 100)
    planned_start = models.DateField()
    planned_end = models.DateField()
    entry_criteria = models.JSONField(default=list, blank=True)
    # [{"audience", "message", "channel", "date", "owner", "done_by", "done_at"}]
    comms = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=PhaseStatus.choices, default=P.PLANNED)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The go/no-go decision a pause opened; resuming needs it decided for "go".
    go_no_go = models.ForeignKey(
        "decisions.DecisionRecord", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    # A temporary risk acceptance for the window where enforcement is partial; it ends with the
    # phase.
    acceptance = models.ForeignKey(
        "acceptances.RiskAcceptance", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ("initiative", "number")
        constraints = [
            models.UniqueConstraint(fields=("initiative", "number"), name="phase_number"),
        ]

    def __str__(self) -> str:
        return f"IN-{self.initiative_id} phase {self.number}: {self.name}"


class Guardrail(models.Model):
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="guardrails")
    metric = models.CharField(max_length=64)  # the series' key, e.g. login_success_rate
    label = models.CharField(max_length=200)
    unit = models.CharField(max_length=16)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    baseline = models.FloatField()
    threshold = models.FloatField()
    window_minutes = models.PositiveIntegerField()
    min_points = models.PositiveSmallIntegerField(default=2)
    action = models.CharField(max_length=8, choices=GuardrailAction.choices)
    promql = models.TextField(blank=True)
    state = models.CharField(
        max_length=16, choices=GuardrailState.choices, default=GuardrailState.UNKNOWN
    )
    state_detail = models.CharField(max_length=500, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("phase", "id")
        constraints = [
            models.UniqueConstraint(fields=("phase", "metric"), name="guardrail_metric"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.direction} {self.threshold} {self.unit}"


class GuardrailSignature(models.Model):
    """A sponsor's agreement to a phase's guardrails, with what they saw."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="signatures")
    side = models.CharField(max_length=8, choices=Side.choices)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    guardrails = models.JSONField(default=list)
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("phase", "side"), name="guardrail_signature_side"),
        ]

    def __str__(self) -> str:
        return f"{self.side} signature of phase {self.phase_id}"


class GuardrailChange(models.Model):
    """A threshold changed after both sponsors signed: always with its decision record."""

    guardrail = models.ForeignKey(Guardrail, on_delete=models.CASCADE, related_name="changes")
    old_threshold = models.FloatField()
    new_threshold = models.FloatField()
    decision = models.ForeignKey(
        "decisions.DecisionRecord", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    actor = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"guardrail {self.guardrail_id}: {self.old_threshold:g} -> {self.new_threshold:g}"


class PhaseTransition(models.Model):
    """Every move of a phase: who (None: the guardrail evaluation), why, the facts."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=16, choices=PhaseStatus.choices)
    to_status = models.CharField(max_length=16, choices=PhaseStatus.choices)
    actor = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    decision = models.ForeignKey(
        "decisions.DecisionRecord", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    facts = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"phase {self.phase_id}: {self.from_status} -> {self.to_status}"


class MetricPoint(models.Model):
    """One observation of an initiative's metric (shared by the phases that guard it)."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=64)
    at = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("initiative", "metric", "at"), name="metric_point"),
        ]

    def __str__(self) -> str:
        return f"{self.metric}@{self.at.isoformat()}={self.value:g}"


class MetricToken(models.Model):
    """A push token scoped to one initiative's metrics (stored as a SHA-256 digest)."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"metrics token {self.pk} of IN-{self.initiative_id}"
