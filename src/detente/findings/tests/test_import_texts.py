"""A report where findings carry their own texts (a SAST-like shape): the importer writes the
vulnerability texts in bounded batches as it goes instead of holding every one until the end of
the file, and the stored texts are the same as written at once (the first text of an id wins,
also across batches and imports)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from detente.core import bulk, clock
from detente.findings import importer, parse_worker
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding, Vulnerability
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _described(vuln_id: str, text: str, pkg: str) -> dict[str, object]:
    vuln = trivy_vuln(vuln_id, pkg=pkg, title=f"title of {text}")
    vuln["Description"] = f"{text}: " + "x" * 2000
    return vuln


def _report(tmp_path: Path, name: str, ids: list[tuple[str, str]]) -> Path:
    vulns = [_described(v, text, f"pkg-{n}") for n, (v, text) in enumerate(ids)]
    return write_json(tmp_path / name, trivy_report(vulns, artifact=f"reg.example/{name}:1"))


def _texts() -> dict[str, tuple[str, str]]:
    return {
        v.vuln_id: (v.title, v.description.split(":")[0])
        for v in Vulnerability.objects.order_by("vuln_id")
    }


@pytest.mark.parametrize("parallel", [False, True])
def test_texts_are_written_in_batches_and_the_first_text_of_an_id_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    clock.set_now(NOW)
    monkeypatch.setattr(importer, "CHUNK", 4)
    monkeypatch.setattr(parse_worker, "BATCH", 4)
    monkeypatch.setattr(parse_worker, "PARALLEL_MIN_BYTES", 0 if parallel else 1 << 62)
    written: list[int] = []
    original = bulk.insert_new_rows

    def recording(table: str, columns: object, rows: list[object], *, key: str) -> None:
        if table == Vulnerability._meta.db_table:
            written.append(len(rows))
        original(table, columns, rows, key=key)  # type: ignore[arg-type]

    monkeypatch.setattr(importer, "insert_new_rows", recording)
    monkeypatch.setattr(importer, "TEXT_BATCH", 3)
    # 20 findings, each its own id, except SAST-1 told again later with another text
    ids = [(f"SAST-{n}", f"first {n}") for n in range(19)] + [("SAST-1", "second 1")]
    first = _report(tmp_path, "a.json", ids)
    scan_import(paths=[first], options=ImportOptions())
    # then every text is stored, the first one given for an id
    expected = {f"SAST-{n}": (f"title of first {n}", f"first {n}") for n in range(19)}
    assert _texts() == dict(sorted(expected.items()))
    # in batches of a few texts while the file was read, never all of them at once, each id once
    assert len(written) >= 4
    assert max(written) < 19
    assert sum(written) == 19
    # and a later import that tells SAST-2 again and a new id keeps SAST-2's first text
    second = _report(tmp_path, "b.json", [("SAST-2", "later 2"), ("SAST-99", "first 99")])
    scan_import(paths=[second], options=ImportOptions())
    expected["SAST-99"] = ("title of first 99", "first 99")
    assert _texts() == dict(sorted(expected.items()))
    assert Finding.objects.count() == 22
