"""``detente backup`` / ``detente restore`` on PostgreSQL through the installed command:
``pg_dump``/``pg_restore`` (the client on PATH), verified by ``audit verify`` against the witness.
Runs where PostgreSQL answers (``DETENTE_TEST_PG_URL``, default the CI server on loopback), on a
database of its own that it drops at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

DETENTE = str(Path(sys.executable).with_name("detente"))
SERVER = os.environ.get("DETENTE_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432")


def _psql(sql: str, database: str = "postgres") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["psql", f"{SERVER}/{database}", "-v", "ON_ERROR_STOP=1", "-tAc", sql],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture
def pg_database() -> Iterator[str]:
    if not (shutil.which("psql") and shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("the PostgreSQL client (psql, pg_dump, pg_restore) is not on PATH")
    name = f"detente_backup_{uuid.uuid4().hex[:12]}"
    created = _psql(f'CREATE DATABASE "{name}"')
    if created.returncode != 0:
        pytest.skip(f"PostgreSQL does not answer at {SERVER}: {created.stderr.strip()}")
    try:
        yield f"{SERVER}/{name}"
    finally:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _detente(data: Path, url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DETENTE_AUDIT_KEY",)}
    env |= {
        "DETENTE_DATA_DIR": str(data),
        "DETENTE_SECRET_KEY": "test-only-not-secret",
        "DATABASE_URL": url,
    }
    return subprocess.run(
        [DETENTE, *argv], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _count(url: str, table: str) -> int:
    done = subprocess.run(
        ["psql", url, "-tAc", f"SELECT count(*) FROM {table}"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return int(done.stdout.strip())


def test_a_postgresql_database_is_backed_up_restored_and_verified(
    tmp_path: Path, samples: Path, pg_database: str
) -> None:
    data, url = tmp_path / "data", pg_database
    report = str(samples / "scans/cyclonedx/log4j.json")
    assert _detente(data, url, "import", report).returncode == 0
    done = _detente(data, url, "backup", str(tmp_path / "bk"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("backed up postgresql database (audit trail to #")
    (folder,) = (tmp_path / "bk").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == [
        "audit_witness.jsonl", "detente.pgdump", "manifest.json",
    ]  # fmt: skip
    findings, events = _count(url, "findings_finding"), _count(url, "audit_auditevent")
    assert findings == 8
    # given the data lost (every table dropped)
    dropped = _psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public", url.rsplit("/", 1)[1])
    assert dropped.returncode == 0, dropped.stderr
    assert _count(url, "pg_tables WHERE schemaname = 'public'") == 0
    # when restored from the folder of backups, then every row is back and the trail verifies
    restored = _detente(data, url, "restore", str(tmp_path / "bk"))
    assert restored.returncode == 0, restored.stderr
    assert f"audit chain intact: {events} events" in restored.stdout
    assert (_count(url, "findings_finding"), _count(url, "audit_auditevent")) == (
        findings, events
    )  # fmt: skip


def test_restoring_an_older_postgresql_backup_names_the_lost_events(
    tmp_path: Path, samples: Path, pg_database: str
) -> None:
    data, url = tmp_path / "data", pg_database
    report = str(samples / "scans/cyclonedx/log4j.json")
    assert _detente(data, url, "import", report).returncode == 0
    assert _detente(data, url, "backup", str(tmp_path / "bk")).returncode == 0
    events = _count(url, "audit_auditevent")
    # given more events after the backup, witnessed
    assert _detente(data, url, "import", report, "--asset", "b").returncode == 0
    assert _detente(data, url, "audit", "anchor").returncode == 0
    # when the older backup is restored, then the witness names what it lacks
    restored = _detente(data, url, "restore", str(tmp_path / "bk"))
    assert restored.returncode == 1
    assert (
        f"restored, but the audit trail is broken at event #{events + 1}: the trail was cut "
        f"short: it ends at #{events}"
    ) in restored.stderr.replace("\n", " ")
