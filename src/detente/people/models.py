"""Persons and their roles."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property


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


# Roles that are never held with another: an auditor is independent of what they audit, a
# facilitator is an external party with one door (docs/organisation.md).
EXCLUSIVE_ROLES = frozenset({Role.AUDITOR, Role.FACILITATOR})


def roles_checked(primary: str, roles: Iterable[str]) -> tuple[str, ...]:
    """A person's roles, the primary first and the others in ``Role``'s order; ``ValueError``
    naming the problem for an unknown role, a repeat, or an exclusive role held with another."""
    listed = [str(r) for r in roles]
    for role in [primary, *listed]:
        if role not in Role.values:
            raise ValueError(f"no role {role!r} (roles: {', '.join(Role.values)})")
    if len(set(listed)) != len(listed):
        raise ValueError(f"a role is listed twice in {listed}")
    held = {primary, *listed}
    alone = sorted(held & EXCLUSIVE_ROLES)
    if alone and len(held) > 1:
        raise ValueError(f"the {alone[0]} role is held alone, not with {sorted(held - {alone[0]})}")
    return (primary, *[r.value for r in Role if r in held and r != primary])


class PersonQuerySet(models.QuerySet["Person"]):
    def holding(self, *roles: str) -> PersonQuerySet:
        """People who hold any of ``roles``, as their primary role or an added one."""
        wanted = [str(r) for r in roles]
        added = PersonRole.objects.filter(role__in=wanted).values("person_id")
        return self.filter(Q(role__in=wanted) | Q(pk__in=added))


class Person(models.Model):
    """A person and their roles: ``role`` is the primary one (it chooses the home page and is
    listed first), ``extra_roles`` the others. Permission checks ask ``has_role`` /
    ``has_any_role``, never ``role`` alone."""

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

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.roles_display})"

    @cached_property
    def roles(self) -> tuple[Role, ...]:
        """Every role held, the primary first, then the others in ``Role``'s order. Read once per
        instance: a request loads the person afresh, so a change shows at the next request."""
        extra = {r.role for r in self.extra_roles.all()} if self.pk else set()
        rest = [r for r in Role if r in extra and r != self.role]
        return (Role(self.role), *rest) if self.role else tuple(rest)

    def roles_forget(self) -> None:
        """Drop the remembered roles (after they were written)."""
        self.__dict__.pop("roles", None)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_any_role(self, roles: Iterable[str]) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def leader_role(self) -> Role:
        """The seat a leader answers profiles and pulses for: the primary role when it is CIO or
        CISO, else the first of them held; anyone else their primary role."""
        if self.role in (Role.CIO, Role.CISO):
            return Role(self.role)
        return next((r for r in self.roles if r in (Role.CIO, Role.CISO)), Role(self.role))

    @property
    def owner_scoped(self) -> bool:
        """Sees only the services they own: a service owner and nothing wider."""
        return self.roles == (Role.SERVICE_OWNER,)

    @property
    def roles_display(self) -> str:
        return ", ".join(str(r.label) for r in self.roles)


class PersonRole(models.Model):
    """A role a person holds besides their primary one (``Person.role``)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="extra_roles")
    role = models.CharField(max_length=32, choices=Role.choices)

    class Meta:
        ordering = ("person", "role")
        constraints = [
            models.UniqueConstraint(fields=("person", "role"), name="person_role_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} also {self.role}"


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
