"""A gate override's second signature with several roles: never the overrider, whatever roles
they hold; "another role" means a second-signer role other than the one the override was made
as."""

from __future__ import annotations

import pytest

from detente.core import clock
from detente.core.errors import PermissionDenied
from detente.gates.models import GateDecision, GateRun, OverrideStatus
from detente.gates.selectors import overrides_awaiting
from detente.gates.services import gate_override, gate_override_sign
from detente.initiatives.tests.conftest import Org, build_org
from detente.people.models import Person, Role
from detente.people.services import person_roles_write, person_upsert


@pytest.fixture
def org(db: None) -> Org:
    return build_org()


def _blocked_run(org: Org) -> GateRun:
    return GateRun.objects.create(
        service=org.service, version="2.4.0", decision=GateDecision.BLOCKED, policy_version=1,
        started_at=clock.now(),
    )  # fmt: skip


def test_the_overrider_never_signs_second_even_holding_the_other_role(org: Org) -> None:
    person_roles_write(person=org.ciso, roles=["ciso", "cio"])
    override = gate_override(run=_blocked_run(org), actor=org.ciso, reason="Regulator deadline")
    assert override.role == "ciso"  # made as their primary role

    with pytest.raises(PermissionDenied, match="separation of duties"):
        gate_override_sign(actor=org.ciso, override=override)

    override.refresh_from_db()
    assert override.status == OverrideStatus.PENDING
    assert override.second_signer is None
    assert overrides_awaiting(org.ciso) == []


def test_another_person_signs_second_through_a_role_other_than_the_overriders(org: Org) -> None:
    override = gate_override(run=_blocked_run(org), actor=org.ciso, reason="Regulator deadline")
    deputy = person_upsert(name="Dep", email="dep@example.org", role=Role.CISO)
    assert overrides_awaiting(deputy) == []  # a CISO only: the same role as the override's
    with pytest.raises(PermissionDenied, match="another role"):
        gate_override_sign(actor=deputy, override=override)

    person_roles_write(person=deputy, roles=["ciso", "cio"])
    deputy = Person.objects.get(pk=deputy.pk)  # a new request: the new roles are read

    assert overrides_awaiting(deputy) == [override]
    signed = gate_override_sign(actor=deputy, override=override)
    assert (signed.status, signed.second_signer) == (OverrideStatus.CONFIRMED, deputy)
