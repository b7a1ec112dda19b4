"""Reading people."""

from __future__ import annotations

import os

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
