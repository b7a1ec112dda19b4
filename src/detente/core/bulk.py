"""Set-based writes for hot paths: COPY on PostgreSQL, ``executemany`` on SQLite.

Django's ``bulk_create`` manages about 23,000 rows a second here (SQLite batches of 71 rows); these
helpers manage 150,000+. They take plain tuples in column order and run inside the caller's
transaction.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def write_cache(megabytes: int) -> Iterator[None]:
    """SQLite: hold up to ``megabytes`` of pages in memory for a large write, then go back.

    A transaction that dirties more pages than the cache holds spills them to the WAL mid-way and
    writes the ones it touches again (random index inserts touch most) a second time. Memory is
    only taken as pages are used, and given back when the cache shrinks. Nothing on PostgreSQL.
    """
    if is_postgres() or megabytes <= 0:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        if previous >= 0 or -previous >= megabytes * 1024:
            yield
            return
        cursor.execute(f"PRAGMA cache_size = {-int(megabytes) * 1024}")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


@contextmanager
def write_session(*, cache_megabytes: int, wal_megabytes: int) -> Iterator[None]:
    """SQLite: settings for a command that commits many write transactions in a row (a folder
    of scanner files, each imported as its own transaction).

    - ``cache_megabytes`` of page cache for the whole run (as ``write_cache``): the index pages
      one file's rows land on stay in memory for the next file instead of being read again.
    - The write-ahead log may grow to ``wal_megabytes`` before SQLite copies it back into the
      database file (``wal_autocheckpoint``, in pages of the database's page size; normally
      1,000 pages, i.e. after almost every file).
      Each file's commit touches a few hundred random index pages; checkpointing after every
      file copies and syncs them again and again, checkpointing every few hundred MB copies each
      page once per checkpoint. At the end the log is checkpointed once and the setting restored.

    Durability is unchanged: every file is still its own committed transaction, and with
    ``synchronous=NORMAL`` a commit in WAL mode was never synced to disk before a checkpoint
    anyway. Nothing on PostgreSQL.
    """
    if is_postgres():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA page_size")
        (page_size,) = cursor.fetchone()
        wal_pages = int(wal_megabytes) * 2**20 // int(page_size)
        cursor.execute("PRAGMA wal_autocheckpoint")
        (previous_pages,) = cursor.fetchone()
        cursor.execute(f"PRAGMA wal_autocheckpoint = {max(wal_pages, int(previous_pages))}")
    try:
        with write_cache(cache_megabytes):
            yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(previous_pages)}")
            if not connection.in_atomic_block:  # a checkpoint cannot run inside a transaction
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


class DeferredIndexes:
    """SQLite: drop some of a table's indexes inside the current transaction and build them again
    before it commits, for a load that adds more rows than the table held.

    Building an index once over sorted keys is much cheaper than a million random inserts into
    it. The drop and the rebuild are in the caller's transaction: a failure rolls both back, and
    readers (WAL) keep seeing the committed schema with every index meanwhile. The indexes are
    rebuilt from the exact SQL SQLite stored for them. PostgreSQL: nothing (``DROP INDEX`` would
    lock the table against readers for the whole load).
    """

    def __init__(self, table: str, names: Sequence[str]) -> None:
        self.table = table
        self.names = tuple(names)
        self.saved: list[tuple[str, str]] = []

    @property
    def deferred(self) -> bool:
        return bool(self.saved)

    def defer(self) -> bool:
        if self.saved or is_postgres() or not self.names:
            return False
        marks = ", ".join(["%s"] * len(self.names))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master "  # noqa: S608 - placeholders only
                f"WHERE type = 'index' AND tbl_name = %s AND name IN ({marks}) ORDER BY name",
                [self.table, *self.names],
            )
            saved = [(str(name), str(sql)) for name, sql in cursor.fetchall() if sql]
            for name, _ in saved:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        self.saved = saved
        return bool(saved)

    def rebuild(self, *, threads: int = 2) -> None:
        """Build the indexes again; the sorter may use ``threads`` helper threads (a load ends
        here, and the other core is free by then)."""
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA threads")
            (previous,) = cursor.fetchone()
            cursor.execute(f"PRAGMA threads = {int(threads)}")
            try:
                for _, sql in self.saved:
                    cursor.execute(sql)
            finally:
                cursor.execute(f"PRAGMA threads = {int(previous)}")
        self.saved = []


def refresh_statistics(table: str) -> bool:
    """PostgreSQL: ``ANALYZE`` ``table`` after a large write, so the planner knows it before
    autovacuum gets there (a freshly loaded million-row table otherwise looks empty to it and
    gets sort-everything plans). SQLite's planner needs no statistics for our queries: no-op.
    """
    if not is_postgres():
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return True


_TYPES: dict[tuple[str, str, tuple[str, ...]], list[int]] = {}


def _column_types(cursor: Any, table: str, columns: Sequence[str]) -> list[int]:
    """PostgreSQL: the type OIDs of ``columns`` of ``table``, read once per database."""
    key = (str(connection.settings_dict["NAME"]), table, tuple(columns))
    found = _TYPES.get(key)
    if found is None:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table],
        )
        oids = {str(name): int(oid) for name, oid in cursor.fetchall()}
        found = _TYPES[key] = [oids[c.strip('"')] for c in columns]
    return found


def _json_text(value: Any) -> str | bytes:
    """JSON for a jsonb column: text we were given as it is, anything else encoded."""
    if isinstance(value, str | bytes):
        return value
    return json.dumps(value)


def estimated_rows(table: str) -> int:
    """PostgreSQL: the planner's estimate of ``table``'s rows (0 before its first ANALYZE); a
    catalogue read, not a count. SQLite: 0 (nothing uses it there)."""
    if not is_postgres():
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return max(0, int(row[0])) if row else 0


class CopyBehind:
    """PostgreSQL: COPY a batch of rows on a thread while the caller builds the next batch.

    A COPY's rows are mostly the server's work (heap, four indexes, WAL): the client waits for it
    at the end of each COPY, about 12 s of a million-row load. On a thread that wait overlaps the
    caller's Python. The thread uses the caller's psycopg connection, in the caller's transaction;
    psycopg serialises the connection, so a query the caller runs meanwhile waits for the COPY.
    ``wait()`` joins the thread and raises what the COPY raised; call it before the caller's next
    statement whose failure should be told apart, and always before commit. SQLite: the rows are
    inserted at once (``executemany`` holds the GIL: nothing to overlap).
    """

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        constants: Sequence[tuple[str, Any]] = (),
        *,
        checked: bool = True,
    ) -> None:
        """``insert_rows(table, columns, rows, constants, checked)``, on a thread on PostgreSQL."""
        self.wait()
        if not is_postgres():
            insert_rows(table, columns, rows, constants, checked=checked)
            return
        names = (*columns, *(c for c, _ in constants))
        with connection.cursor() as cursor:
            types = _column_types(cursor, table, names)
        raw = connection.connection  # the psycopg connection under Django's
        self.thread = threading.Thread(
            target=self._copy,
            args=(raw, table, names, types, rows, tuple(v for _, v in constants)),
            name="detente-copy",
        )
        self.thread.start()

    def _copy(
        self,
        raw: Any,
        table: str,
        columns: Sequence[str],
        types: list[int],
        rows: Sequence[Any],
        tail: tuple[Any, ...],
    ) -> None:
        try:
            with raw.cursor() as cursor:
                _copy_binary(cursor, table, columns, types, rows, tail)
        except BaseException as exc:  # noqa: BLE001 - raised in the caller by wait()
            self.error = exc

    def wait(self) -> None:
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def _copy_binary(
    raw_cursor: Any,
    table: str,
    columns: Sequence[str],
    types: list[int],
    rows: Iterable[Any],
    tail: tuple[Any, ...] = (),
) -> int:
    """COPY ``rows`` (each followed by ``tail``, the constants' values) in binary."""
    # imported here: psycopg costs ~0.15 s of CPU to import, which a command on SQLite (the
    # release gate's 2-second budget) should not pay
    from psycopg.types.json import set_json_dumps

    count = 0
    # JSON arrives as text: send it as it is (the default would quote it as a string)
    set_json_dumps(_json_text, context=raw_cursor)
    cols = ", ".join(columns)
    with raw_cursor.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
        # binary with fixed types: half the client time of text COPY, no parsing on the server
        copy.set_types(types)
        if tail:
            for row in rows:
                copy.write_row((*row, *tail))
                count += 1
        else:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


# What a constant may be when it is written into SQLite's statement (see insert_rows).
_SAFE_TEXT = re.compile(r"[0-9A-Za-z:. +_-]*")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str) and _SAFE_TEXT.fullmatch(value):
        return f"'{value}'"
    raise ValueError(f"not a constant for a statement: {value!r}")


def insert_rows(
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Sequence[tuple[str, Any]] = (),
    *,
    checked: bool = True,
) -> int:
    """Insert every row; return how many. Values must already be database-ready
    (JSON as text, datetimes aware; on SQLite, as Django stores them).

    ``constants``: (column, value) pairs every row shares. On SQLite they are written into the
    statement (ints, NULL, and plain date/time text only), so ``executemany`` does not bind them
    a million times; on PostgreSQL each row is followed by them in the COPY.

    ``checked=False``: the caller vouches that its rows satisfy the table's CHECK constraints
    (Django's: JSON that is valid, integers that are not negative), and SQLite skips evaluating
    them for these rows (``ignore_check_constraints``, on for this statement only; about 2 µs a
    row of a million-row load). NOT NULL and UNIQUE are enforced as ever. PostgreSQL's COPY checks
    them anyway.
    """
    names = (*columns, *(c for c, _ in constants))
    cols = ", ".join(names)
    count = 0
    with connection.cursor() as cursor:
        if is_postgres():
            types = _column_types(cursor, table, names)
            tail = tuple(v for _, v in constants)
            return _copy_binary(cursor.cursor, table, names, types, rows, tail)
        marks = ", ".join(["?" for _ in columns] + [_literal(v) for _, v in constants])
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608 - names are ours
        raw_sqlite = cursor.cursor
        if not checked:
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        try:
            batch: list[Sequence[Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 50_000:
                    raw_sqlite.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                raw_sqlite.executemany(sql, batch)
                count += len(batch)
        finally:
            if not checked:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
    return count


def _staged(cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """PostgreSQL: COPY ``rows`` into a temporary table shaped like ``table``'s ``columns``."""
    stage = f"_bulk_{table}"
    cols = ", ".join(columns)
    cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    cursor.execute(f"CREATE TEMP TABLE {stage} AS SELECT {cols} FROM {table} WITH NO DATA")  # noqa: S608
    with cursor.cursor.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return stage


def insert_new_rows(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, key: str
) -> None:
    """Insert the rows whose ``key`` (a unique column) is not in the table yet.

    On PostgreSQL the rows are copied to a temporary table and inserted with one statement: a
    row-by-row ``executemany`` costs a round trip each (about 100 µs: 5 s for 50,000 rows).
    """
    if not rows:
        return
    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        if is_postgres():
            stage = _staged(cursor, table, columns, rows)
            cursor.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} "  # noqa: S608
                f"ON CONFLICT ({key}) DO NOTHING"
            )
            cursor.execute(f"DROP TABLE {stage}")
            return
        marks = ", ".join("?" for _ in columns)
        cursor.cursor.executemany(
            f"INSERT INTO {table} ({cols}) VALUES ({marks}) "  # noqa: S608
            f"ON CONFLICT ({key}) DO NOTHING",
            rows,
        )


def update_rows(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, key: str = "id"
) -> None:
    """Set ``columns`` of the row whose ``key`` is each row's last value.

    SQLite: one ``executemany`` (local calls, fast). PostgreSQL: COPY to a temporary table and
    one ``UPDATE … FROM``, for the same reason as ``insert_new_rows``.
    """
    if not rows:
        return
    with connection.cursor() as cursor:
        if is_postgres():
            stage = _staged(cursor, table, (*columns, key), rows)
            sets = ", ".join(f"{c} = s.{c}" for c in columns)
            cursor.execute(
                f"UPDATE {table} AS t SET {sets} FROM {stage} AS s "  # noqa: S608
                f"WHERE t.{key} = s.{key}"
            )
            cursor.execute(f"DROP TABLE {stage}")
            return
        sets = ", ".join(f"{c} = ?" for c in columns)
        cursor.cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE {key} = ?",  # noqa: S608
            rows,
        )


def execute_many(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one parameterised statement (``%s`` placeholders) for every row."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.cursor.executemany(sql, rows)
        else:
            cursor.cursor.executemany(sql.replace("%s", "?"), rows)


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)
