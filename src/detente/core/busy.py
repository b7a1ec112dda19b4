"""When the database's write lock is held (a long SQLite import), bookkeeping writes skip instead
of waiting, and a write that truly has to wait gives up after the bounded busy timeout with
:class:`DatabaseBusy` (answered 503 with ``Retry-After`` by the web and the API)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connection

T = TypeVar("T")
RETRY_AFTER_SECONDS = 5
BOOKKEEPING_WAIT_MS = 50

_LOCKED = (
    "database is locked",
    "database table is locked",
    "lock timeout",
    "could not obtain lock",
)


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and any(m in str(exc).lower() for m in _LOCKED)


@contextmanager
def brief_wait(ms: int = BOOKKEEPING_WAIT_MS) -> Iterator[None]:
    """Within the block, a locked SQLite database is waited for ``ms`` only (PostgreSQL's row
    writes here do not wait on an import)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout={int(ms)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout={int(settings.DETENTE_SQLITE_BUSY_TIMEOUT_MS)}")


def skip_when_busy(write: Callable[[], T]) -> T | None:
    """Run a bookkeeping write (last-used times), or skip it when the lock is taken."""
    try:
        with brief_wait():
            return write()
    except OperationalError as exc:
        if is_lock_error(exc):
            return None
        raise
