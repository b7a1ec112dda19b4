"""An organisation with every role and the online-banking service; the MFA initiative file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from detente.core import clock
from detente.initiatives.document import parse_initiative
from detente.initiatives.models import Initiative, Phase
from detente.initiatives.services import (
    comms_complete,
    guardrails_sign,
    initiative_create,
    phase_start,
)
from detente.inventory.models import BusinessService
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert

HERE = Path(__file__).parent
MFA = HERE / "mfa.yaml"
NOW = dt.datetime(2026, 10, 5, 8, 0, tzinfo=dt.UTC)  # the pilot's first day


@dataclass
class Org:
    cio: Person
    ciso: Person
    lead: Person
    it_lead: Person
    engineer: Person
    auditor: Person
    service: BusinessService


@pytest.fixture
def org(db: None) -> Org:
    return build_org()


def build_org() -> Org:
    clock.set_now(NOW)
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    lead = person_upsert(name="Lea Lead", email="lead@example.org", role=Role.SECURITY_LEAD)
    service = service_upsert(
        slug="online-banking", name="Online banking", owner=people[Role.SERVICE_OWNER]
    )
    return Org(
        cio=people[Role.CIO], ciso=people[Role.CISO], lead=lead, it_lead=people[Role.IT_LEAD],
        engineer=people[Role.ENGINEER], auditor=people[Role.AUDITOR], service=service,
    )  # fmt: skip


def create(org: Org, text: str | None = None) -> Initiative:
    spec = parse_initiative(text or MFA.read_text(), source="mfa.yaml")
    return initiative_create(actor=org.ciso, spec=spec, source="mfa.yaml")


def ready(org: Org, initiative: Initiative, number: int = 1) -> Phase:
    """Phase ``number`` signed by both sponsors with its communications done."""
    phase = Phase.objects.get(initiative=initiative, number=number)
    guardrails_sign(actor=org.cio, phase=phase)
    guardrails_sign(actor=org.ciso, phase=phase)
    for item in range(1, len(phase.comms) + 1):
        comms_complete(actor=org.cio, phase=phase, item=item)
    phase.refresh_from_db()
    return phase


def started(org: Org, initiative: Initiative, number: int = 1) -> Phase:
    phase = ready(org, initiative, number)
    return phase_start(actor=org.cio, phase=phase)
