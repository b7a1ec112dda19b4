"""The people page's roles form: ticked roles and a primary one, saved through ``org apply``'s
rules; impossible sets and people who may not change the organisation are refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from detente.audit.models import AuditEvent
from detente.people.models import Person, Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db


def _signed_in(person: Person) -> Client:
    client = Client()
    client.force_login(person.user or _user(person))
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client


def _user(person: Person) -> User:
    from detente.access.services import account_set_password

    account_set_password(person=person, password="correct horse battery staple")
    user = Person.objects.get(pk=person.pk).user
    assert user is not None
    return user


def test_the_cio_gives_someone_a_second_role() -> None:
    cio = person_upsert(name="Cio", email="cio@x.org", role=Role.CIO)
    kai = person_upsert(name="Kai", email="kai@x.org", role=Role.IT_LEAD)
    client = _signed_in(cio)
    page = client.get(f"/org/people/{kai.pk}/roles")
    assert page.status_code == 200
    assert 'name="roles" value="it_lead" checked' in page.content.decode()

    response = client.post(
        f"/org/people/{kai.pk}/roles",
        {"roles": ["it_lead", "change_manager"], "primary": "it_lead"},
    )

    assert response.status_code == 302
    assert Person.objects.get(pk=kai.pk).roles == (Role.IT_LEAD, Role.CHANGE_MANAGER)
    event = AuditEvent.objects.get(verb="person.updated", subject_id=str(kai.pk))
    assert event.actor_id == cio.pk
    assert event.after == {"roles": ["it_lead", "change_manager"]}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"roles": ["auditor", "engineer"], "primary": "auditor"}, "held alone"),
        ({"roles": ["engineer"], "primary": "cio"}, "not among roles"),
        ({"primary": "engineer"}, "roles"),
    ],
)
def test_impossible_roles_are_refused_and_nothing_changes(
    form: dict[str, object], message: str
) -> None:
    cio = person_upsert(name="Cio", email="cio@x.org", role=Role.CIO)
    kai = person_upsert(name="Kai", email="kai@x.org", role=Role.IT_LEAD)

    response = _signed_in(cio).post(f"/org/people/{kai.pk}/roles", form)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Person.objects.get(pk=kai.pk).roles == (Role.IT_LEAD,)


def test_an_engineer_may_not_change_roles() -> None:
    eng = person_upsert(name="Eng", email="eng@x.org", role=Role.ENGINEER)

    response = _signed_in(eng).post(
        f"/org/people/{eng.pk}/roles", {"roles": ["engineer", "cio"], "primary": "engineer"}
    )

    assert response.status_code == 200
    assert "may not change the organisation" in response.content.decode()
    assert Person.objects.get(pk=eng.pk).roles == (Role.ENGINEER,)
