"""A second import on one SQLite database waits its turn with a visible line instead of exiting
3 with "database is locked"."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

DETENTE = str(Path(sys.executable).with_name("detente"))


def test_an_import_waits_for_the_one_in_progress(tmp_path: Path, samples: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DETENTE_AUDIT_KEY")}
    env |= {"DETENTE_DATA_DIR": str(tmp_path), "DETENTE_SECRET_KEY": "test-only-not-secret"}
    report = str(samples / "scans/cyclonedx/log4j.json")
    # given another import holding the turn
    with (tmp_path / "import.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        waiting = subprocess.Popen(
            [DETENTE, "import", report, "--asset", "pay"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert waiting.stderr is not None
        # then the second says it waits (the line comes before any import work)
        assert waiting.stderr.readline().strip() == "waiting for another import to finish…"
        fcntl.flock(held, fcntl.LOCK_UN)
    # and, once the turn is free, imports and exits 0
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert "8 parsed, 8 new" in out
