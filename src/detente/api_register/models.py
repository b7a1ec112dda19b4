"""Data and invariants of api_register: APIs, their spec versions, pen tests and promotions."""

from __future__ import annotations

from django.db import models


class Api(models.Model):
    """One API in the register. Its findings live on ``asset`` (kind ``api``), so deadlines,
    acceptances, gates and the radar treat them like any other finding.

    ``stage`` is one of the policy's exposure stages (``internal → partner → public`` by default;
    policy may add stages), so it is text checked by the services, not a fixed choice.
    """

    name = models.CharField(max_length=120, unique=True)
    service = models.ForeignKey(
        "inventory.BusinessService", on_delete=models.PROTECT, related_name="apis"
    )
    asset = models.OneToOneField("inventory.Asset", on_delete=models.PROTECT, related_name="api")
    stage = models.CharField(max_length=40, default="internal")
    owners = models.ManyToManyField("people.Person", related_name="owned_apis", blank=True)
    security_contact = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="api_security_contact_for",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def current(self) -> ApiVersion | None:
        return self.versions.order_by("-number").first()


class ApiVersion(models.Model):
    """One version of an API's spec: the bytes' digest, the normalised document, its audit."""

    api = models.ForeignKey(Api, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    file_name = models.CharField(max_length=500)
    fmt = models.CharField(max_length=8)
    openapi_version = models.CharField(max_length=8)
    info_version = models.CharField(max_length=100, blank=True)
    document = models.TextField()  # canonical JSON (sorted keys) of the loaded spec
    operations = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    audit_counts = models.JSONField(default=dict, blank=True)  # severity -> results
    scan = models.ForeignKey(
        "findings.ScanImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("api", "number")
        constraints = (
            models.UniqueConstraint(fields=("api", "number"), name="api_version_number"),
        )

    def __str__(self) -> str:
        return f"{self.api.name} v{self.number}"


class TesterKind(models.TextChoices):
    INTERNAL = "internal", "Internal team"
    FIRM = "firm", "External firm"


class PenTest(models.Model):
    """A penetration test of one spec version (by digest), with its report and its findings."""

    api = models.ForeignKey(Api, on_delete=models.CASCADE, related_name="pentests")
    version = models.ForeignKey(ApiVersion, on_delete=models.PROTECT, related_name="pentests")
    spec_digest = models.CharField(max_length=64)
    scope = models.JSONField(default=list, blank=True)  # operations ("GET /users/{id}"); [] = all
    started_on = models.DateField()
    ended_on = models.DateField()
    tester = models.CharField(max_length=200)
    tester_kind = models.CharField(max_length=16, choices=TesterKind.choices)
    method = models.CharField(max_length=200, blank=True)
    report_name = models.CharField(max_length=500, blank=True)
    report_sha256 = models.CharField(max_length=64, blank=True)
    report_path = models.CharField(max_length=1000, blank=True)  # copy under the data directory
    scan = models.ForeignKey(
        "findings.ScanImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ("api", "-ended_on", "-id")

    def __str__(self) -> str:
        return f"pen test {self.pk} of {self.api.name}"


class Outcome(models.TextChoices):
    PROMOTED = "promoted", "Promoted"
    REFUSED = "refused", "Refused"
    FORCED = "forced", "Forced past the gate"
    ACCEPTANCE_REQUESTED = "acceptance_requested", "Acceptance requested"
    DEMOTED = "demoted", "Demoted"


class Promotion(models.Model):
    """Every attempt to change an API's exposure stage, allowed or not, with the gate's facts."""

    api = models.ForeignKey(Api, on_delete=models.CASCADE, related_name="promotions")
    from_stage = models.CharField(max_length=40)
    to_stage = models.CharField(max_length=40)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    missing = models.JSONField(default=list, blank=True)  # what the gate found missing
    reason = models.TextField(blank=True)
    version = models.ForeignKey(
        ApiVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acceptance = models.ForeignKey(
        "acceptances.RiskAcceptance",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ("api", "-at", "-id")

    def __str__(self) -> str:
        return f"{self.api.name}: {self.from_stage} → {self.to_stage} {self.outcome}"
