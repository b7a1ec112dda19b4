"""Imports on one SQLite database take turns: a second ``detente import`` waits, saying so,
instead of failing after the busy timeout with "database is locked" (SQLite has one writer; an
import holds it for its whole file). PostgreSQL imports run side by side and skip this."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from detente.cli.common import err_console


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
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            err_console.print("waiting for another import to finish…")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
