"""Organisation pages: lists for everyone signed in, edits and deactivation for the roles that
may change the organisation; refusals change nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from detente.access.services import account_set_password
from detente.audit.models import AuditEvent
from detente.inventory.models import Asset, BusinessService
from detente.people.models import Person, Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db


def signed_in(person: Person) -> Client:
    account_set_password(person=person, password="correct horse battery staple")
    person.refresh_from_db()
    client = Client()
    client.force_login(person.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client


@pytest.fixture
def people() -> dict[str, Person]:
    return {
        "cio": person_upsert(name="Claire", email="cio@x.org", role=Role.CIO),
        "owner": person_upsert(name="Lena", email="lena@x.org", role=Role.SERVICE_OWNER),
        "auditor": person_upsert(name="Iris", email="iris@x.org", role=Role.AUDITOR),
    }


def test_lists_show_people_services_and_assets(people: dict[str, Person]) -> None:
    BusinessService.objects.create(slug="shop", name="Shop", owner=people["owner"])
    Asset.objects.create(kind="host", identifier="web-01", name="web-01")
    client = signed_in(people["auditor"])

    pages = [client.get(f"/org/{name}") for name in ("people", "services", "assets")]

    assert [p.status_code for p in pages] == [200, 200, 200]
    assert "lena@x.org" in pages[0].content.decode()
    assert "Shop" in pages[1].content.decode()
    assert "found by a scan" in pages[2].content.decode()
    assert "Deactivate" not in pages[0].content.decode()  # an auditor gets no buttons


def test_the_cio_edits_a_service_through_the_organisation_apply(
    people: dict[str, Person],
) -> None:
    BusinessService.objects.create(slug="shop", name="Shop", owner=people["owner"])
    client = signed_in(people["cio"])

    response = client.post(
        "/org/services/shop/edit",
        {"name": "Shop", "owner": "lena@x.org", "criticality": "critical",
         "data_classification": "internal", "internet_facing": "on"},
        follow=True,
    )  # fmt: skip

    assert response.status_code == 200
    assert (
        "Shop: ~ service shop (criticality: medium → critical, internet_facing: False → True)"
        in response.content.decode()
    )
    shop = BusinessService.objects.get()
    assert (shop.criticality, shop.internet_facing) == ("critical", True)
    assert AuditEvent.objects.filter(verb="service.updated", actor=people["cio"]).count() == 1


def test_a_service_owner_cannot_deactivate_a_person(people: dict[str, Person]) -> None:
    client = signed_in(people["owner"])
    events = AuditEvent.objects.count()

    response = client.post(f"/org/person/{people['auditor'].pk}/deactivate", follow=True)

    assert "Service owner may not change the organisation" in response.content.decode()
    assert Person.objects.get(pk=people["auditor"].pk).active is True
    assert AuditEvent.objects.count() == events


def test_the_cio_deactivates_a_person_who_then_cannot_sign_in(people: dict[str, Person]) -> None:
    auditor = signed_in(people["auditor"])
    client = signed_in(people["cio"])

    client.post(f"/org/person/{people['auditor'].pk}/deactivate")

    assert Person.objects.get(pk=people["auditor"].pk).active is False
    assert auditor.get("/org/people").status_code == 302
