"""A command importing a folder: SQLite settings for the run, and the one identity index."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from detente.core import clock
from detente.core.bulk import CopyBehind, _literal, insert_rows, write_session
from detente.findings import importer, services
from detente.findings.models import Finding, ScanImport
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json
from detente.intel.models import KevEntry
from detente.policy.document import pack_text
from detente.policy.services import policy_activate

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings")


def _pragma(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        (value,) = cursor.fetchone()
    return int(value)


def _folder(tmp_path: Path, files: int) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    for k in range(files):
        vulns = [trivy_vuln(f"CVE-2024-{1000 + i}", pkg=f"lib{i}") for i in range(5)]
        write_json(folder / f"r{k}.json", trivy_report(vulns, artifact=f"registry.example/a{k}"))
    return folder


@sqlite_only
def test_a_new_database_gets_the_configured_page_size_and_an_existing_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    from django.conf import settings

    assert _pragma("page_size") == settings.SQLITE_PAGE_SIZE  # the test database, made as any
    init = settings.DATABASES["default"]["OPTIONS"]["init_command"]
    fresh = sqlite3.connect(tmp_path / "new.sqlite3")
    fresh.executescript(init)
    fresh.execute("CREATE TABLE t (x)")
    assert fresh.execute("PRAGMA page_size").fetchone() == (settings.SQLITE_PAGE_SIZE,)
    assert fresh.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    fresh.close()
    old = sqlite3.connect(tmp_path / "old.sqlite3")
    old.execute("PRAGMA page_size = 4096")
    old.execute("CREATE TABLE t (x)")
    old.executescript(init)
    assert old.execute("PRAGMA page_size").fetchone() == (4096,)
    old.close()


@sqlite_only
def test_write_session_sets_the_run_settings_and_restores_them_even_after_an_error() -> None:
    pages, cache = _pragma("wal_autocheckpoint"), _pragma("cache_size")
    with write_session(cache_megabytes=300, wal_megabytes=400):
        # in pages of the database's own size
        assert _pragma("wal_autocheckpoint") == 400 * 2**20 // _pragma("page_size")
        assert _pragma("cache_size") == -300 * 1024
    assert (_pragma("wal_autocheckpoint"), _pragma("cache_size")) == (pages, cache)
    with (
        pytest.raises(ValueError, match="boom"),
        write_session(cache_megabytes=300, wal_megabytes=0),
    ):
        raise ValueError("boom")
    # never lowered below what the connection had
    assert (_pragma("wal_autocheckpoint"), _pragma("cache_size")) == (pages, cache)


@sqlite_only
def test_a_folder_is_imported_under_the_run_settings_and_a_single_file_is_not(
    tmp_path: Path,
) -> None:
    clock.set_now(NOW)
    seen: list[int] = []
    scan_import(
        paths=[_folder(tmp_path, 3)], progress=lambda *_: seen.append(_pragma("wal_autocheckpoint"))
    )
    run_pages = services.FOLDER_WAL_MB * 2**20 // _pragma("page_size")
    assert seen == [run_pages] * 3
    assert _pragma("wal_autocheckpoint") < run_pages
    one = write_json(tmp_path / "one.json", trivy_report([trivy_vuln("CVE-2024-1")]))
    scan_import(paths=[one], progress=lambda *_: seen.append(_pragma("wal_autocheckpoint")))
    assert seen[-1] < run_pages
    assert ScanImport.objects.count() == 4
    assert Finding.objects.count() == 16


def test_the_identity_index_refuses_a_second_row_with_the_same_fingerprint(
    tmp_path: Path,
) -> None:
    clock.set_now(NOW)
    scan_import(paths=[_folder(tmp_path, 1)])
    row = Finding.objects.first()
    assert row is not None
    row.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save(force_insert=True)
    assert Finding.objects.count() == 5


def test_the_importer_reads_a_scope_through_the_identity_index() -> None:
    # the scope query (asset, scanner) is served by the unique index, not by a table scan
    table = Finding._meta.db_table
    sql = f"SELECT fingerprint, id FROM {table} WHERE asset_id = 1 AND scanner = 'trivy'"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(r[-1]) for r in cursor.fetchall())
            # SQLite names a unique constraint's index sqlite_autoindex_<table>_N
            assert "INDEX sqlite_autoindex_findings_finding" in plan
            assert "(asset_id=? AND scanner=?)" in plan
            return
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
            plan = " ".join(str(r[0]) for r in cursor.fetchall())
    assert "finding_identity" in plan


def test_kev_due_dates_cap_each_deadline_and_every_file_counts_from_its_own_time(
    tmp_path: Path,
) -> None:
    clock.set_now(NOW)
    policy_activate(
        text=pack_text("bod-26-04").replace("kev_due_date: ignore", "kev_due_date: earliest"),
        source="test",
    )
    soon, late = NOW.date() + dt.timedelta(days=1), NOW.date() + dt.timedelta(days=400)
    for cve, due in (("CVE-2024-0001", soon), ("CVE-2024-0002", late)):
        KevEntry.objects.create(cve_id=cve, date_added=NOW.date(), due_date=due)
    folder = tmp_path / "scans"
    folder.mkdir()
    for k in range(2):
        vulns = [trivy_vuln(f"CVE-2024-000{i}", pkg=f"lib{i}") for i in (1, 2)]
        write_json(folder / f"r{k}.json", trivy_report(vulns, artifact=f"registry.example/a{k}"))

    def next_day(*_: object) -> None:
        clock.set_now(clock.now() + dt.timedelta(days=1))

    scan_import(paths=[folder], progress=next_day)
    got = {
        (f.asset.identifier[-2:], f.cve): (f.first_seen, f.deadline)
        for f in Finding.objects.select_related("asset")
    }
    end_of_soon = dt.datetime.combine(soon, dt.time(23, 59, 59), tzinfo=dt.UTC)
    assert got["a0", "CVE-2024-0001"] == (NOW, end_of_soon)
    assert got["a1", "CVE-2024-0001"] == (NOW + dt.timedelta(days=1), end_of_soon)
    # the far KEV date does not cap: the deadline counts from each file's own import time
    first0, due0 = got["a0", "CVE-2024-0002"]
    first1, due1 = got["a1", "CVE-2024-0002"]
    assert (first0, first1) == (NOW, NOW + dt.timedelta(days=1))
    assert due0 is not None
    assert due1 is not None
    assert due0 - first0 == due1 - first1 > dt.timedelta(days=1)
    assert due0 < end_of_soon + dt.timedelta(days=399)


def test_aliases_are_stored_as_a_json_array_on_every_database(samples: Path) -> None:
    # PostgreSQL loads findings with binary COPY: the JSON text must land as an array, not as a
    # JSON string holding it
    clock.set_now(NOW)
    scan_import(paths=[samples / "scans/sarif/cxf-3.4.6.sarif"])
    stored = list(Finding.objects.values_list("aliases", flat=True))
    assert ["CVE-2008-0732"] in stored
    assert all(isinstance(a, list) for a in stored)
    # and the database itself sees arrays (a lookup into the first element)
    assert Finding.objects.filter(aliases__0="CVE-2008-0732").exists()


def _copied_rows(tmp_path: Path) -> tuple[str, tuple[str, ...], list[list[object]]]:
    clock.set_now(NOW)
    scan_import(paths=[_folder(tmp_path, 1)])
    table = Finding._meta.db_table
    columns = (*importer.FINDING_COLUMNS, "first_seen", "last_seen")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table}")
        rows = [list(r) for r in cursor.fetchall()]
    for row in rows:
        row[0] = "y" + row[0][1:]  # a new fingerprint: new findings
    return table, columns, rows


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY thread is PostgreSQL's")
def test_rows_copied_behind_are_there_after_wait_and_a_failed_copy_raises_there(
    tmp_path: Path,
) -> None:
    table, columns, rows = _copied_rows(tmp_path)
    copier = CopyBehind()
    copier.insert(table, columns, rows)
    assert Finding.objects.count() == 10  # a query waits for the COPY on the same connection
    copier.wait()

    def again() -> None:
        copier.insert(table, columns, rows)  # the same identities again
        copier.wait()

    with pytest.raises(psycopg.errors.UniqueViolation), transaction.atomic():
        again()
    assert copier.thread is None
    assert Finding.objects.count() == 10


def test_constants_written_into_a_statement_are_only_plain_values() -> None:
    assert _literal(None) == "NULL"
    assert _literal(True) == "1"
    assert _literal(42) == "42"
    assert _literal("2026-11-02 09:00:00.123456") == "'2026-11-02 09:00:00.123456'"
    for bad in ("x'); DROP TABLE findings_finding; --", 'a"b', "line\nbreak", 1.5, b"bytes"):
        with pytest.raises(ValueError, match="not a constant"):
            _literal(bad)


@sqlite_only
def test_an_unchecked_insert_skips_checks_for_its_rows_only_and_keeps_not_null(
    tmp_path: Path,
) -> None:
    table, columns, rows = _copied_rows(tmp_path)
    aliases = columns.index("aliases")
    bad = [list(rows[0])]
    bad[0][aliases] = "not json"
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"), transaction.atomic():
        insert_rows(table, columns, bad)  # checked by default
    with transaction.atomic():
        insert_rows(table, columns, bad, checked=False)  # the caller vouched for its rows
        assert _pragma("ignore_check_constraints") == 0  # back on for everything else
        transaction.set_rollback(True)
    null = [list(rows[1])]
    null[0][columns.index("title")] = None
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"), transaction.atomic():
        insert_rows(table, columns, null, checked=False)
    assert _pragma("ignore_check_constraints") == 0


def test_flags_written_as_zero_and_one_read_back_as_booleans(tmp_path: Path) -> None:
    clock.set_now(NOW)
    KevEntry.objects.create(
        cve_id="CVE-2024-1000", date_added=NOW.date(), due_date=NOW.date() + dt.timedelta(days=14)
    )
    scan_import(paths=[_folder(tmp_path, 1)])
    flags = {
        f.cve: (f.kev, f.exposed, f.suppressed_by_tool, f.needs_analyst)
        for f in Finding.objects.filter(cve__in=["CVE-2024-1000", "CVE-2024-1001"])
    }
    assert all(type(v) is bool for values in flags.values() for v in values)
    assert flags["CVE-2024-1000"][0] is True
    assert flags["CVE-2024-1001"][0] is False
    assert Finding.objects.filter(kev=True).count() == 1
    assert Finding.objects.filter(kev=False, suppressed_by_tool=False, exposed=True).count() == 4


def test_an_unchanged_finding_takes_the_inline_path_and_a_changed_one_the_full_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-import's inline state hash must equal enrich.state_hash: if it drifted, every
    unchanged finding would fall through to handle_existing (right, but slow)."""
    clock.set_now(NOW)
    folder = _folder(tmp_path, 1)
    scan_import(paths=[folder])
    slow: list[int] = []
    original = importer._Run.handle_existing

    def counting(self: importer._Run, *args: object) -> None:
        slow.append(1)
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importer._Run, "handle_existing", counting)
    clock.set_now(NOW + dt.timedelta(days=1))
    (again,) = scan_import(paths=[folder])
    assert (again.unchanged, again.refreshed, len(slow)) == (5, 0, 0)
    report = next(folder.iterdir())
    vulns = [trivy_vuln(f"CVE-2024-{1000 + i}", pkg=f"lib{i}") for i in range(5)]
    vulns[0]["Title"] = "a new title"
    write_json(report, trivy_report(vulns, artifact="registry.example/a0"))
    (changed,) = scan_import(paths=[folder])
    assert (changed.unchanged, changed.refreshed, len(slow)) == (5, 1, 1)
    assert Finding.objects.filter(title="a new title").count() == 1
