"""``detente initiative …`` through the installed command, as a user runs it: a fresh data
directory, exit codes (0 done, 1 refused by a rule, 2 bad input) and one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from detente.initiatives.tests.conftest import MFA

DETENTE = Path(sys.executable).parent / "detente"
SEED = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
django.setup()
from detente.cli.common import ensure_database
from detente.inventory.services import service_upsert
from detente.people.models import Role
from detente.people.services import person_upsert
ensure_database()
for role in (Role.CIO, Role.CISO, Role.ENGINEER, Role.SERVICE_OWNER):
    person = person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
person_upsert(name="Lea Lead", email="lead@example.org", role=Role.SECURITY_LEAD)
service_upsert(slug="online-banking", name="Online banking", owner=person)
"""
CSV = """timestamp,login_success_rate,drop_off_rate
2026-10-05T08:00:00Z,98.5,4.0
2026-10-05T09:00:00Z,98.4,4.1
2026-10-05T10:00:00Z,98.6,8.2
2026-10-05T11:00:00Z,98.5,9.4
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not DETENTE.exists():
        pytest.fail(f"the installed command is missing: {DETENTE}")
    data = tmp_path_factory.mktemp("cli-data")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO"))}
    environ |= {"DETENTE_DATA_DIR": str(data), "DETENTE_SECRET_KEY": "test-only-not-secret",
                "COLUMNS": "200"}  # fmt: skip
    subprocess.run([sys.executable, "-c", SEED], env=environ, check=True, timeout=300)
    return environ


def detente(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [str(DETENTE), "initiative", *argv], check=False, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def test_a_rollout_from_file_to_pause_and_resume(env: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(MFA.read_text().replace("{share: 3 %,", "{share: 99 %,"))
    code, out, err = detente(env, "new", str(broken), "--as", "ciso@example.org")
    assert (code, out, err) == (
        2, "", "error: broken.yaml, record phases[0], field 'cohorts': the cohorts add up to "
        "101 %, more than 100 %\n",
    )  # fmt: skip

    code, out, err = detente(env, "new", str(MFA), "--as", "ciso@example.org")
    assert (code, out.strip(), err) == (
        0,
        "IN-1 created: MFA for online-banking customers (2 phases)",
        "",
    )

    code, out, err = detente(env, "start", "1", "--as", "cio@example.org")
    assert (code, err) == (
        1, "error: IN-1 phase 1: Pilot with staff and volunteers: guardrails not signed by the "
        "CIO side and CISO side\n",
    )  # fmt: skip
    assert detente(env, "sign", "1", "--as", "engineer@example.org")[0] == 1
    assert detente(env, "sign", "1", "--as", "cio@example.org")[0] == 0
    assert detente(env, "sign", "1", "--as", "ciso@example.org")[0] == 0
    assert detente(env, "comms", "1", "1", "--as", "cio@example.org")[1].strip() == (
        "item 1 done; 0 item(s) left"
    )
    code, out, _ = detente(env, "start", "1", "--as", "cio@example.org")
    assert (code, out.strip()) == (
        0,
        "IN-1 phase 1: Pilot with staff and volunteers is running (5 % of users)",
    )

    bad = tmp_path / "bad.csv"
    bad.write_text(CSV.replace("98.4,4.1", "98.4,"))
    code, out, err = detente(env, "metrics", "1", str(bad), "--as", "cio@example.org")
    assert (code, err) == (
        2, "error: bad.csv, record line 3, field 'drop_off_rate': no value; every row gives every "
        "column's metric (a metric on another cadence goes in a file of its own)\n",
    )  # fmt: skip
    good = tmp_path / "good.csv"
    good.write_text(CSV)
    code, out, _ = detente(env, "metrics", "1", str(good), "--as", "cio@example.org")
    assert (code, out.strip()) == (0, "8 point(s) recorded for IN-1")

    code, out, _ = detente(env, "evaluate", "--at", "2026-10-05T11:00:00Z")
    assert (code, out.strip()) == (
        0,
        "3 guardrail(s): 1 healthy, 1 breached, 1 unavailable; 1 phase(s) paused",
    )
    code, out, _ = detente(env, "list", "--format", "json")
    rows = json.loads(out)
    assert [(r["id"], r["phase"], r["phase_status"], r["guardrails"], r["next_decision"])
            for r in rows] == [(1, 1, "paused", "breached", "go/no-go DR-1")]  # fmt: skip

    code, out, err = detente(env, "resume", "1", "--as", "cio@example.org")
    assert (code, err) == (1, "error: resuming needs the go/no-go decision DR-1 decided\n")
    decided = subprocess.run(
        [str(DETENTE), "decision", "decide", "1", "--decision", "Go on; SMS text reworded",
         "--option", "0", "--why-blank", "decided in the rollout call", "--as", "cio@example.org"],
        check=False, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert decided.returncode == 0, decided.stderr
    code, out, _ = detente(env, "resume", "1", "--as", "cio@example.org")
    assert (code, out.strip()) == (0, "IN-1 phase 1: Pilot with staff and volunteers resumed")

    code, out, _ = detente(env, "show", "1", "--format", "json")
    detail = json.loads(out)
    assert [(h["from"], h["to"], h["by"], h["decision"]) for h in detail["history"]] == [
        ("planned", "running", "cio@example.org", None),
        ("running", "paused", "guardrail evaluation", 1),
        ("paused", "resumed", "cio@example.org", 1),
    ]
    assert detail["phases"][0]["signatures"]["ciso"]["by"] == "ciso@example.org"
    code, out, _ = detente(env, "show", "1")
    assert code == 0
    assert out.splitlines()[:3] == [
        "IN-1: MFA for online-banking customers",
        "sponsors: cio@example.org (CIO side), ciso@example.org (CISO side)",
        "risk reduced: account-takeover incidents per quarter: baseline 42, expected 6, "
        "observed not observed yet",
    ]
    assert detente(env, "show", "9")[0:3:2] == (2, "error: initiative 9 does not exist\n")

    # An objection cancels the rollout: the resumed phase and phase 2 end; show says who and why.
    code, _, err = detente(env, "cancel", "1", "--reason", "no", "--as", "engineer@example.org")
    assert code == 1, err
    code, out, _ = detente(
        env, "cancel", "1", "--reason", "Fraud team wants passkeys first", "--as",
        "ciso@example.org",
    )  # fmt: skip
    assert (code, out.strip()) == (0, "IN-1 cancelled after an objection, from phase 1 on")
    code, out, _ = detente(env, "show", "1")
    assert "next decision: none" in out.splitlines()
    said = [line for line in out.splitlines() if line.startswith("cancelled")]
    assert len(said) == 1
    assert re.fullmatch(
        r"cancelled after an objection: ciso@example\.org \(CISO side\), from phase 1 on, "
        r"\d{4}-\d\d-\d\dT\d\d:\d\d: Fraud team wants passkeys first",
        said[0],
    ), said
    code, _, err = detente(
        env, "cancel", "1", "--phase", "1", "--reason", "again", "--as", "cio@example.org"
    )
    assert code == 1, err
    # Without --phase there is no phase left to move: bad input naming the phase.
    code, _, err = detente(env, "cancel", "1", "--reason", "again", "--as", "cio@example.org")
    assert (code, err) == (
        2,
        "error: record IN-1, field 'phase': IN-1 has no running, paused or planned phase "
        "(phases: 1 cancelled after objection, 2 cancelled after objection); name the phase\n",
    )
    # The other moves share the same path: refused by the table once the rollout is cancelled.
    for verb, options, state in (
        ("rollback", ["--reason", "late"], "rolled_back"),
        ("done", [], "done"),
        ("pause", ["--reason", "x"], "paused"),
    ):
        code, _, err = detente(env, verb, "1", "--phase", "1", *options, "--as", "cio@example.org")
        assert code == 1, err
        assert err.endswith(f"is cancelled; it cannot become {state}\n"), err


def test_moves_without_phase_take_the_running_or_paused_phase_never_a_rolled_back_one(
    env: dict[str, str],
) -> None:
    # given a rollout whose phase 1 was started and then rolled back (phase 2 still planned)
    code, out, err = detente(env, "new", str(MFA), "--as", "ciso@example.org")
    assert code == 0, err
    found = re.match(r"IN-(\d+) created", out)
    assert found is not None, out
    pk = found.group(1)
    for argv in (
        ["sign", pk, "--as", "cio@example.org"],
        ["sign", pk, "--as", "ciso@example.org"],
        ["comms", pk, "1", "--as", "cio@example.org"],
        ["start", pk, "--as", "cio@example.org"],
    ):
        code, out, err = detente(env, *argv)
        assert code == 0, (argv, err)
    assert out.strip().startswith(f"IN-{pk} phase 1:")
    # when the running phase is rolled back without --phase
    code, out, err = detente(env, "rollback", pk, "--reason", "login failures", "--as",
                             "cio@example.org")  # fmt: skip
    # then it was phase 1, the one in flight
    assert (code, out.strip()) == (
        0,
        f"IN-{pk} phase 1: Pilot with staff and volunteers rolled back",
    ), err
    # and moves of a started phase no longer default to it: exit 2, the phase named
    for verb, options in (("pause", ["--reason", "x"]), ("resume", []),
                          ("rollback", ["--reason", "x"]), ("done", [])):  # fmt: skip
        code, out, err = detente(env, verb, pk, *options, "--as", "cio@example.org")
        assert (code, out, err) == (
            2,
            "",
            f"error: record IN-{pk}, field 'phase': IN-{pk} has no running or paused phase "
            "(phases: 1 rolled back, 2 planned); name the phase\n",
        ), verb
    # while the current phase shown and the default for signing is the next planned one
    code, out, _ = detente(env, "show", pk, "--format", "json")
    assert json.loads(out)["current_phase"] == 2
    code, out, err = detente(env, "sign", pk, "--as", "cio@example.org")
    assert code == 0, err
    assert f"IN-{pk} phase 2:" in out
