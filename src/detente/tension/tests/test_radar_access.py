"""Who reads and who computes the radar is policy; an engineer does not compute it."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.access.testing import signed_in_client
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import PermissionDenied
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.policy.document import pack_text
from detente.policy.services import policy_activate, policy_ensure_default
from detente.tension.models import TensionSnapshot
from detente.tension.services import radar_compute, radar_compute_range
from detente.tension.signals import Period

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def people(db: None) -> dict[Role, Person]:
    clock.set_now(NOW)
    policy_ensure_default()
    return {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.IT_LEAD, Role.SERVICE_OWNER, Role.AUDITOR])
def test_only_the_policys_roles_compute_the_radar(people: dict[Role, Person], role: Role) -> None:
    # when: someone outside tension.radar_computers computes a month, or a range
    with pytest.raises(PermissionDenied):
        radar_compute(period=Period(2026, 10), actor=people[role])
    with pytest.raises(PermissionDenied):
        radar_compute_range(first=Period(2026, 9), last=Period(2026, 10), actor=people[role])
    # then: nothing was stored
    assert not TensionSnapshot.objects.exists()


def test_an_engineers_forged_compute_is_refused_and_changes_nothing(
    people: dict[Role, Person],
) -> None:
    client = signed_in_client(people[Role.ENGINEER])
    events = AuditEvent.objects.count()
    page = client.get("/radar")
    assert page.status_code == 403
    assert "Compute the radar" not in page.content.decode()
    refused = client.post("/radar/compute", {"first": "2026-10", "last": "2026-10"})
    assert refused.status_code == 302
    assert not TensionSnapshot.objects.exists()
    assert AuditEvent.objects.count() == events


def test_the_radar_is_shown_to_the_roles_the_policy_names(people: dict[Role, Person]) -> None:
    # given: the default readers (leaders, leads, auditor)
    radar_compute(period=Period(2026, 10), actor=people[Role.CISO])
    owner = signed_in_client(people[Role.SERVICE_OWNER])
    lead = signed_in_client(people[Role.IT_LEAD])
    assert owner.get("/radar/2026-10").status_code == 403
    assert 'href="/radar"' not in owner.get("/me").content.decode()
    assert lead.get("/radar/2026-10").status_code == 200
    assert 'href="/radar">Radar</a>' in lead.get("/me").content.decode()
    # when: the policy names only the two leaders
    text = pack_text("bod-26-04").replace(
        "\ntension:\n", "\ntension:\n  radar_readers: [cio, ciso]\n", 1
    )
    policy_activate(text=text, source="test")
    # then: the IT lead no longer sees it, the CIO still does
    assert lead.get("/radar/2026-10").status_code == 403
    assert signed_in_client(people[Role.CIO]).get("/radar/2026-10").status_code == 200
