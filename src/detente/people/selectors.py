"""Reading people."""

from __future__ import annotations

import os
from collections.abc import Iterable

from django.db.models import QuerySet

from detente.core.errors import InputError, NotFound
from detente.people.models import Person


def person_by_email(email: str | None) -> Person:
    """The person acting: by e-mail, or ``DETENTE_ACTOR`` when none is given."""
    address = (email or os.environ.get("DETENTE_ACTOR") or "").strip().lower()
    if not address:
        raise InputError("say who is acting: --as EMAIL (or set DETENTE_ACTOR)", field="as")
    person = Person.objects.filter(email=address, active=True).first()
    if person is None:
        raise NotFound(f"no active person with e-mail {address}")
    return person


def person_get(pk: int, *, what: str = "") -> Person:
    """The person ``pk`` (active or not); ``what`` names their part in the error."""
    found = Person.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"{what + ': ' if what else ''}person {pk} does not exist")
    return found


def people_list(*, inactive: bool = False) -> QuerySet[Person]:
    """People by name; only active ones unless ``inactive``."""
    rows = Person.objects.order_by("name", "id")
    return rows if inactive else rows.filter(active=True)


def anyone_active_in(roles: Iterable[str]) -> bool:
    """Whether an active person holds one of ``roles``."""
    return Person.objects.holding(*roles).filter(active=True).exists()


def people_in(roles: Iterable[str]) -> QuerySet[Person]:
    """Active people holding one of ``roles``, by name."""
    return Person.objects.holding(*roles).filter(active=True).order_by("name", "id")


def people_by_name() -> QuerySet[Person]:
    """Active people by name, for choosers."""
    return Person.objects.filter(active=True).order_by("name")
