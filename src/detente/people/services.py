"""Writes on people."""

from __future__ import annotations

from django.db import transaction

from detente.audit.services import audit_record
from detente.people.models import Person, Role


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
