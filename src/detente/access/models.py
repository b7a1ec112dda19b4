"""API tokens (only a digest is stored) and TOTP devices."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    """A bearer token ``dtt_<prefix>_<secret>``; we keep the prefix to find it and a SHA-256
    digest of the whole token to check it. The token itself is shown once, at issue."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"token {self.prefix} ({self.name})"


class TotpDevice(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp"
    )
    secret = models.CharField(max_length=64)
    confirmed = models.BooleanField(default=False)
    last_counter = models.BigIntegerField(default=0)  # refuses a code used twice

    def __str__(self) -> str:
        return f"TOTP for {self.user_id}"


class OidcIdentity(models.Model):
    """Who a person is at an OpenID provider: the ID token's ``iss`` and ``sub``, the pair OpenID
    Connect guarantees stable (an e-mail may be reassigned; ``sub`` is never). Written by
    ``access.oidc.oidc_person_provision`` at the first single sign-on."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="oidc")
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField()
    last_signed_in_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
