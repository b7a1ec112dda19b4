"""The trail vouches for signatures, acceptance states and decisions: editing a signer, a state
or a chosen option in the database behind the services fails ``audit verify``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from detente.acceptances.models import RiskAcceptance, ScopeKind, Signature
from detente.acceptances.services import acceptance_request, acceptance_sign
from detente.acceptances.tests.conftest import NOW, Org
from detente.acceptances.vouch import VOUCHERS as ACCEPTANCE_VOUCHERS
from detente.audit.services import audit_verify
from detente.decisions.models import DecisionRecord
from detente.decisions.services import decision_create, decision_decide
from detente.decisions.vouch import VOUCHERS as DECISION_VOUCHERS

pytestmark = pytest.mark.django_db

VOUCHERS = (*ACCEPTANCE_VOUCHERS, *DECISION_VOUCHERS)  # as reports/audit_vouchers.py lists them


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _approved(org: Org) -> RiskAcceptance:
    acceptance = acceptance_request(
        actor=org.it_lead, title="log4j", scope=ScopeKind.CVE, cve="CVE-2021-44228",
        service=org.service, justification="Freeze.", compensating_controls="WAF",
        until=NOW.date() + dt.timedelta(days=5),
    )  # fmt: skip
    acceptance_sign(actor=org.ciso, acceptance=acceptance)
    acceptance_sign(actor=org.cio, acceptance=acceptance)
    acceptance.refresh_from_db()
    return acceptance


def test_signed_and_decided_records_verify(org: Org) -> None:
    acceptance = _approved(org)
    record = decision_create(
        actor=org.cio, title="Freeze", pressure_point="patching", question="Ship?",
        options=[{"title": "ship", "business_benefit": "revenue"},
                 {"title": "hold", "business_benefit": "safety"}],
    )  # fmt: skip
    decision_decide(
        actor=org.ciso, record=record, decision="Hold", chosen_option=1, why_blank="test record"
    )
    result = audit_verify(vouchers=VOUCHERS)
    assert (acceptance.status, result.ok) == ("approved", True)


def test_an_edited_signer_is_named(org: Org) -> None:
    acceptance = _approved(org)
    signature = Signature.objects.get(acceptance=acceptance, signer=org.cio)
    _sql("UPDATE acceptances_signature SET signer_id = %s WHERE id = %s",
         [org.security_lead.pk, signature.pk])  # fmt: skip
    result = audit_verify(vouchers=VOUCHERS)
    assert result.ok is False
    assert result.reason == (
        f"acceptance signatures: signature {signature.pk} on RA-{acceptance.pk} "
        f"(signer {org.security_lead.pk}, cio, approve) is not the one the trail recorded"
    )


def test_an_edited_state_is_named(org: Org) -> None:
    acceptance = acceptance_request(
        actor=org.it_lead, title="log4j", scope=ScopeKind.CVE, cve="CVE-2021-44228",
        service=org.service, justification="Freeze.", compensating_controls="WAF",
        until=NOW.date() + dt.timedelta(days=5),
    )  # fmt: skip
    _sql("UPDATE acceptances_riskacceptance SET status = 'approved' WHERE id = %s",
         [acceptance.pk])  # fmt: skip
    result = audit_verify(vouchers=VOUCHERS)
    assert result.reason == (
        f"acceptance states: RA-{acceptance.pk} is approved but the trail last recorded requested"
    )


def test_an_edited_decision_is_named(org: Org) -> None:
    record = decision_create(
        actor=org.cio, title="Freeze", pressure_point="patching", question="Ship?",
        options=[{"title": "ship", "business_benefit": "revenue"},
                 {"title": "hold", "business_benefit": "safety"}],
    )  # fmt: skip
    decision_decide(
        actor=org.ciso, record=record, decision="Hold", chosen_option=1, why_blank="test record"
    )
    DecisionRecord.objects.filter(pk=record.pk).update(chosen_option=0)
    result = audit_verify(vouchers=VOUCHERS)
    assert result.reason == (
        f"decisions: decision {record.pk} is decided (option 0) but the trail recorded "
        "('decided', 1)"
    )
