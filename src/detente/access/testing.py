"""Test support: a Django test client signed in as a person (password set, second factor done).
Lives with accounts so that every layer's tests may use it."""

from __future__ import annotations

from django.test import Client

from detente.access.services import account_set_password
from detente.people.models import Person


def signed_in_client(person: Person) -> Client:
    account_set_password(person=person, password="correct horse battery staple")  # noqa: S106 - tests only
    person.refresh_from_db()
    client = Client()
    client.force_login(person.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client
