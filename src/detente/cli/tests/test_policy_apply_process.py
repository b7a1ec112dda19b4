"""``detente policy apply`` through the installed command: it counts the deadlines that moved."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DETENTE = Path(sys.executable).with_name("detente")


def _detente(data: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DETENTE_DATA_DIR": str(data),
        "DETENTE_SECRET_KEY": "test-only-not-secret",
        "COLUMNS": "200",
    }
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [str(DETENTE), *argv], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_policy_apply_reports_only_the_deadlines_that_moved(samples: Path, tmp_path: Path) -> None:
    # given: a Trivy report's eight findings imported under the default policy
    data = tmp_path / "data"
    imported = _detente(data, "import", str(samples / "scans/trivy/all_statuses.json"))
    assert imported.returncode == 0, imported.stderr
    # when: FedRAMP is applied, then applied again
    first = _detente(data, "policy", "apply", "--pack", "fedramp")
    again = _detente(data, "policy", "apply", "--pack", "fedramp")
    # then: the first moves seven deadlines, the second none (every finding is re-stamped)
    assert (first.returncode, again.returncode) == (0, 0)
    assert "8 open findings checked, 7 deadlines changed" in " ".join(first.stdout.split())
    assert "8 open findings checked, 0 deadlines changed" in " ".join(again.stdout.split())
