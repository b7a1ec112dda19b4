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
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
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


# ------------------------------------------------------------------------------ the webhook

WEBHOOK_TIMEOUT_SECONDS = 5.0
SIGNATURE_HEADER = "X-Detente-Signature"
log = logging.getLogger(__name__)


def witness_body(entry: WitnessEntry) -> bytes:
    """The anchor as POSTed: canonical JSON (sorted keys, no spaces), the bytes that are signed."""
    anchor = {"seq": entry.seq, "hash": entry.hash, "at": entry.at}
    return json.dumps(anchor, sort_keys=True, separators=(",", ":")).encode()


def witness_signature(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of the body with the shared secret>``, as a receiver checks it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _posted_path() -> Path:
    return witness_path().with_name(witness_path().name + ".posted")


def _last_posted() -> int:
    try:
        return int(_posted_path().read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def witness_post(entry: WitnessEntry) -> bool:
    """POST one anchor to ``DETENTE_WITNESS_WEBHOOK_URL``, signed; True when the receiver said
    2xx. A failure is logged (host only) and left for the next round, which posts the newest
    anchor: an anchor vouches for every event up to its sequence number, so a lost one is
    covered by the next."""
    url = settings.DETENTE_WITNESS_WEBHOOK_URL
    secret = settings.DETENTE_WITNESS_WEBHOOK_SECRET
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("not an http(s) URL", field="DETENTE_WITNESS_WEBHOOK_URL")
    if not secret:
        raise InputError(
            "a witness webhook needs a shared secret to sign with",
            field="DETENTE_WITNESS_WEBHOOK_SECRET",
        )
    body = witness_body(entry)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Detente-Witness/1",
            SIGNATURE_HEADER: witness_signature(body, secret),
        },
    )
    where = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}/…"
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        log.warning("witness webhook %s answered HTTP %s for #%s", where, exc.code, entry.seq)
        return False
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        log.warning("witness webhook %s unreachable for #%s: %s", where, entry.seq,
                    type(reason).__name__)  # fmt: skip
        return False
    if not 200 <= status < 300:
        log.warning("witness webhook %s answered HTTP %s for #%s", where, status, entry.seq)
        return False
    _posted_path().write_text(f"{entry.seq}\n")
    return True


def witness_anchor(*, now: dt.datetime | None = None) -> WitnessEntry | None:
    """Append the head to the witness file, then (when a webhook is configured) POST the newest
    witnessed anchor unless the receiver already has it. Returns what was appended."""
    entry = witness_append(now=now)
    if not settings.DETENTE_WITNESS_WEBHOOK_URL:
        return entry
    newest = entry or next(iter(witness_read()[-1:]), None)
    if newest is not None and newest.seq > _last_posted():
        witness_post(newest)
    return entry
