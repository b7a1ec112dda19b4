"""Writes on people."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from detente.audit.services import audit_record
from detente.core.errors import InputError
from detente.people.models import Person, PersonRole, Role, roles_checked


def person_upsert(*, name: str, email: str, role: Role, actor: Person | None = None) -> Person:
    with transaction.atomic():
        person, created = Person.objects.update_or_create(
            email=email.lower(), defaults={"name": name, "role": role}
        )
        audit_record(
            actor=actor,
            verb="person.created" if created else "person.updated",
            subject_type="person",
            subject_id=person.pk,
            after={"name": name, "email": email.lower(), "role": role.value},
        )
        return person


def person_roles_write(*, person: Person, roles: Sequence[str]) -> tuple[str, ...]:
    """Make ``roles`` (the first is the primary) exactly the person's roles; the caller audits.
    ``InputError`` for an unknown role, a repeat or an exclusive role held with another."""
    if not roles:
        raise InputError("a person holds at least one role", field="roles")
    try:
        wanted = roles_checked(roles[0], roles)
    except ValueError as exc:
        raise InputError(str(exc), record=person.email, field="roles") from None
    with transaction.atomic():
        if person.role != wanted[0]:
            person.role = wanted[0]
            person.save(update_fields=["role"])
        PersonRole.objects.filter(person=person).exclude(role__in=wanted[1:]).delete()
        have = set(PersonRole.objects.filter(person=person).values_list("role", flat=True))
        PersonRole.objects.bulk_create(
            [PersonRole(person=person, role=r) for r in wanted[1:] if r not in have]
        )
        person.roles_forget()
    return wanted
