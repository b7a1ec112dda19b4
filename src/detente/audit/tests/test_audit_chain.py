"""The hash chain detects edits, deletions, insertions and reordering made behind its back."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from detente.audit.models import AuditEvent
from detente.audit.services import audit_record, audit_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain() -> list[AuditEvent]:
    return [
        audit_record(
            actor=None, verb="thing.done", subject_type="thing", subject_id=i, after={"n": i}
        )
        for i in range(1, 6)
    ]


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_an_untouched_chain_verifies(chain: list[AuditEvent]) -> None:
    result = audit_verify()
    assert (result.ok, result.checked) == (True, 5)


def test_an_edited_event_is_named(chain: list[AuditEvent]) -> None:
    _sql("UPDATE audit_auditevent SET after = %s WHERE seq = 3", ['{"n": 99}'])
    result = audit_verify()
    assert (result.ok, result.broken_at) == (False, 3)
    assert "altered" in result.reason


def test_a_deleted_event_is_named(chain: list[AuditEvent]) -> None:
    _sql("DELETE FROM audit_auditevent WHERE seq = 2", [])
    result = audit_verify()
    assert (result.ok, result.broken_at) == (False, 3)


def test_a_deleted_last_event_is_noticed(chain: list[AuditEvent]) -> None:
    _sql("DELETE FROM audit_auditevent WHERE seq = 5", [])
    result = audit_verify()
    assert result.ok is False
    assert "ends at #4" in result.reason


def test_reordered_events_are_named(chain: list[AuditEvent]) -> None:
    two, four = chain[1], chain[3]
    _sql("UPDATE audit_auditevent SET seq = -1 WHERE id = %s", [two.pk])
    _sql("UPDATE audit_auditevent SET seq = 2, verb = %s WHERE id = %s", [four.verb, four.pk])
    _sql("UPDATE audit_auditevent SET seq = 4 WHERE id = %s", [two.pk])
    assert audit_verify().ok is False


def test_an_inserted_event_is_named(chain: list[AuditEvent]) -> None:
    forged = chain[2]
    _sql(
        "INSERT INTO audit_auditevent (seq, occurred_at, actor_label, verb, subject_type, "
        "subject_id, prev_hash, hash) VALUES (6, %s, 'mallory', 'forged', 'thing', '9', %s, %s)",
        [forged.occurred_at, chain[-1].hash, "f" * 64],
    )
    result = audit_verify()
    assert (result.ok, result.broken_at) == (False, 6)
