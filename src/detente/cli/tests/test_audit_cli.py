"""``detente audit verify`` through the installed command: the witness catches a trail cut short
behind the application's back, with the head rolled back to match."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

DETENTE = str(Path(sys.executable).with_name("detente"))


def _detente(data_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DETENTE_AUDIT_KEY")}
    env |= {"DETENTE_DATA_DIR": str(data_dir), "DETENTE_SECRET_KEY": "test-only-not-secret"}
    return subprocess.run(
        [DETENTE, *argv], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_verify_names_a_cut_trail_and_exits_1(tmp_path: Path, samples: Path) -> None:
    # given a trail with events, witnessed
    imported = _detente(tmp_path, "import", str(samples / "scans/cyclonedx/log4j.json"))
    assert imported.returncode == 0, imported.stderr
    anchored = _detente(tmp_path, "audit", "anchor")
    assert anchored.returncode == 0, anchored.stderr
    assert anchored.stdout.startswith("witnessed event #")
    intact = _detente(tmp_path, "audit", "verify")
    assert (intact.returncode, intact.stdout.splitlines()[0][:20]) == (0, "audit chain intact: ")
    assert (tmp_path / "audit_key").exists()
    # when the last event is deleted and the head rolled back to its predecessor
    with sqlite3.connect(tmp_path / "detente.sqlite3") as db:
        (last,) = db.execute("SELECT max(seq) FROM audit_auditevent").fetchone()
        db.execute("DELETE FROM audit_auditevent WHERE seq = ?", (last,))
        (prev_hash,) = db.execute(
            "SELECT hash FROM audit_auditevent WHERE seq = ?", (last - 1,)
        ).fetchone()
        db.execute("UPDATE audit_audithead SET seq = ?, hash = ?", (last - 1, prev_hash))
    # then verify names the cut by sequence number
    cut = _detente(tmp_path, "audit", "verify")
    assert cut.returncode == 1
    assert f"audit trail broken at event #{last}: the trail was cut short: it ends at " in (
        cut.stderr + cut.stdout
    )
    assert "Traceback" not in cut.stderr
