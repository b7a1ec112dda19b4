"""An organisation with every role, two services and a configured regime profile."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from detente.core import clock
from detente.incidents.models import Incident
from detente.incidents.services import incident_declare, regimes_configure
from detente.inventory.models import BusinessService
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)  # Monday


@dataclass
class Org:
    cio: Person
    ciso: Person
    lead: Person
    engineer: Person
    auditor: Person
    service: BusinessService


@pytest.fixture
def org(db: None) -> Org:
    clock.set_now(NOW)
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    service = service_upsert(slug="shop", name="Shop", owner=people[Role.SERVICE_OWNER])
    regimes_configure(
        actor=people[Role.CISO], sec_registrant=True, gdpr_role="controller",
        nis2_entity="none", dora_entity_type="payment_institution",
    )  # fmt: skip
    return Org(
        cio=people[Role.CIO],
        ciso=people[Role.CISO],
        lead=people[Role.SECURITY_LEAD],
        engineer=people[Role.ENGINEER],
        auditor=people[Role.AUDITOR],
        service=service,
    )


def declare(org: Org, severity: str = "sev2", **extra: object) -> Incident:
    params: dict[str, object] = {
        "actor": org.lead,
        "title": "Card data exfiltration suspected",
        "type": "data_breach",
        "severity": severity,
        "lead": org.lead,
        "services": [org.service],
        "personal_data": True,
        "data_categories": ["payment cards", "e-mail addresses"],
    }
    return incident_declare(**(params | extra))  # type: ignore[arg-type]
