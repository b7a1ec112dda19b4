"""``detente radar`` shows why the zone changed, through the installed ``detente`` as a
subprocess: a scenario year built by ``detente demo-scenario overt`` turns amber then red."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

DETENTE = Path(sys.executable).with_name("detente")


def detente(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DETENTE_"))
    }
    environment |= {
        "DETENTE_DATA_DIR": str(home), "DETENTE_SECRET_KEY": "test-only-not-secret",
        "COLUMNS": "200",
    }  # fmt: skip
    return subprocess.run(
        [str(DETENTE), *args], capture_output=True, text=True, env=environment, cwd=home,
        timeout=600, check=False,
    )  # fmt: skip


def test_radar_json_and_table_carry_the_zone_change(tmp_path: Path) -> None:
    built = detente(tmp_path, "demo-scenario", "overt")
    assert built.returncode == 0, built.stderr
    months = re.findall(r"(\d{4}-\d{2})\s+│?\s*[\d.]+\s+│?\s*(green|amber|red)", built.stdout)
    assert len(months) == 12, built.stdout
    zones = dict(months)
    red = next(period for period, zone in months if zone == "red")
    steady = next(period for (_, was), (period, zone) in itertools.pairwise(months) if was == zone)

    shown = detente(tmp_path, "radar", "--period", red, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    change = json.loads(shown.stdout)["change"]
    assert change["to_zone"] == "red"
    assert change["from_zone"] == zones[change["since"]] != "red"
    assert change["direction"] == "up"
    assert change["signals"], change
    top = change["signals"][0]
    assert top["delta"] > 0
    assert abs(top["after"] - top["before"] - top["delta"]) < 0.011
    assert top["evidence"], top

    unchanged = detente(tmp_path, "radar", "--period", steady, "--format", "json")
    assert json.loads(unchanged.stdout)["change"] is None

    table = detente(tmp_path, "radar", "--period", red)
    assert table.returncode == 0, table.stderr
    assert f"Zone {change['from_zone']} -> red since {change['since']}" in table.stdout
    assert f"{top['delta']:+.1f} pts  {top['name']}" in table.stdout
