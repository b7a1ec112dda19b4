"""The keyed chain and its witness: a trail cut short, emptied, or forged and re-chained is
named by sequence number, even when the head row is rolled back with it."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from detente.audit.keys import audit_key
from detente.audit.models import AuditEvent, AuditHead
from detente.audit.services import GENESIS, _canonical, audit_record, audit_verify, chain_hash
from detente.audit.witness import witness_append, witness_path, witness_read
from detente.core.errors import InputError, RuleViolation

pytestmark = pytest.mark.django_db


@pytest.fixture
def witnessed() -> list[AuditEvent]:
    """Five events, the fifth witnessed."""
    events = [
        audit_record(
            actor=None, verb="thing.done", subject_type="thing", subject_id=i, after={"n": i}
        )
        for i in range(1, 6)
    ]
    entry = witness_append()
    assert entry is not None
    assert entry.seq == 5
    return events


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _rechain(digest: Any, *, from_seq: int) -> None:
    """What a forger does: rewrite every hash from ``from_seq`` on and move the head along."""
    prev = AuditEvent.objects.get(seq=from_seq - 1).hash if from_seq > 1 else GENESIS
    for event in AuditEvent.objects.filter(seq__gte=from_seq).order_by("seq"):
        canonical = _canonical(
            seq=event.seq, occurred_at=event.occurred_at, actor_id=event.actor_id,
            actor_label=event.actor_label, verb=event.verb, subject_type=event.subject_type,
            subject_id=event.subject_id, before=event.before, after=event.after, prev_hash=prev,
        )  # fmt: skip
        new = digest(canonical)
        _sql("UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
             [prev, new, event.pk])  # fmt: skip
        prev = new
    _sql("UPDATE audit_audithead SET hash = %s WHERE id = 1", [prev])


def test_a_witnessed_chain_verifies(witnessed: list[AuditEvent]) -> None:
    result = audit_verify()
    assert (result.ok, result.checked, result.notes) == (True, 5, ())


def test_the_hash_is_keyed_not_a_plain_digest(witnessed: list[AuditEvent]) -> None:
    first = witnessed[0]
    canonical = _canonical(
        seq=1, occurred_at=first.occurred_at, actor_id=None, actor_label="system",
        verb="thing.done", subject_type="thing", subject_id="1", before=None, after={"n": 1},
        prev_hash=GENESIS,
    )  # fmt: skip
    assert first.hash == chain_hash(canonical)
    assert first.hash != hashlib.sha256(canonical).hexdigest()


def test_a_forgery_rechained_without_the_key_is_named(witnessed: list[AuditEvent]) -> None:
    # given an attacker who edits event 3 and recomputes the chain with plain SHA-256
    _sql("UPDATE audit_auditevent SET actor_label = 'mallory' WHERE seq = 3", [])
    _rechain(lambda raw: hashlib.sha256(raw).hexdigest(), from_seq=3)
    result = audit_verify()
    assert (result.ok, result.broken_at) == (False, 3)
    assert result.reason == "event #3 was altered or forged after it was written"


def test_a_forgery_rechained_with_the_key_is_named_by_the_witness(
    witnessed: list[AuditEvent],
) -> None:
    # given an attacker who even holds the key, but cannot rewrite the witness
    _sql("UPDATE audit_auditevent SET actor_label = 'mallory' WHERE seq = 3", [])
    _rechain(chain_hash, from_seq=3)
    result = audit_verify()
    assert (result.ok, result.broken_at) == (False, 5)
    assert "event #5 is not the one the witness saw" in result.reason


def test_a_tail_cut_with_the_head_rolled_back_is_named(witnessed: list[AuditEvent]) -> None:
    _sql("DELETE FROM audit_auditevent WHERE seq > 3", [])
    _sql("UPDATE audit_audithead SET seq = 3, hash = %s WHERE id = 1", [witnessed[2].hash])
    result = audit_verify()
    assert (result.ok, result.broken_at) == (False, 4)
    assert result.reason.startswith("the trail was cut short: it ends at #3 but the witness saw #5")


def test_an_emptied_trail_is_named(witnessed: list[AuditEvent]) -> None:
    _sql("DELETE FROM audit_auditevent", [])
    _sql("DELETE FROM audit_audithead", [])
    result = audit_verify()
    assert (result.ok, result.broken_at) == (False, 1)
    assert result.reason.startswith("the trail is empty but the witness saw event #5")


def test_the_witness_only_grows_when_the_head_moves(witnessed: list[AuditEvent]) -> None:
    assert witness_append() is None
    audit_record(actor=None, verb="thing.done", subject_type="thing", subject_id=6)
    entry = witness_append()
    assert entry is not None
    assert entry.seq == 6
    assert [e.seq for e in witness_read()] == [5, 6]
    assert audit_verify().ok is True


def test_an_unwitnessed_trail_verifies_with_a_note() -> None:
    audit_record(actor=None, verb="thing.done", subject_type="thing", subject_id=1)
    result = audit_verify()
    assert result.ok is True
    assert result.notes == (
        "no witness entries yet: run `detente worker` (or `detente audit anchor`)",
    )


def test_an_edited_witness_line_is_refused_naming_file_line_and_field(
    witnessed: list[AuditEvent],
) -> None:
    path = witness_path()
    line = json.loads(path.read_text())
    line["seq"] = 2
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(InputError) as caught:
        audit_verify()
    assert str(caught.value) == f"{path}: line 1: field mac does not match the entry"


@pytest.fixture
def own_key_file(settings: Any, tmp_path: Path) -> Iterator[Path]:
    settings.DETENTE_AUDIT_KEY_FILE = str(tmp_path / "audit_key")
    audit_key.cache_clear()
    yield tmp_path / "audit_key"
    audit_key.cache_clear()


def test_the_key_file_is_made_on_first_use_private(own_key_file: Path) -> None:
    audit_record(actor=None, verb="thing.done", subject_type="thing", subject_id=1)
    assert stat.S_IMODE(os.stat(own_key_file).st_mode) == 0o600
    assert len(own_key_file.read_text().strip()) == 64
    assert AuditEvent.objects.get().hash == chain_hash(
        _canonical(
            seq=1,
            occurred_at=AuditEvent.objects.get().occurred_at,
            actor_id=None,
            actor_label="system",
            verb="thing.done",
            subject_type="thing",
            subject_id="1",
            before=None,
            after=None,
            prev_hash=GENESIS,
        )
    )


def test_a_lost_key_is_not_silently_replaced(own_key_file: Path) -> None:
    audit_record(actor=None, verb="thing.done", subject_type="thing", subject_id=1)
    own_key_file.unlink()
    audit_key.cache_clear()
    events = AuditEvent.objects.count()
    with pytest.raises(RuleViolation) as caught:
        audit_record(actor=None, verb="thing.done", subject_type="thing", subject_id=2)
    assert "the audit key is missing but the trail has events" in str(caught.value)
    assert (AuditEvent.objects.count(), AuditHead.objects.get().seq) == (events, 1)
    assert not own_key_file.exists()


def test_the_key_comes_from_the_environment_first(
    own_key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETENTE_AUDIT_KEY", "k" * 40)
    audit_key.cache_clear()
    assert audit_key() == b"k" * 40
    assert not own_key_file.exists()
    monkeypatch.setenv("DETENTE_AUDIT_KEY", "short")
    audit_key.cache_clear()
    with pytest.raises(RuleViolation):
        audit_key()
