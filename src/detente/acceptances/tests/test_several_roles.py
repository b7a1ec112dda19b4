"""Separation of duties with several roles: a person holding two of the required roles signs an
acceptance once; the other role still needs someone else."""

from __future__ import annotations

import pytest

from detente.acceptances.models import AcceptanceStatus as S
from detente.acceptances.models import Signature
from detente.acceptances.selectors import awaiting_signature_of, roles_to_sign
from detente.acceptances.services import acceptance_sign
from detente.acceptances.tests.conftest import Org
from detente.acceptances.tests.test_workflow import _request
from detente.core.errors import RuleViolation
from detente.people.services import person_roles_write


def test_a_person_holding_both_required_roles_signs_once(org: Org) -> None:
    person_roles_write(person=org.ciso, roles=["ciso", "cio"])
    acceptance = _request(org, org.kev)
    assert acceptance.required_roles == ["ciso", "cio"]
    assert roles_to_sign(org.ciso, acceptance) == ["ciso", "cio"]
    assert awaiting_signature_of(org.ciso) == [acceptance]

    acceptance_sign(actor=org.ciso, acceptance=acceptance)
    with pytest.raises(RuleViolation, match="already signed"):
        acceptance_sign(actor=org.ciso, acceptance=acceptance, role="cio")

    acceptance.refresh_from_db()
    assert acceptance.status == S.REQUESTED
    assert list(Signature.objects.filter(acceptance=acceptance).values_list("role", "signer")) == [
        ("ciso", org.ciso.pk)
    ]
    assert roles_to_sign(org.ciso, acceptance) == []
    assert awaiting_signature_of(org.ciso) == []
    acceptance_sign(actor=org.cio, acceptance=acceptance)
    acceptance.refresh_from_db()
    assert acceptance.status == S.APPROVED


def test_an_added_role_lets_a_person_sign_for_it(org: Org) -> None:
    acceptance = _request(org, org.kev)
    person_roles_write(person=org.engineer, roles=["engineer", "cio"])

    acceptance_sign(actor=org.engineer, acceptance=acceptance)

    assert Signature.objects.get(acceptance=acceptance).role == "cio"
