"""Behaviour the docs promise (issue 23), through the installed command: usage errors are bad
input (exit 2, never "internal error"), and the radar's --format csv writes CSV."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DETENTE = Path(sys.executable).with_name("detente")


def _detente(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DETENTE_", "DATABASE_URL"))}
    env.update(DETENTE_DATA_DIR=str(data), DETENTE_SECRET_KEY="test-only-not-secret")
    return subprocess.run(
        [str(DETENTE), *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )


def test_a_usage_error_is_bad_input(tmp_path: Path) -> None:
    # given no database at all
    # when a command gets a wrong value, an unknown option, or an unknown person
    wrong_value = _detente(tmp_path, "findings", "show", "abc")
    unknown_option = _detente(tmp_path, "findings", "list", "--bogus")
    unknown_person = _detente(tmp_path, "account", "password", "nobody@example.org")
    # then each exits 2 with click's one-line reason, never as an internal error
    assert wrong_value.returncode == 2
    assert "Invalid value for 'finding_id'" in wrong_value.stderr
    assert unknown_option.returncode == 2
    assert "No such option: --bogus" in unknown_option.stderr
    assert unknown_person.returncode == 2
    assert "no active person with e-mail nobody@example.org" in unknown_person.stderr
    for done in (wrong_value, unknown_option, unknown_person):
        assert "internal error" not in done.stderr
        assert "Traceback" not in done.stderr


def test_radar_format_csv_writes_the_signals_as_csv(tmp_path: Path) -> None:
    # given a radar computed for one month of an empty organisation
    computed = _detente(tmp_path, "radar", "compute", "--from", "2026-10", "--to", "2026-10")
    assert computed.returncode == 0, computed.stderr
    # when it is shown as CSV and as JSON
    as_csv = _detente(tmp_path, "radar", "--period", "2026-10", "--format", "csv")
    as_json = _detente(tmp_path, "radar", "--period", "2026-10", "--format", "json")
    # then the CSV is the top-signals table alone (no signal carries points here), the JSON whole
    assert as_csv.returncode == 0, as_csv.stderr
    assert as_csv.stdout == "signal,tag,value,points,evidence\n"
    assert as_json.returncode == 0, as_json.stderr
    shown = json.loads(as_json.stdout)
    assert (shown["period"], shown["zone"], shown["top_signals"]) == ("2026-10", "green", [])


def test_the_format_help_names_csv(tmp_path: Path) -> None:
    # when the radar's help is asked for
    shown = _detente(tmp_path, "radar", "--help")
    # then --format lists the three formats
    assert shown.returncode == 0
    assert "table, json or csv" in " ".join(shown.stdout.split())
