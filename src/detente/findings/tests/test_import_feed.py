"""A folder parsed by one child process a file ahead of the writer (``parse_worker.FileFeed``):
the same rows, digests and refusals as files imported one by one in-process."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from detente.core import clock
from detente.core.errors import InputError
from detente.findings import importer, parse_worker
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding, ScanImport, Vulnerability
from detente.findings.parsers.base import ParseError
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json
from detente.findings.tests.parity import SAMPLES
from detente.findings.tests.test_import_parallel import COLUMNS

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not parse_worker.can_fork(), reason="the feed needs fork"),
]
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
GRYPE = SAMPLES / "scans/grype/alpine_3.18_grype.json"


class _Rollback(Exception):
    pass


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    for k in range(4):
        vulns = [
            trivy_vuln(
                f"CVE-2024-{1000 + (i + k) % 6}", pkg=f"lib{i}", severity=["HIGH", "LOW"][i % 2]
            )
            for i in range(9)
        ]
        write_json(folder / f"r{k}.json", trivy_report(vulns, artifact=f"registry.example/a{k}"))
    if GRYPE.exists():
        (folder / "r9-grype.json").write_bytes(GRYPE.read_bytes())  # another format, detected
    return folder


def _state(paths: list[Path], *, one_by_one: bool) -> tuple[list[Any], list[Any], list[Any]]:
    """Import, read every row back, and undo."""
    with contextlib.suppress(_Rollback), transaction.atomic():
        if one_by_one:
            scans = [scan_import(paths=[p])[0] for p in paths]
        else:
            scans = scan_import(paths=paths)
        summary = [
            (s.file_name, s.format, s.sha256, s.parsed, s.new, s.duplicates, s.closed)
            for s in scans
        ]
        rows = list(Finding.objects.order_by("fingerprint").values_list(*COLUMNS))
        vulns = list(Vulnerability.objects.order_by("vuln_id").values_list())
        raise _Rollback
    return summary, rows, vulns


def _feeds(monkeypatch: pytest.MonkeyPatch) -> list[parse_worker.FileFeed]:
    made: list[parse_worker.FileFeed] = []
    original = parse_worker.FileFeed.__init__

    def recording(self: parse_worker.FileFeed, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(parse_worker.FileFeed, "__init__", recording)
    return made


def test_a_folder_through_the_feed_writes_what_one_file_at_a_time_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set_now(NOW)
    files = sorted(p for p in _folder(tmp_path).iterdir())
    feeds = _feeds(monkeypatch)
    alone = _state(files, one_by_one=True)
    assert feeds == []  # one file per command: parsed in-process
    together = _state(files, one_by_one=False)
    assert len(feeds) == 1
    assert together == alone
    summary = together[0]
    assert [s[2] for s in summary] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in files]
    assert {s[1] for s in summary} >= {"trivy"}
    assert sum(s[4] for s in summary) == len(together[1]) > 0
    assert not feeds[0].child.is_alive()


def test_a_bad_file_stops_the_folder_and_keeps_the_files_before_it(tmp_path: Path) -> None:
    clock.set_now(NOW)
    folder = _folder(tmp_path)
    vulns = [trivy_vuln(f"CVE-2024-{2000 + i}", pkg=f"x{i}") for i in range(5)]
    vulns[3]["Severity"] = "APOCALYPTIC"
    write_json(folder / "r1x-bad.json", trivy_report(vulns, artifact="registry.example/bad"))
    with pytest.raises(ParseError) as refused:
        scan_import(paths=[folder], options=ImportOptions(strict=True))
    assert refused.value.file is not None
    assert refused.value.file.endswith("r1x-bad.json")
    assert refused.value.record is not None
    assert "[3]" in refused.value.record
    assert refused.value.field == "Severity"
    # r0 and r1 came before the bad file (sorted names), r2 and later never ran
    assert sorted(ScanImport.objects.values_list("file_name", flat=True)) == ["r0.json", "r1.json"]
    assert not Finding.objects.filter(asset__identifier="registry.example/bad").exists()


def test_a_file_over_the_limit_in_a_folder_is_refused_by_name(tmp_path: Path) -> None:
    clock.set_now(NOW)
    folder = _folder(tmp_path)
    big = folder / "r2.json"
    # r0, r1 are smaller than r2 (same shape, same digits); r2 is over
    with (
        override_settings(DETENTE_MAX_IMPORT_BYTES=big.stat().st_size - 1),
        pytest.raises(InputError, match="over the") as refused,
    ):
        scan_import(paths=[folder])
    assert refused.value.file is not None
    assert Path(refused.value.file).stat().st_size >= big.stat().st_size
    assert ScanImport.objects.count() < 4


def test_an_error_while_writing_stops_the_feed_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set_now(NOW)
    feeds = _feeds(monkeypatch)
    calls = 0
    original = importer._Run.finish

    def failing(self: importer._Run) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk full")
        original(self)

    monkeypatch.setattr(importer._Run, "finish", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        scan_import(paths=[_folder(tmp_path)])
    assert ScanImport.objects.count() == 1
    assert len(feeds) == 1
    assert not feeds[0].child.is_alive()


def test_a_forced_format_reaches_the_feed_child(tmp_path: Path) -> None:
    clock.set_now(NOW)
    with pytest.raises(InputError) as refused:
        scan_import(paths=[_folder(tmp_path)], options=ImportOptions(fmt="nessus"))
    assert refused.value.file is not None
    assert refused.value.file.endswith("r0.json")
    assert ScanImport.objects.count() == 0


def test_files_must_be_taken_in_the_order_given(tmp_path: Path) -> None:
    files = sorted(_folder(tmp_path).iterdir())
    with parse_worker.FileFeed(files, fmt=None, max_bytes=1 << 30) as feed:
        with pytest.raises(RuntimeError, match="not the next file"):
            feed.take(files[1])
        first = feed.take(files[0])
        assert first.fmt == "trivy"
        batches = list(first.batches)
        # nine findings, then the report's scope (a trailer item: parsers.base.Notes)
        assert sum(len(findings) for findings, _ in batches) == 10
        assert sum(1 for findings, _ in batches for f in findings if f.identity) == 9
        assert all(fingerprints is None for _, fingerprints in batches)  # none asked for
        assert first.digest.hexdigest == hashlib.sha256(files[0].read_bytes()).hexdigest()


def test_the_reader_takes_messages_ahead_of_the_caller_and_then_the_end() -> None:
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
    reader = parse_worker._Reader(receiver, depth=8)
    for k in range(5):
        sender.send_bytes(b"F%d" % k)
    sender.close()
    reader.thread.join(timeout=10)
    assert not reader.thread.is_alive()  # everything read ahead, the end seen, nothing consumed
    assert [reader.recv_bytes() for _ in range(5)] == [b"F%d" % k for k in range(5)]
    for _ in range(2):
        with pytest.raises(EOFError):
            reader.recv_bytes()


def test_closing_a_reader_whose_queue_is_full_stops_child_and_thread() -> None:
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=time.sleep, args=(60,), daemon=True)
    child.start()
    reader = parse_worker._Reader(receiver, depth=1)
    for k in range(3):
        sender.send_bytes(b"F%d" % k)  # one in the queue, one held by the thread, one in the pipe
    started = time.monotonic()
    reader.close(child)
    sender.close()
    assert not child.is_alive()
    assert not reader.thread.is_alive()
    assert time.monotonic() - started < 30


def test_the_digest_thread_hashes_the_whole_file_without_moving_the_parser(
    tmp_path: Path,
) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 40_000)  # ~10 MB: more than one read
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    with path.open("rb") as stream:
        stream.read(1234)
        hasher = parse_worker._FileDigest(stream)
        assert hasher.thread is not None
        assert stream.tell() == 1234  # the parser's position is its own
        assert hasher.hexdigest(stream) == expected
    memory = io.BytesIO(path.read_bytes())
    fallback = parse_worker._FileDigest(memory)
    assert fallback.thread is None
    assert fallback.hexdigest(memory) == expected


def test_texts_of_a_vulnerability_cross_the_pipe_once_per_run(tmp_path: Path) -> None:
    files = sorted(p for p in _folder(tmp_path).iterdir() if p.name.startswith("r"))[:4]
    described: list[set[str]] = []
    with parse_worker.FileFeed(files, fmt=None, max_bytes=1 << 30) as feed:
        for path in files:
            batches = list(feed.take(path).batches)
            described.append({f.vuln_id for b, _ in batches for f in b if f.description})
    # the first file describes its six CVEs; the later ones repeat them and describe nothing
    assert len(described[0]) == 6
    assert described[1:] == [set(), set(), set()]
    clock.set_now(NOW)
    scan_import(paths=files)
    texts = dict(Vulnerability.objects.values_list("vuln_id", "description"))
    assert len(texts) == 6
    assert all(texts.values())
