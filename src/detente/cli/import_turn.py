"""Imports on one SQLite database take turns: a second ``detente import`` waits, saying so,
instead of failing after the busy timeout with "database is locked" (SQLite has one writer; an
import holds it for its whole file). PostgreSQL imports run side by side and skip this.

Two things are waited for: the turn among CLI imports (a lock file beside the database), then
SQLite's write lock itself, which an import from the web page (or any long write) may hold
without the lock file."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager

from detente.cli.common import err_console

WAITING = "waiting for another import to finish…"
POLL_SECONDS = 0.5


def _write_lock_free() -> bool:
    """Whether SQLite's write lock can be taken now (taken and given back at once)."""
    from django.db import OperationalError, connection

    from detente.core.busy import brief_wait, is_lock_error

    if connection.in_atomic_block:
        return True  # called inside a transaction (a caller's, or a test's): nothing to probe
    try:
        with brief_wait(ms=100), connection.cursor() as cursor:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("ROLLBACK")
    except OperationalError as exc:
        if is_lock_error(exc):
            return False
        raise
    return True


def _wait_for_write_lock(said: bool) -> None:
    while not _write_lock_free():
        if not said:
            err_console.print(WAITING)
            said = True
        time.sleep(POLL_SECONDS)


@contextmanager
def import_turn() -> Iterator[None]:
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    path = settings.DATA_DIR / "import.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        said = False
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            err_console.print(WAITING)
            said = True
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            _wait_for_write_lock(said)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
