"""The audit chain's key: kept outside the database, so whoever can write the database cannot
recompute the chain after forging or deleting events.

``DETENTE_AUDIT_KEY`` (at least 32 characters) wins; otherwise the key file
(``DETENTE_AUDIT_KEY_FILE``, default ``<data dir>/audit_key``, mode 0600) is read, and made on
first use. A lost key cannot be replaced silently: with events already written, a missing key is
an error (restore the key file from its backup, docs/deployment.md).
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path

from django.conf import settings

from detente.core.errors import RuleViolation

MIN_KEY_CHARS = 32


def key_file() -> Path:
    return Path(settings.DETENTE_AUDIT_KEY_FILE)


@functools.cache
def audit_key() -> bytes:
    """The HMAC key of the chain (cached for the process; ``audit_key.cache_clear()`` in tests)."""
    if raw := os.environ.get("DETENTE_AUDIT_KEY", ""):
        if len(raw) < MIN_KEY_CHARS:
            raise RuleViolation(f"DETENTE_AUDIT_KEY is shorter than {MIN_KEY_CHARS} characters")
        return raw.encode()
    path = key_file()
    if not path.exists():
        _create(path)
    text = path.read_text(encoding="utf-8").strip()
    if len(text) < MIN_KEY_CHARS:
        raise RuleViolation(f"{path}: the audit key is shorter than {MIN_KEY_CHARS} characters")
    return text.encode()


def _create(path: Path) -> None:
    from detente.audit.models import AuditEvent

    if AuditEvent.objects.exists():
        raise RuleViolation(
            f"{path}: the audit key is missing but the trail has events; restore the key file "
            "from its backup (or set DETENTE_AUDIT_KEY)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
