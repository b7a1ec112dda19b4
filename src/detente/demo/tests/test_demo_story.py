"""``detente demo`` tells the whole story: run as a user runs it, then read what it made."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DETENTE = Path(sys.executable).with_name("detente")


def _detente(data: Path, samples: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ, "DETENTE_DATA_DIR": str(data), "DETENTE_SECRET_KEY": "test-only-not-secret",
        "DETENTE_SAMPLES": str(samples), "COLUMNS": "200",
    }  # fmt: skip
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [str(DETENTE), *argv], env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    from detente.findings.tests.parity import SAMPLES

    data = tmp_path_factory.mktemp("demo")
    done = _detente(data, SAMPLES, "demo", "--no-serve")
    assert done.returncode == 0, done.stderr
    return data, SAMPLES, done.stdout


def test_the_demo_builds_a_year_and_says_so(demo: tuple[Path, Path, str]) -> None:
    _, _, out = demo
    text = " ".join(out.split())
    assert "acceptances: RA-1 approved, RA-2 requested, RA-3 rejected, RA-4 expired" in text
    assert "incident #1 (SEV2, reviewed)" in text
    assert "a year on Online Banking: radar" in text
    assert "open SEV1 INC-2: its GDPR clock runs" in text
    assert "(month to date):" in text


def test_right_after_the_demo_the_radar_has_a_year_and_a_zone(
    demo: tuple[Path, Path, str],
) -> None:
    data, samples, _ = demo
    shown = _detente(data, samples, "radar", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    radar = json.loads(shown.stdout)
    assert radar["month_to_date"] is True
    assert radar["zone"] in ("amber", "red")
    assert radar["top_signals"]
    assert all(s["evidence"] for s in radar["top_signals"][:3])


def test_in_the_demo_every_signal_carries_only_the_evidence_its_registry_entry_declares(
    demo: tuple[Path, Path, str],
) -> None:
    from detente.tension.registry import registered

    data, samples, _ = demo
    shown = _detente(data, samples, "radar", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    declared = {s.key: set(s.evidence) for s in registered()}
    rows = json.loads(shown.stdout)["signals"]
    assert {row["key"] for row in rows} == set(declared)
    assert any(row["evidence"] for row in rows)
    for row in rows:
        assert set(row["evidence"]) <= declared[row["key"]], row["key"]


def test_right_after_the_demo_the_pairing_and_the_plan_have_content(
    demo: tuple[Path, Path, str],
) -> None:
    data, samples, _ = demo
    pairing = _detente(data, samples, "profile", "pair")
    assert pairing.returncode == 0, pairing.stderr
    assert "patching" in pairing.stdout.lower()
    plan = _detente(data, samples, "plan", "show")
    assert plan.returncode == 0, plan.stderr
    a_second_run = _detente(data, samples, "demo", "--no-serve")
    assert a_second_run.returncode == 0, a_second_run.stderr
    assert "a year on Online Banking" not in a_second_run.stdout  # built once
