"""The parallel parse path (a forked child parses, the importer writes): same rows and refusals."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import InputError
from detente.findings import importer, parse_worker
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding, ScanImport, Vulnerability
from detente.findings.parsers import trivy
from detente.findings.parsers.base import ParseError
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json
from detente.findings.tests.parity import SAMPLES

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not parse_worker.can_fork(), reason="the parallel path needs fork"),
]

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
# every stored column, with references by what they point at: ids depend on what ran before
# (PostgreSQL sequences do not roll back)
_REFERENCES: dict[str, str | None] = {
    "id": None,
    "last_import_id": None,
    "asset_id": "asset__identifier",
    "deadline_reason_id": "deadline_reason__digest",
}
COLUMNS: tuple[str, ...] = tuple(
    name
    for f in Finding._meta.concrete_fields
    if (name := _REFERENCES.get(f.attname, f.attname)) is not None
)


class _Rollback(Exception):
    pass


def _parallel(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    monkeypatch.setattr(parse_worker, "PARALLEL_MIN_BYTES", 0 if on else 1 << 62)


def _import(path: Path, *, strict: bool = False) -> ScanImport:
    (scan,) = scan_import(paths=[path], options=ImportOptions(strict=strict))
    return scan


def _report(tmp_path: Path, count: int, name: str = "report.json") -> Path:
    vulns = [
        trivy_vuln(f"CVE-2024-{1000 + i % 7}", pkg=f"lib{i}", severity=("HIGH", "LOW")[i % 2])
        for i in range(count)
    ]
    vulns.append(trivy_vuln("CVE-2024-1000", pkg="lib0"))  # a duplicate inside the report
    return write_json(tmp_path / name, trivy_report(vulns))


def _rows_of_import(path: Path) -> tuple[dict[str, Any], list[tuple[Any, ...]], list[Any]]:
    """Import, read back every row, and undo the import."""
    with contextlib.suppress(_Rollback), transaction.atomic():
        scan = _import(path)
        counts = {
            k: getattr(scan, k) for k in ("parsed", "duplicates", "new", "unchanged", "closed")
        }
        counts["sha256"] = scan.sha256
        rows = list(Finding.objects.order_by("fingerprint").values_list(*COLUMNS))
        vulns = list(Vulnerability.objects.order_by("vuln_id").values_list())
        raise _Rollback
    return counts, rows, vulns


def test_parallel_and_serial_paths_write_identical_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set_now(NOW)
    path = _report(tmp_path, 40)
    monkeypatch.setattr(parse_worker, "BATCH", 3)  # many messages, several writes
    monkeypatch.setattr(importer, "CHUNK", 5)
    _parallel(monkeypatch, False)
    serial = _rows_of_import(path)
    _parallel(monkeypatch, True)
    parallel = _rows_of_import(path)
    assert serial[0]["parsed"] == 41
    assert serial[0]["duplicates"] == 1
    assert serial[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(serial[1]) == 40
    assert parallel == serial


def test_parallel_reimport_counts_match_the_serial_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set_now(NOW)
    first = _report(tmp_path, 30, "first.json")
    later = write_json(
        tmp_path / "later.json",
        trivy_report([trivy_vuln(f"CVE-2024-{1000 + i % 7}", pkg=f"lib{i}") for i in range(5, 35)]),
    )
    _parallel(monkeypatch, True)
    _import(first)
    clock.set_now(NOW + dt.timedelta(days=1))
    scan = _import(later)
    assert (scan.new, scan.unchanged, scan.reopened, scan.closed) == (5, 25, 0, 5)


def test_a_parse_error_in_the_child_names_file_record_and_field_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vulns = [trivy_vuln(f"CVE-2024-{1000 + i}", pkg=f"lib{i}") for i in range(12)]
    vulns[10]["Severity"] = "APOCALYPTIC"
    path = write_json(tmp_path / "late-error.json", trivy_report(vulns))
    monkeypatch.setattr(parse_worker, "BATCH", 2)  # five batches are written before the error
    monkeypatch.setattr(importer, "CHUNK", 2)
    _parallel(monkeypatch, True)
    with pytest.raises(ParseError) as caught:
        _import(path, strict=True)
    error = caught.value
    assert error.file == str(path)
    assert error.record == "Results[0].Vulnerabilities[10]"
    assert error.field == "Severity"
    assert "late-error.json" in str(error)
    assert Finding.objects.count() == 0
    assert ScanImport.objects.count() == 0
    assert Vulnerability.objects.count() == 0
    assert not AuditEvent.objects.filter(verb="scan.imported").exists()


def test_an_error_while_writing_stops_the_child_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vulns = [trivy_vuln(f"CVE-2024-{1000 + i}", pkg=f"lib{i}") for i in range(12)]
    vulns[11]["CVSS"] = {"nvd": {"V3Vector": "CVSS:3.1/nonsense", "V3Score": 1.0}}
    path = write_json(tmp_path / "bad-vector.json", trivy_report(vulns))
    monkeypatch.setattr(parse_worker, "BATCH", 2)
    monkeypatch.setattr(importer, "CHUNK", 2)
    _parallel(monkeypatch, True)
    with pytest.raises(InputError, match=r"bad-vector\.json.*cvss_vector"):
        _import(path, strict=True)
    assert Finding.objects.count() == 0
    assert ScanImport.objects.count() == 0


def test_a_mapped_trivy_file_parses_as_a_read_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _report(tmp_path, 25)
    monkeypatch.setattr(trivy, "MMAP_MIN_BYTES", 0)
    with path.open("rb") as handle:
        mapped = list(trivy.parse(handle, str(path)))
    assert mapped == list(trivy.parse(io.BytesIO(path.read_bytes()), str(path)))
    assert len(mapped) == 26


def test_a_mapped_file_streamed_record_by_record_unmaps_what_it_read_and_parses_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _report(tmp_path, 25)
    expected = list(trivy.parse(io.BytesIO(path.read_bytes()), str(path)))
    monkeypatch.setattr(trivy, "MMAP_MIN_BYTES", 0)
    monkeypatch.setattr(trivy, "RELEASE_EVERY", 4)
    releases: list[int] = []
    original = trivy._releaser

    def counting(data: Any) -> Any:
        release = original(data)
        assert release is not trivy._nothing  # a mapped file gets the real one

        def wrapped() -> None:
            release()
            releases.append(1)

        return wrapped

    monkeypatch.setattr(trivy, "_releaser", counting)
    with path.open("rb") as handle:
        mapped = list(trivy.parse(handle, str(path)))
    assert mapped == expected
    assert len(releases) == 7  # records 0, 4, … 24 of 26
    assert trivy._releaser is counting
    assert original(b"not mapped") is trivy._nothing


@pytest.mark.parametrize(
    "sample",
    [
        "anchore_grype/many_vulns.json",
        "snyk/single_project_upgrade_libs.json",
        "dependency_check/PR6439.xml",
    ],
)
def test_real_reports_with_repeated_advisories_store_the_same_texts_on_both_paths(
    sample: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child sends an advisory's texts with its first finding only (parse_worker)."""
    clock.set_now(NOW)
    path = SAMPLES / "scans" / sample
    monkeypatch.setattr(parse_worker, "BATCH", 7)
    _parallel(monkeypatch, False)
    serial = _rows_of_import(path)
    _parallel(monkeypatch, True)
    parallel = _rows_of_import(path)
    assert len(serial[1]) > len(serial[2]) > 0  # more findings than advisories: some repeat
    assert parallel == serial


def test_the_parse_child_takes_the_fingerprints_and_the_importer_checks_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set_now(NOW)
    path = _report(tmp_path, 20)
    monkeypatch.setattr(parse_worker, "BATCH", 6)
    _parallel(monkeypatch, True)
    given: list[int] = []
    original = importer._Run.handle_chunk

    def recording(self: importer._Run, chunk: Any, fps: list[str] | None = None) -> None:
        assert fps is not None
        assert len(fps) == len(chunk)
        if chunk[-1].identity:  # (a chunk that ends with the trailer comes back without it)
            given.append(len(fps))
        original(self, chunk, fps)

    monkeypatch.setattr(importer._Run, "handle_chunk", recording)
    with contextlib.suppress(_Rollback), transaction.atomic():
        _import(path)
        raise _Rollback
    assert sum(given) == 21  # every finding arrived with its fingerprint

    def wrong(self: importer.Identifier, findings: Any, source: str) -> list[str]:
        return ["0" * 32 for _ in findings]

    monkeypatch.setattr(importer._Run, "handle_chunk", original)
    monkeypatch.setattr(importer.Identifier, "__call__", wrong)
    with pytest.raises(RuntimeError, match="fingerprints differ"):
        _import(path)
    assert Finding.objects.count() == 0
    assert ScanImport.objects.count() == 0
