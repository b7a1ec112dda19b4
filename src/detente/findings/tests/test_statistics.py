"""A large import refreshes the planner's statistics on PostgreSQL, so the first list request
after a million-row load does not get a plan made for an empty table."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from detente.core import bulk
from detente.findings import services
from detente.findings.importer import ImportOptions
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json

pytestmark = pytest.mark.django_db


def _column_statistics() -> int:
    """Columns of the findings table with planner statistics (pg_statistic is transactional:
    what a test's ANALYZE wrote goes with its rollback)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'findings_finding'")
        (value,) = cursor.fetchone()
    return int(value)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics are PostgreSQL's")
@pytest.mark.parametrize(("threshold", "analysed"), [(30, True), (31, False)])
def test_a_large_import_analyses_the_findings_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int, analysed: bool
) -> None:
    monkeypatch.setattr(services, "ANALYZE_AFTER_ROWS", threshold)
    vulns = [trivy_vuln(f"CVE-2024-{1000 + i}", pkg=f"lib{i}") for i in range(30)]
    assert _column_statistics() == 0
    path = write_json(tmp_path / "r.json", trivy_report(vulns))
    scan_import(paths=[path], options=ImportOptions())
    assert (_column_statistics() > 0) is analysed


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics are PostgreSQL's")
def test_a_load_small_against_the_table_is_left_to_autovacuum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "ANALYZE_AFTER_ROWS", 5)
    calls: list[str] = []
    original = bulk.refresh_statistics

    def recording(table: str) -> bool:
        calls.append(table)
        return original(table)

    monkeypatch.setattr(services, "refresh_statistics", recording)

    def run(count: int) -> None:
        vulns = [trivy_vuln(f"CVE-2024-{1000 + i}", pkg=f"lib{i}") for i in range(count)]
        scan_import(paths=[write_json(tmp_path / "r.json", trivy_report(vulns))])

    run(30)  # 30 rows into an empty table: analysed (the planner now knows 30 rows)
    assert len(calls) == 1
    run(35)  # 5 new rows: at the threshold, but 5 < 20% of 30
    assert len(calls) == 1
    run(45)  # 10 new rows: 10 >= 20% of 30
    assert len(calls) == 2
