"""Two signers at the same moment, on real concurrent PostgreSQL connections.

SQLite serialises writers (IMMEDIATE transactions), so the race only exists on PostgreSQL, where
``select_for_update`` on the acceptance row makes the second signer wait for the first.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from detente.acceptances.models import AcceptanceStatus, RiskAcceptance, ScopeKind
from detente.acceptances.services import acceptance_request, acceptance_sign
from detente.acceptances.tests.conftest import NOW, Org
from detente.audit.models import AuditEvent
from detente.audit.services import audit_verify
from detente.core.errors import DetenteError
from detente.people.models import Person, Role
from detente.people.services import person_upsert

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent connections need PostgreSQL")


def _race(acceptance: RiskAcceptance, signers: list[Person]) -> list[BaseException | None]:
    barrier = threading.Barrier(len(signers))
    outcomes: list[BaseException | None] = [None] * len(signers)

    def sign(index: int, person: Person) -> None:
        try:
            barrier.wait()
            acceptance_sign(actor=person, acceptance=acceptance.pk)
        except DetenteError as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign, args=(i, p)) for i, p in enumerate(signers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _request(org: Org) -> RiskAcceptance:
    return acceptance_request(
        actor=org.it_lead, title="race", scope=ScopeKind.FINDINGS, finding_ids=[org.kev.pk],
        justification="Release freeze.", compensating_controls="WAF",
        until=NOW.date() + dt.timedelta(days=5),
    )  # fmt: skip


def test_ciso_and_cio_signing_at_once_give_exactly_one_approval(org: Org) -> None:
    for _ in range(5):
        acceptance = _request(org)
        assert _race(acceptance, [org.ciso, org.cio]) == [None, None]
        acceptance.refresh_from_db()
        assert acceptance.status == AcceptanceStatus.APPROVED
        assert sorted(acceptance.signatures.values_list("role", flat=True)) == ["cio", "ciso"]
        approvals = AuditEvent.objects.filter(
            verb="acceptance.approved", subject_id=str(acceptance.pk)
        )
        assert approvals.count() == 1
        acceptance.status = AcceptanceStatus.REVOKED  # free the finding for the next round
        acceptance.save(update_fields=["status"])
        org.kev.refresh_from_db()
        org.kev.status = "open"
        org.kev.save(update_fields=["status"])
    assert audit_verify().ok


def test_two_cisos_racing_for_one_role_leave_one_signature(org: Org) -> None:
    second_ciso = person_upsert(name="Deputy CISO", email="deputy@example.org", role=Role.CISO)
    acceptance = _request(org)
    outcomes = _race(acceptance, [org.ciso, second_ciso])
    assert sum(o is None for o in outcomes) == 1
    assert acceptance.signatures.count() == 1
    acceptance.refresh_from_db()
    assert acceptance.status == AcceptanceStatus.REQUESTED
