"""Writing and verifying the audit chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.db import transaction

from detente.audit.models import AuditEvent, AuditHead
from detente.core import clock
from detente.core.bulk import insert_rows, is_postgres

if TYPE_CHECKING:
    from detente.people.models import Person

GENESIS = "0" * 64


def _canonical(
    *,
    seq: int,
    occurred_at: dt.datetime,
    actor_id: int | None,
    actor_label: str,
    verb: str,
    subject_type: str,
    subject_id: str,
    before: Any,
    after: Any,
    prev_hash: str,
) -> bytes:
    payload = {
        "seq": seq,
        "at": occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor_id,
        "actor_label": actor_label,
        "verb": verb,
        "subject": [subject_type, subject_id],
        "before": before,
        "after": after,
        "prev": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so what we hash is exactly what the database stores."""
    return None if value is None else json.loads(json.dumps(value, default=str))


def audit_record(
    *,
    actor: Person | None,
    verb: str,
    subject_type: str,
    subject_id: str | int,
    before: Any = None,
    after: Any = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. Call inside the transaction of the change it records."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        seq = head.seq + 1
        occurred_at = clock.now()
        label = actor_label or (str(actor) if actor is not None else "system")
        before_j, after_j = _jsonable(before), _jsonable(after)
        digest = hashlib.sha256(
            _canonical(
                seq=seq,
                occurred_at=occurred_at,
                actor_id=actor.pk if actor is not None else None,
                actor_label=label,
                verb=verb,
                subject_type=subject_type,
                subject_id=str(subject_id),
                before=before_j,
                after=after_j,
                prev_hash=head.hash,
            )
        ).hexdigest()
        event = AuditEvent.objects.create(
            seq=seq,
            occurred_at=occurred_at,
            actor=actor,
            actor_label=label,
            verb=verb,
            subject_type=subject_type,
            subject_id=str(subject_id),
            before=before_j,
            after=after_j,
            prev_hash=head.hash,
            hash=digest,
        )
        head.seq, head.hash = seq, digest
        head.save(update_fields=["seq", "hash"])
        return event


@dataclass(frozen=True)
class PendingEvent:
    """One event for ``audit_record_many``."""

    verb: str
    subject_type: str
    subject_id: str | int
    before: Any = None
    after: Any = None


def audit_record_many(
    *, actor: Person | None, events: Iterable[PendingEvent], actor_label: str | None = None
) -> int:
    """Append many events at once: the same chain as ``audit_record``, one head update and set-
    based inserts (``core.bulk``), for writes of many thousand rows such as applying an
    organisation. ``before``/``after`` must be JSON values already (dicts, lists or tuples,
    strings, numbers, booleans, None): they are encoded once, and the canonical text is put
    together from those encodings (``_canonical`` ordering, checked by ``audit_verify``) instead
    of being encoded three times per event (measured: 35 µs per ``json.dumps`` here). Call inside
    the transaction of the change it records; return how many were appended."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        occurred_at = clock.now()
        label = actor_label or (str(actor) if actor is not None else "system")
        actor_id = actor.pk if actor is not None else None
        postgres = is_postgres()
        at = occurred_at if postgres else str(occurred_at.astimezone(dt.UTC).replace(tzinfo=None))
        dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
        # the fields every event of this call shares, in _canonical's (sorted) key order
        actor_text = "null" if actor_id is None else str(int(actor_id))
        label_text = dumps(label)
        at_text = dumps(occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"))
        seq, prev = head.seq, head.hash
        rows: list[tuple[Any, ...]] = []
        for event in events:
            seq += 1
            before = None if event.before is None else dumps(event.before)
            after = None if event.after is None else dumps(event.after)
            subject_id = str(event.subject_id)
            text = (
                f'{{"actor":{actor_text},"actor_label":{label_text},"after":{after or "null"},'
                f'"at":{at_text},"before":{before or "null"},"prev":"{prev}","seq":{seq},'
                f'"subject":[{dumps(event.subject_type)},{dumps(subject_id)}],'
                f'"verb":{dumps(event.verb)}}}'
            )
            digest = hashlib.sha256(text.encode()).hexdigest()
            rows.append(
                (seq, at, actor_id, label, event.verb, event.subject_type, subject_id, before,
                 after, prev, digest)
            )  # fmt: skip
            prev = digest
        if not rows:
            return 0
        insert_rows(
            AuditEvent._meta.db_table,
            ("seq", "occurred_at", "actor_id", "actor_label", "verb", "subject_type",
             "subject_id", "before", "after", "prev_hash", "hash"),
            rows,
        )  # fmt: skip
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])
        return len(rows)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def _events() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=2000)


def audit_verify() -> VerifyResult:
    """Walk the chain in insertion order; name the first broken link."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    for event in _events():
        if event.seq != expected_seq:
            return VerifyResult(
                False, checked, event.seq, f"event #{event.seq} found where #{expected_seq} belongs"
            )
        if event.prev_hash != prev_hash:
            return VerifyResult(
                False, checked, event.seq, f"event #{event.seq} does not follow its predecessor"
            )
        digest = hashlib.sha256(
            _canonical(
                seq=event.seq,
                occurred_at=event.occurred_at,
                actor_id=event.actor_id,
                actor_label=event.actor_label,
                verb=event.verb,
                subject_type=event.subject_type,
                subject_id=event.subject_id,
                before=event.before,
                after=event.after,
                prev_hash=event.prev_hash,
            )
        ).hexdigest()
        if digest != event.hash:
            return VerifyResult(
                False, checked, event.seq, f"event #{event.seq} was altered after it was written"
            )
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(id=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != checked or head_hash != prev_hash:
        return VerifyResult(
            False, checked, checked + 1, f"the chain ends at #{checked} but #{head_seq} was written"
        )
    return VerifyResult(True, checked)


def audit_export(out: IO[str], *, since_seq: int = 0) -> int:
    """Write every event (from ``since_seq``) as JSON Lines, chain fields included; return count."""
    count = 0
    for event in AuditEvent.objects.filter(seq__gt=since_seq).order_by("seq").iterator(2000):
        out.write(
            json.dumps(
                {
                    "seq": event.seq,
                    "occurred_at": event.occurred_at.isoformat(),
                    "actor_id": event.actor_id,
                    "actor": event.actor_label,
                    "verb": event.verb,
                    "subject_type": event.subject_type,
                    "subject_id": event.subject_id,
                    "before": event.before,
                    "after": event.after,
                    "prev_hash": event.prev_hash,
                    "hash": event.hash,
                },
                sort_keys=True,
                default=str,
            )
            + "\n"
        )
        count += 1
    return count
