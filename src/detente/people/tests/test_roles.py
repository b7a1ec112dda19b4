"""A person holds several roles: the primary one and added ones, asked through ``has_role``."""

from __future__ import annotations

import pytest

from detente.core.errors import InputError
from detente.people.models import Person, PersonRole, Role, roles_checked
from detente.people.services import person_roles_write, person_upsert

pytestmark = pytest.mark.django_db


def test_roles_are_the_primary_first_then_the_others_in_role_order() -> None:
    person = person_upsert(name="Kai", email="kai@example.org", role=Role.IT_LEAD)

    person_roles_write(person=person, roles=["it_lead", "engineer", "ciso"])

    fresh = Person.objects.get(pk=person.pk)
    assert fresh.roles == (Role.IT_LEAD, Role.CISO, Role.ENGINEER)
    assert fresh.has_role(Role.CISO)
    assert fresh.has_role(Role.IT_LEAD)
    assert not fresh.has_role(Role.CIO)
    assert fresh.has_any_role((Role.CIO, Role.ENGINEER))
    assert fresh.roles_display == "IT lead, CISO, Engineer"
    assert str(fresh) == "Kai (IT lead, CISO, Engineer)"


def test_writing_roles_replaces_them_and_moves_the_primary() -> None:
    person = person_upsert(name="Kai", email="kai@example.org", role=Role.IT_LEAD)
    person_roles_write(person=person, roles=["it_lead", "engineer"])

    person_roles_write(person=person, roles=["ciso", "security_lead"])

    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.role, fresh.roles) == (Role.CISO, (Role.CISO, Role.SECURITY_LEAD))
    assert list(PersonRole.objects.filter(person=person).values_list("role", flat=True)) == [
        "security_lead"
    ]


def test_holding_finds_people_by_any_of_their_roles() -> None:
    kai = person_upsert(name="Kai", email="kai@example.org", role=Role.IT_LEAD)
    person_roles_write(person=kai, roles=["it_lead", "ciso"])
    cio = person_upsert(name="Cy", email="cy@example.org", role=Role.CIO)
    person_upsert(name="Eve", email="eve@example.org", role=Role.ENGINEER)

    assert list(Person.objects.holding(Role.CISO)) == [kai]
    assert set(Person.objects.holding(Role.CISO, Role.CIO)) == {kai, cio}
    assert Person.objects.holding(Role.CISO, Role.IT_LEAD).count() == 1  # no duplicates


def test_a_service_owner_with_a_wider_role_is_not_limited_to_their_services() -> None:
    owner = person_upsert(name="Oli", email="oli@example.org", role=Role.SERVICE_OWNER)
    assert owner.owner_scoped

    person_roles_write(person=owner, roles=["service_owner", "engineer"])

    assert not Person.objects.get(pk=owner.pk).owner_scoped


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        (["auditor", "engineer"], "the auditor role is held alone"),
        (["engineer", "facilitator"], "the facilitator role is held alone"),
        (["engineer", "engineer"], "listed twice"),
        (["engineer", "pope"], "no role 'pope'"),
        ([], "at least one role"),
    ],
)
def test_impossible_role_sets_are_refused_and_nothing_changes(
    roles: list[str], message: str
) -> None:
    person = person_upsert(name="Kai", email="kai@example.org", role=Role.ENGINEER)

    with pytest.raises(InputError, match=message):
        person_roles_write(person=person, roles=roles)

    assert Person.objects.get(pk=person.pk).roles == (Role.ENGINEER,)


def test_roles_checked_keeps_the_primary_first() -> None:
    assert roles_checked("engineer", ["ciso", "engineer"]) == ("engineer", "ciso")
