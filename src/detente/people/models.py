"""Persons and their roles."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    CIO = "cio", "CIO"
    CISO = "ciso", "CISO"
    SECURITY_LEAD = "security_lead", "Security lead"
    IT_LEAD = "it_lead", "IT lead"
    SERVICE_OWNER = "service_owner", "Service owner"
    ENGINEER = "engineer", "Engineer"
    CHANGE_MANAGER = "change_manager", "Change manager"
    AUDITOR = "auditor", "Auditor"
    # An independent third party for a reset: reads only what both leaders shared, only while the
    # reset's access window is open (detente.meetings); never writes.
    FACILITATOR = "facilitator", "Facilitator (external)"


class Person(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    role = models.CharField(max_length=32, choices=Role.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class Team(models.Model):
    """A group of people (a Backstage Group, a department). ``parent`` makes a tree, never a cycle
    (checked where teams are written: ``detente.org``)."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    members = models.ManyToManyField(Person, blank=True, related_name="teams")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("slug",)

    def __str__(self) -> str:
        return self.name
