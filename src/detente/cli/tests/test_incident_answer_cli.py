"""``detente incident answer`` through the installed command: the CIO answers a briefing's ask
once (the same service as the incident page); bad input is exit 2 naming the field, a refusal
exit 1, nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DETENTE = Path(sys.executable).parent / "detente"
SEED = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
django.setup()
from detente.cli.common import ensure_database
from detente.people.models import Role
from detente.people.services import person_upsert
ensure_database()
person_upsert(name="Claire", email="cio@x.org", role=Role.CIO)
person_upsert(name="Sam", email="ciso@x.org", role=Role.CISO)
person_upsert(name="Priya", email="lead@x.org", role=Role.SECURITY_LEAD)
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
        [str(DETENTE), "incident", *argv], check=False, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def test_the_cio_answers_a_briefing_ask_from_the_command_line(env: dict[str, str]) -> None:
    # given an incident with a briefing that asks the CIO two things
    code, out, err = detente(env, "declare", "--as", "lead@x.org", "--title", "Card skimmer",
                             "--severity", "sev2", "--lead", "lead@x.org")  # fmt: skip
    assert (code, out.strip()) == (0, "INC-1 declared: SEV2 Card skimmer"), err
    code, out, err = detente(
        env, "brief", "1", "--as", "lead@x.org", "--status", "Removed",
        "--ask", "Approve customer notice", "--ask", "Take checkout offline",
    )  # fmt: skip
    assert code == 0, err
    # when someone other than the CIO answers, or the input is wrong: refused, nothing written
    assert detente(env, "answer", "1", "1", "--answer", "Yes", "--as", "ciso@x.org")[::2] == (
        1, "error: only INC-1's CIO answers its briefings' asks\n",
    )  # fmt: skip
    assert detente(env, "answer", "1", "3", "--answer", "Yes", "--as", "cio@x.org")[::2] == (
        2, "error: field 'ask': briefing #1 has 2 ask(s), not 3\n",
    )  # fmt: skip
    assert detente(env, "answer", "1", "1", "--answer", " ", "--as", "cio@x.org")[::2] == (
        2, "error: field 'answer': write the answer\n",
    )  # fmt: skip
    assert detente(env, "answer", "9", "1", "--answer", "Yes", "--as", "cio@x.org")[::2] == (
        2, "error: briefing 9 does not exist\n",
    )  # fmt: skip
    code, out, _ = detente(env, "timeline", "1", "--as", "cio@x.org")
    assert "answered" not in out
    # when the CIO answers ask 1
    code, out, err = detente(env, "answer", "1", "1", "--answer", "Yes, today",
                             "--as", "cio@x.org")  # fmt: skip
    # then it is recorded, on the timeline as a decision, and only once
    assert (code, out.strip(), err) == (
        0,
        "briefing 1 (#1 of INC-1): ask 1 “Approve customer notice” answered; recorded on the "
        "timeline as a decision",
        "",
    )
    code, out, _ = detente(env, "timeline", "1", "--as", "cio@x.org")
    assert "Claire answered briefing #1's ask “Approve customer notice”: Yes, today" in out
    assert detente(env, "answer", "1", "1", "--answer", "No", "--as", "cio@x.org")[::2] == (
        1, "error: ask 1 of briefing #1 is already answered\n",
    )  # fmt: skip
