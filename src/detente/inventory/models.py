"""Business services and the assets they run on."""

from __future__ import annotations

from django.db import models


class Criticality(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class DataClassification(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class BusinessService(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="services"
    )
    criticality = models.CharField(
        max_length=16, choices=Criticality.choices, default=Criticality.MEDIUM
    )
    customer_facing = models.BooleanField(default=False)
    data_classification = models.CharField(
        max_length=16, choices=DataClassification.choices, default=DataClassification.INTERNAL
    )
    # Reachable from the internet (policy keys deadlines on it with criticality).
    internet_facing = models.BooleanField(default=False)
    team = models.ForeignKey(
        "people.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="services"
    )
    # Removed from the organisation: kept for history, never deleted.
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class AssetKind(models.TextChoices):
    HOST = "host", "Host"
    IMAGE = "image", "Container image"
    REPOSITORY = "repository", "Repository"
    APPLICATION = "application", "Web application"
    API = "api", "API"
    CLOUD = "cloud", "Cloud resource"
    WORKLOAD = "workload", "Kubernetes workload"
    PACKAGE = "package", "Package"


class Asset(models.Model):
    """A thing a scanner looks at. ``publicly_exposed`` None means unknown, treated as exposed
    (CISA's conservative reading) until the owner says otherwise."""

    kind = models.CharField(max_length=16, choices=AssetKind.choices)
    identifier = models.CharField(max_length=500)
    name = models.CharField(max_length=500)
    service = models.ForeignKey(
        BusinessService, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets"
    )
    publicly_exposed = models.BooleanField(null=True, blank=True)
    # Declared by an organisation source (org file, Backstage, CMDB) rather than discovered by a
    # scan: only declared assets are exported, and deactivated when a source stops listing them.
    declared = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("kind", "identifier")
        constraints = (
            models.UniqueConstraint(fields=("kind", "identifier"), name="asset_kind_identifier"),
        )

    def __str__(self) -> str:
        return f"{self.kind}:{self.identifier}"

    @property
    def treated_as_exposed(self) -> bool:
        return self.publicly_exposed is not False
