"""``detente backup`` / ``detente restore``: the database (SQLite's online backup API, or
``pg_dump``/``pg_restore`` on PostgreSQL) and the audit witness, in one folder with a manifest of
checksums; a restore is verified with ``audit verify``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer

from detente.cli.common import console, ensure_database, err_console
from detente.core.errors import InputError, RuleViolation

MANIFEST = "manifest.json"
SQLITE_FILE = "detente.sqlite3"
PG_FILE = "detente.pgdump"
WITNESS_FILE = "audit_witness.jsonl"


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env(database: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore; the password goes by environment, never argv."""
    args = ["--dbname", str(database["NAME"])]
    if database.get("HOST"):
        args += ["--host", str(database["HOST"])]
    if database.get("PORT"):
        args += ["--port", str(database["PORT"])]
    if database.get("USER"):
        args += ["--username", str(database["USER"])]
    env = dict(os.environ)
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    return args, env


def _run(argv: list[str], env: dict[str, str]) -> None:
    tool = argv[0]
    if shutil.which(tool) is None:
        raise RuleViolation(f"{tool} is not installed (apt-get install postgresql-client)")
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuleViolation(f"{tool} failed: {done.stderr.strip().splitlines()[-1:]}")


def backup(
    into: Annotated[Path, typer.Argument(help="Folder to keep backups in.")],
) -> None:
    """Back up the database and the audit witness into a new dated folder under INTO (with a
    manifest of checksums).

    The audit key is not copied: keep it in its own safe place (docs/deployment.md)."""
    ensure_database()
    from django.db import connection

    from detente.audit.selectors import audit_head_seq
    from detente.audit.witness import witness_append, witness_path

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = into / f"detente-{stamp}"
    witness_append()  # the backup's head is witnessed before it is copied
    folder.mkdir(parents=True)
    engine = connection.vendor
    if engine == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(folder / SQLITE_FILE)
        try:
            connection.connection.backup(target)  # consistent while others write
        finally:
            target.close()
        data = SQLITE_FILE
    else:
        args, env = _pg_env(connection.settings_dict)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(folder / PG_FILE), *args],
             env)  # fmt: skip
        data = PG_FILE
    files = [data]
    if witness_path().exists():
        shutil.copy2(witness_path(), folder / WITNESS_FILE)
        files.append(WITNESS_FILE)
    manifest = {
        "engine": engine,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "audit_seq": audit_head_seq(),
        "files": {name: _sha256(folder / name) for name in files},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    console.print(
        f"backed up {engine} database (audit trail to #{manifest['audit_seq']}) to {folder}"
    )
    err_console.print("note: the audit key is not in the backup; keep it safely on its own")


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        files: dict[str, str] = manifest["files"]
        engine = manifest["engine"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a Détente backup manifest ({exc})") from exc
    for name, expected in files.items():
        if name not in (SQLITE_FILE, PG_FILE, WITNESS_FILE):
            raise InputError(f"{path}: unknown file {name!r}", field="files")
        if not (folder / name).exists() or _sha256(folder / name) != expected:
            raise InputError(f"{folder / name}: missing or changed since the backup (checksum)")
    if engine not in ("sqlite", "postgresql"):
        raise InputError(f"{path}: unknown engine {engine!r}", field="engine")
    return manifest


def _latest(folder: Path) -> Path:
    """FOLDER itself when it is one backup, else the newest backup in it."""
    if (folder / MANIFEST).exists() or not folder.is_dir():
        return folder
    found = sorted(p for p in folder.glob("detente-*") if (p / MANIFEST).exists())
    if not found:
        raise InputError(f"{folder}: no backup here (no {MANIFEST})")
    return found[-1]


def restore(
    folder: Annotated[
        Path, typer.Argument(help="A backup folder, or the folder of backups (newest is used).")
    ],
) -> None:
    """Restore the database from a backup, then verify the audit trail against the witness.

    Exit 0 when the restored trail verifies, 1 when it does not (the database is restored; the
    message says what the trail lacks, e.g. events written after the backup)."""
    from django.db import connection

    from detente.audit.services import audit_verify
    from detente.audit.witness import witness_path
    from detente.reports.audit_vouchers import VOUCHERS

    folder = _latest(folder)
    manifest = _manifest(folder)
    if manifest["engine"] != connection.vendor:
        raise InputError(
            f"{folder}: a {manifest['engine']} backup cannot be restored into {connection.vendor}"
        )
    if connection.vendor == "sqlite":
        source = sqlite3.connect(f"file:{folder / SQLITE_FILE}?mode=ro", uri=True)
        try:
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()
    else:
        args, env = _pg_env(connection.settings_dict)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", *args,
              str(folder / PG_FILE)], env)  # fmt: skip
    # The live witness is append-only and newer than any backup: it is kept, so a restore that
    # loses events says so. Only a host without one (a rebuilt machine) gets the backup's copy.
    if not witness_path().exists() and (folder / WITNESS_FILE).exists():
        witness_path().parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / WITNESS_FILE, witness_path())
    ensure_database()
    console.print(f"restored the database from {folder}")
    result = audit_verify(vouchers=VOUCHERS)
    if not result.ok:
        where = f" at event #{result.broken_at}" if result.broken_at is not None else ""
        raise RuleViolation(f"restored, but the audit trail is broken{where}: {result.reason}")
    console.print(f"audit chain intact: {result.checked} events")
