"""People with accounts and tokens, a service with an owner, and real findings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from detente.access.services import account_set_password, token_issue
from detente.findings.importer import ImportOptions
from detente.findings.services import scan_import
from detente.intel.services import intel_load
from detente.inventory.models import BusinessService
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert

PASSWORD = "correct horse battery staple"


@dataclass
class World:
    people: dict[str, Person]
    tokens: dict[str, str]  # "<role>" write tokens, "<role>:read" read tokens
    shop: BusinessService
    other: BusinessService


@pytest.fixture
def world(db: None, samples: Path) -> World:
    people = {
        role.value: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    people["other_owner"] = person_upsert(
        name="Other owner", email="other.owner@example.org", role=Role.SERVICE_OWNER
    )
    for person in people.values():
        account_set_password(person=person, password=PASSWORD)
    shop = service_upsert(slug="shop", name="Shop", owner=people["service_owner"])
    other = service_upsert(slug="other", name="Other", owner=people["other_owner"])
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2026-08-07.json")
    scan_import(
        paths=[samples / "scans/cyclonedx/log4j.json"],
        options=ImportOptions(service=shop, asset_name="shop-sbom"),
    )
    scan_import(
        paths=[samples / "scans/zap/0_zap_sample.xml"], options=ImportOptions(service=other)
    )
    tokens: dict[str, str] = {}
    for key, person in people.items():
        scope = "read" if person.role == Role.AUDITOR else "write"
        tokens[key] = token_issue(actor=person, person=person, name="t", scope=scope)[1]
        tokens[f"{key}:read"] = token_issue(actor=person, person=person, name="r")[1]
    return World(people=people, tokens=tokens, shop=shop, other=other)
