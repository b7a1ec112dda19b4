"""Versions of the policy document. Exactly one is active; each finding records which set it."""

from __future__ import annotations

from django.db import models


class PolicyVersion(models.Model):
    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200)
    pack = models.CharField(max_length=64)
    document = models.TextField()
    sha256 = models.CharField(max_length=64)
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-version",)
        constraints = (
            models.UniqueConstraint(
                fields=("active",), condition=models.Q(active=True), name="one_active_policy"
            ),
        )

    def __str__(self) -> str:
        return f"policy v{self.version} ({self.pack})"
