"""A request whose findings have no owning service: the service owner's signature cannot be
given by just any service owner (it used to skip the check on an empty owner set)."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.acceptances.models import RiskAcceptance, ScopeKind, Signature
from detente.acceptances.services import acceptance_request, acceptance_sign
from detente.acceptances.tests.conftest import NOW, Org
from detente.audit.models import AuditEvent
from detente.core.errors import InputError, PermissionDenied
from detente.inventory.models import BusinessService

pytestmark = pytest.mark.django_db


def _request(org: Org) -> RiskAcceptance:
    return acceptance_request(
        actor=org.engineer, title="libxml2", scope=ScopeKind.FINDINGS,
        finding_ids=[org.sixty.pk], justification="Release freeze.",
        until=NOW.date() + dt.timedelta(days=30),
    )  # fmt: skip


def test_a_request_without_an_owner_is_refused_naming_the_field(org: Org) -> None:
    BusinessService.objects.filter(pk=org.service.pk).update(owner=None)
    events = AuditEvent.objects.count()
    with pytest.raises(InputError) as caught:
        _request(org)
    assert caught.value.field == "service"
    assert "no service with an owner" in str(caught.value)
    assert (RiskAcceptance.objects.count(), AuditEvent.objects.count()) == (0, events)


def test_no_service_owner_signs_when_the_owner_is_gone(org: Org) -> None:
    acceptance = _request(org)
    assert acceptance.required_roles == ["security_lead", "service_owner"]
    BusinessService.objects.filter(pk=org.service.pk).update(owner=None)
    events = AuditEvent.objects.count()
    for owner in (org.other_owner, org.owner):
        with pytest.raises(PermissionDenied):
            acceptance_sign(actor=owner, acceptance=acceptance)
    assert (Signature.objects.count(), AuditEvent.objects.count()) == (0, events)


def test_the_owner_of_the_findings_service_still_signs(org: Org) -> None:
    acceptance = _request(org)
    with pytest.raises(PermissionDenied):
        acceptance_sign(actor=org.other_owner, acceptance=acceptance)
    acceptance_sign(actor=org.owner, acceptance=acceptance)
    assert list(acceptance.signatures.values_list("role", flat=True)) == ["service_owner"]
