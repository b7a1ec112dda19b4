"""An initiative's guardrails are agreed by two sponsors: one person holding roles of both sides
cannot be both sponsors, and signs the guardrails once."""

from __future__ import annotations

import pytest

from detente.core.errors import InputError, RuleViolation
from detente.initiatives.document import parse_initiative
from detente.initiatives.models import GuardrailSignature, Initiative, Phase
from detente.initiatives.services import guardrails_sign, initiative_create
from detente.initiatives.tests.conftest import MFA, Org, create
from detente.people.services import person_roles_write


def test_one_person_cannot_sponsor_both_sides(org: Org) -> None:
    person_roles_write(person=org.it_lead, roles=["it_lead", "security_lead"])
    text = MFA.read_text().replace("cio@example.org", "it_lead@example.org")
    text = text.replace("ciso@example.org", "it_lead@example.org")
    spec = parse_initiative(text, source="mfa.yaml")

    with pytest.raises(InputError, match="separation of duties") as refused:
        initiative_create(actor=org.ciso, spec=spec, source="mfa.yaml")

    assert refused.value.record == "sponsors"
    assert not Initiative.objects.exists()


def test_a_sponsor_holding_both_leaders_roles_signs_their_own_side_once(org: Org) -> None:
    person_roles_write(person=org.cio, roles=["cio", "ciso"])
    phase = Phase.objects.get(initiative=create(org), number=1)

    guardrails_sign(actor=org.cio, phase=phase)
    with pytest.raises(RuleViolation, match="already signed"):
        guardrails_sign(actor=org.cio, phase=phase)

    assert list(GuardrailSignature.objects.values_list("side", "person")) == [("cio", org.cio.pk)]
