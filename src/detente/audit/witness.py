"""The witness: an append-only file outside the database where the worker records the chain's
head, ``(seq, hash, time)``, one JSON line at a time, each line keyed with the audit key.

``audit verify`` compares the chain with every line: a trail that ends before a witnessed
sequence number was cut short; one whose event differs from the witnessed hash was forged and
re-chained. Keep the file on other storage than the database, or copy it off the machine
(docs/deployment.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from detente.audit.keys import audit_key
from detente.audit.models import AuditHead
from detente.core import clock
from detente.core.errors import InputError


@dataclass(frozen=True)
class WitnessEntry:
    seq: int
    hash: str
    at: str


def witness_path() -> Path:
    return Path(settings.DETENTE_AUDIT_WITNESS)


def _mac(seq: int, digest: str, at: str) -> str:
    return hmac.new(audit_key(), f"{seq}|{digest}|{at}".encode(), hashlib.sha256).hexdigest()


def witness_read(path: Path | None = None) -> list[WitnessEntry]:
    """Every line of the witness (none when the file does not exist yet); a line that is not
    ours is an error naming the file and line."""
    source = path or witness_path()
    if not source.exists():
        return []
    entries: list[WitnessEntry] = []
    with source.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                entry = WitnessEntry(int(raw["seq"]), str(raw["hash"]), str(raw["at"]))
                mac = str(raw["mac"])
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{source}: line {number}: not a witness entry ({exc})") from exc
            if not hmac.compare_digest(mac, _mac(entry.seq, entry.hash, entry.at)):
                raise InputError(f"{source}: line {number}: field mac does not match the entry")
            entries.append(entry)
    return entries


def witness_append(*, now: dt.datetime | None = None) -> WitnessEntry | None:
    """Append the current head when it moved past the last witnessed one; return what was
    written (None when nothing new)."""
    head = AuditHead.objects.filter(id=1).first()
    if head is None or head.seq == 0:
        return None
    entries = witness_read()
    if entries and entries[-1].seq >= head.seq:
        return None  # nothing new (or a cut trail: verify says so, the witness keeps its word)
    at = (now or clock.now()).astimezone(dt.UTC).isoformat(timespec="seconds")
    entry = WitnessEntry(head.seq, head.hash, at)
    line = json.dumps(
        {"seq": entry.seq, "hash": entry.hash, "at": at, "mac": _mac(entry.seq, entry.hash, at)},
        sort_keys=True,
    )
    path = witness_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry
