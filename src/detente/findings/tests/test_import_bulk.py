"""SQLite bulk mode: a load bigger than the table defers three secondary indexes and rebuilds
them before commit — same rows, same indexes afterwards, and a failure leaves the schema whole."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from detente.core import clock
from detente.core.bulk import DeferredIndexes
from detente.findings import importer
from detente.findings.models import Finding, ScanImport
from detente.findings.parsers.base import ParseError
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json
from detente.findings.tests.test_import_parallel import _import, _rows_of_import

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the bulk mode is SQLite's"),
]
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'findings_finding'"
        )
        return dict(cursor.fetchall())


def _report(tmp_path: Path, name: str, count: int, start: int = 0) -> Path:
    vulns = [trivy_vuln(f"CVE-2024-{1000 + i % 9}", pkg=f"lib{i}") for i in range(start, count)]
    return write_json(tmp_path / name, trivy_report(vulns, artifact=f"registry.example/{name}"))


def _deferrals(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = DeferredIndexes.defer

    def counting(self: Any) -> bool:
        done: bool = original(self)
        calls.append(int(done))
        return done

    monkeypatch.setattr(DeferredIndexes, "defer", counting)
    return calls


def test_a_large_first_load_defers_and_rebuilds_with_identical_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set_now(NOW)
    path = _report(tmp_path, "big.json", 60)
    monkeypatch.setattr(importer, "CHUNK", 7)
    before = _indexes()
    monkeypatch.setattr(importer, "BULK_MIN_ROWS", 1 << 40)
    plain = _rows_of_import(path)
    monkeypatch.setattr(importer, "BULK_MIN_ROWS", 10)
    calls = _deferrals(monkeypatch)
    bulk = _rows_of_import(path)
    assert calls == [1]  # deferred once, after the first rows
    assert bulk == plain
    assert len(bulk[1]) == 60
    assert _indexes() == before  # every index back, with the SQL it was made with


def test_a_load_smaller_than_the_table_keeps_its_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set_now(NOW)
    _import(_report(tmp_path, "first.json", 40))
    monkeypatch.setattr(importer, "BULK_MIN_ROWS", 10)
    monkeypatch.setattr(importer, "CHUNK", 7)
    calls = _deferrals(monkeypatch)
    _import(_report(tmp_path, "second.json", 30))  # 30 new rows, 40 already there
    assert calls == []
    assert Finding.objects.count() == 70


def test_a_failure_after_deferring_restores_every_index_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set_now(NOW)
    vulns = [trivy_vuln(f"CVE-2024-{1000 + i}", pkg=f"lib{i}") for i in range(40)]
    vulns[35]["Severity"] = "APOCALYPTIC"
    path = write_json(tmp_path / "late-error.json", trivy_report(vulns))
    before = _indexes()
    monkeypatch.setattr(importer, "BULK_MIN_ROWS", 10)
    monkeypatch.setattr(importer, "CHUNK", 7)
    calls = _deferrals(monkeypatch)
    with pytest.raises(ParseError):
        _import(path, strict=True)
    assert calls == [1]
    assert _indexes() == before
    assert Finding.objects.count() == 0
    assert ScanImport.objects.count() == 0


def test_a_big_file_defers_before_its_first_rows_when_the_table_is_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set_now(NOW)
    path = _report(tmp_path, "big.json", 30)
    monkeypatch.setattr(importer, "BULK_MIN_ROWS", 10)
    monkeypatch.setattr(importer, "CHUNK", 7)
    monkeypatch.setattr(importer, "BYTES_PER_FINDING", path.stat().st_size // 30)  # 30 promised
    rows_when_deferred: list[int] = []
    original = DeferredIndexes.defer

    def recording(self: Any) -> bool:
        rows_when_deferred.append(Finding.objects.count())
        done: bool = original(self)
        return done

    monkeypatch.setattr(DeferredIndexes, "defer", recording)
    before = _indexes()
    _import(path)
    assert rows_when_deferred == [0]  # at the first flush, not after BULK_MIN_ROWS rows
    assert Finding.objects.count() == 30
    assert _indexes() == before


@pytest.mark.parametrize(("promised", "defers"), [(70, False), (130, True)])
def test_a_re_import_defers_by_its_size_only_if_it_promises_twice_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, promised: int, defers: bool
) -> None:
    clock.set_now(NOW)
    path = _report(tmp_path, "same.json", 60)
    _import(path)  # 60 rows, too few to defer anything
    monkeypatch.setattr(importer, "BULK_MIN_ROWS", 10)
    monkeypatch.setattr(importer, "CHUNK", 7)
    monkeypatch.setattr(importer, "BYTES_PER_FINDING", path.stat().st_size // promised)
    calls = _deferrals(monkeypatch)
    clock.set_now(NOW + dt.timedelta(days=1))
    scan = _import(path)  # the same report again: nothing new
    assert (scan.new, scan.unchanged) == (0, 60)
    assert calls == ([1] if defers else [])
