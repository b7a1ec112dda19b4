"""The demo organisation is an organisation file, equal to the people and services it replaced."""

from __future__ import annotations

import pytest

from detente.demo.org import PEOPLE, SERVICES
from detente.demo.organisation import ORG_FILE, demo_organisation
from detente.inventory.models import BusinessService
from detente.org.document import read_document
from detente.people.models import Person, Role
from detente.people.services import person_upsert


def test_the_file_holds_the_demo_people_and_services() -> None:
    document = read_document(ORG_FILE)

    assert [(p.name, p.email, p.role) for p in document.people or ()] == [
        (name, email, role.value) for name, email, role in PEOPLE
    ]
    assert [
        (s.slug, s.name, s.owner, s.criticality, s.customer_facing, s.data_classification)
        for s in document.services or ()
    ] == list(SERVICES)


@pytest.mark.django_db
def test_applying_it_twice_keeps_people_others_added() -> None:
    person_upsert(name="Scenario CIO", email="cio@scenario.detente", role=Role.CIO)

    people, services = demo_organisation()
    demo_organisation()

    assert len(people) == 10
    assert sorted(services) == ["dev-platform", "hr-portal", "online-banking", "payments-api"]
    assert Person.objects.get(email="cio@scenario.detente").active is True
    banking = BusinessService.objects.get(slug="online-banking")
    assert (banking.owner, banking.internet_facing) == (people["owner.banking@demo.detente"], True)
