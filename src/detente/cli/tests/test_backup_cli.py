"""``detente backup`` and ``detente restore`` through the installed command on SQLite: a restore
is verified against the witness; an older backup's lost events are named; a changed backup file
is refused before anything is written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

DETENTE = str(Path(sys.executable).with_name("detente"))


def _detente(data_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DETENTE_AUDIT_KEY")}
    env |= {"DETENTE_DATA_DIR": str(data_dir), "DETENTE_SECRET_KEY": "test-only-not-secret"}
    return subprocess.run(
        [DETENTE, *argv], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _count(data: Path, table: str) -> int:
    with sqlite3.connect(data / "detente.sqlite3") as db:
        (n,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(n)


@pytest.fixture
def backed_up(tmp_path: Path, samples: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    imported = _detente(data, "import", str(samples / "scans/cyclonedx/log4j.json"))
    assert imported.returncode == 0, imported.stderr
    done = _detente(data, "backup", str(tmp_path / "bk"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("backed up sqlite database (audit trail to #")
    (folder,) = (tmp_path / "bk").iterdir()
    assert folder.name.startswith("detente-")
    assert sorted(p.name for p in folder.iterdir()) == [
        "audit_witness.jsonl", "detente.sqlite3", "manifest.json",
    ]  # fmt: skip
    return data, folder


def test_a_lost_database_is_restored_and_verified(backed_up: tuple[Path, Path]) -> None:
    data, folder = backed_up
    findings, events = _count(data, "findings_finding"), _count(data, "audit_auditevent")
    for name in ("detente.sqlite3", "detente.sqlite3-wal", "detente.sqlite3-shm"):
        (data / name).unlink(missing_ok=True)
    restored = _detente(data, "restore", str(folder.parent))  # the newest backup in it
    assert restored.returncode == 0, restored.stderr
    assert f"audit chain intact: {events} events" in restored.stdout
    assert (_count(data, "findings_finding"), _count(data, "audit_auditevent")) == (
        findings, events
    )  # fmt: skip


def test_restoring_an_older_backup_names_the_lost_events(
    backed_up: tuple[Path, Path], samples: Path
) -> None:
    data, folder = backed_up
    events = _count(data, "audit_auditevent")
    more = _detente(data, "import", str(samples / "scans/cyclonedx/log4j.json"), "--asset", "b")
    assert more.returncode == 0, more.stderr
    assert _detente(data, "audit", "anchor").returncode == 0
    restored = _detente(data, "restore", str(folder))
    assert restored.returncode == 1
    assert (
        f"restored, but the audit trail is broken at event #{events + 1}: the trail was cut "
        f"short: it ends at #{events}"
    ) in restored.stderr.replace("\n", " ")


def test_a_changed_backup_is_refused_and_nothing_is_written(
    backed_up: tuple[Path, Path], samples: Path
) -> None:
    data, folder = backed_up
    more = _detente(data, "import", str(samples / "scans/cyclonedx/log4j.json"), "--asset", "b")
    assert more.returncode == 0
    findings = _count(data, "findings_finding")
    with (folder / "detente.sqlite3").open("ab") as handle:
        handle.write(b"x")
    refused = _detente(data, "restore", str(folder))
    assert refused.returncode == 2
    assert "detente.sqlite3: missing or changed since the backup (checksum)" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert _count(data, "findings_finding") == findings
