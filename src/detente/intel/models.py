"""Public vulnerability intelligence, each fact with its source and date."""

from __future__ import annotations

from django.db import models


class KevEntry(models.Model):
    cve_id = models.CharField(max_length=32, primary_key=True)
    vendor_project = models.CharField(max_length=200, blank=True)
    product = models.CharField(max_length=200, blank=True)
    vulnerability_name = models.CharField(max_length=500, blank=True)
    date_added = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    known_ransomware = models.BooleanField(default=False)
    required_action = models.TextField(blank=True)
    cwes = models.JSONField(default=list, blank=True)
    catalog_version = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"KEV {self.cve_id}"


class EpssScore(models.Model):
    cve_id = models.CharField(max_length=32, primary_key=True)
    epss = models.FloatField()
    percentile = models.FloatField()
    model_version = models.CharField(max_length=32, blank=True)
    score_date = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"EPSS {self.cve_id} {self.epss:.5f}"


class SsvcRecord(models.Model):
    """CISA Vulnrichment SSVC decision points for one CVE."""

    cve_id = models.CharField(max_length=32, primary_key=True)
    exploitation = models.CharField(max_length=16)  # none | public poc | active
    automatable = models.CharField(max_length=8)  # yes | no
    technical_impact = models.CharField(max_length=8)  # partial | total
    source = models.CharField(max_length=200)
    assessed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"SSVC {self.cve_id}"


class FeedKind(models.TextChoices):
    KEV = "kev", "CISA KEV"
    EPSS = "epss", "FIRST EPSS"
    VULNRICHMENT = "vulnrichment", "CISA Vulnrichment (SSVC)"


class IntelLoad(models.Model):
    """One feed file loaded: what, from where, which version, how many records."""

    kind = models.CharField(max_length=16, choices=FeedKind.choices)
    source = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    version = models.CharField(max_length=64, blank=True)
    feed_date = models.DateTimeField(null=True, blank=True)
    records = models.PositiveIntegerField()
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ("-loaded_at",)

    def __str__(self) -> str:
        return f"{self.kind} {self.version} ({self.records})"
