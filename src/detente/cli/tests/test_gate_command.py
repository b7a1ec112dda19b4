"""``detente gate`` as a pipeline runs it: the installed command as a subprocess, its exit codes,
its one-line errors, and nothing recorded as a pass on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from detente.findings.tests.parity import SAMPLES

ROOT = Path(__file__).resolve().parents[4]
DETENTE = str(ROOT / ".venv/bin/detente")
GRYPE = SAMPLES / "scans/anchore_grype/check_all_fields.json"
GITLEAKS = SAMPLES / "scans/gitleaks/data_many.json"

# Builds the organisation in the subprocess' own database with the real clock.
SETUP = """
import datetime as dt, os, sys
from pathlib import Path
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
django.setup()
from detente.cli.common import ensure_database
ensure_database()
from detente.acceptances.tests.factories import approved, org
from detente.core import clock
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding
from detente.findings.services import scan_import
from detente.inventory.services import service_upsert
mode, grype = sys.argv[1], Path(sys.argv[2])
if mode == "expired":
    clock.set_now(dt.datetime.now(dt.UTC) - dt.timedelta(days=20))
people = org()
service = service_upsert(slug="shop", name="Shop", owner=None, criticality="high")
scan_import(paths=[grype], options=ImportOptions(service=service))
if mode in ("accepted", "expired"):
    highs = Finding.objects.filter(vuln_id__in=("CVE-2021-32626", "GHSA-v6rh-hp5x-86rv"))
    print(approved(people, list(highs), days=10).pk)
"""

COUNT = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
django.setup()
from detente.gates.models import GateRun, GateOverride
print(list(GateRun.objects.order_by("id").values_list("decision", flat=True)),
      GateOverride.objects.count())
"""


@dataclass
class Db:
    env: dict[str, str]
    acceptance: int | None

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DETENTE, *argv], env=self.env, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip

    def runs(self) -> str:
        return subprocess.run(
            [sys.executable, "-c", COUNT], env=self.env, capture_output=True, text=True,
            timeout=120, check=True,
        ).stdout.strip()  # fmt: skip


def _db(folder: Path, mode: str) -> Db:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DETENTE_TEST_DATABASE")
    }
    env |= {"DETENTE_DATA_DIR": str(folder), "DETENTE_SECRET_KEY": "test-only-not-secret",
            "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}  # fmt: skip
    env.pop("DETENTE_ACTOR", None)
    env.pop("DETENTE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SETUP, mode, str(GRYPE)], env=env, capture_output=True, text=True,
        timeout=300, check=True,
    )  # fmt: skip
    out = done.stdout.strip().splitlines()
    return Db(env, int(out[-1]) if mode != "plain" else None)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Db:
    return _db(tmp_path_factory.mktemp("plain"), "plain")


GATE = ("gate", "--service", "shop", "--version", "2.4.0")


def test_blocked_build_exits_1_with_what_unblocks_each_finding(plain: Db) -> None:
    done = plain.run(*GATE, "--commit", "abc123", str(GRYPE), str(GITLEAKS))

    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0].startswith("gate: BLOCKED — shop 2.4.0 (policy v1, 2 report(s), ")
    assert lines[1] == (
        "  7 findings: 4 blocking, 2 warn, 0 accepted, 0 baseline, 0 false positive, 1 passing"
    )
    assert "      → upgrade Django to 3.2.10" in lines
    assert "      → remove the secret from the build and rotate it" in lines
    assert lines[-1].startswith("  recorded as gate run #")


def test_json_output_and_no_record(plain: Db, tmp_path: Path) -> None:
    before = plain.runs()
    done = plain.run(*GATE, "--format", "json", "--no-record", str(GRYPE))

    assert done.returncode == 1
    out = json.loads(done.stdout)
    assert (out["decision"], out["run"], out["counts"]["blocking"]) == ("blocked", None, 2)
    assert [f["kind"] for f in out["files"]] == ["container"]
    assert plain.runs() == before


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b'{"matches": [{"vulnerability": ', "grype.json", "error: "),
        (b"hello, this is not a scan report\n", "notes.txt", "format not recognised"),
        (b"", "empty.json", "the file is empty"),
    ],
)
def test_bad_input_exits_2_in_one_line_and_records_nothing(
    plain: Db, tmp_path: Path, content: bytes, name: str, message: str
) -> None:
    before = plain.runs()
    bad = tmp_path / name
    bad.write_bytes(content)

    done = plain.run(*GATE, str(GRYPE), str(bad))

    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert message in done.stderr
    assert name in done.stderr
    assert plain.runs() == before


def test_unknown_service_and_missing_file_exit_2(plain: Db, tmp_path: Path) -> None:
    unknown = plain.run("gate", "--service", "nope", "--version", "1", str(GRYPE))
    missing = plain.run(*GATE, str(tmp_path / "absent.json"))

    assert (unknown.returncode, missing.returncode) == (2, 2)
    assert unknown.stderr.startswith("error: no business service 'nope'")
    assert "absent.json: no such file or folder" in missing.stderr


def test_an_invalid_gate_section_is_refused_by_policy_validate(plain: Db, tmp_path: Path) -> None:
    pack = (ROOT / "src/detente/policy/packs/bod_26_04.yaml").read_text()
    bad = tmp_path / "policy.yaml"
    bad.write_text(pack.replace('min_epss: {"*": 0.5}', 'min_epss: {"*": 50}'))

    done = plain.run("policy", "validate", str(bad))

    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: {bad}, record $.gate: gate.rules[4] (epss): min_epss['*'] must lie between 0 and 1"
    )


def test_override_by_a_role_policy_does_not_allow_exits_1(plain: Db) -> None:
    done = plain.run(*GATE, "--override", "--as", "eva@example.org", "--reason", "ship",
                     str(GRYPE))  # fmt: skip

    assert done.returncode == 1
    assert done.stderr.strip() == ("error: policy lets cio, ciso override the gate, not a Engineer")


def test_approved_acceptance_passes_expired_blocks(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    accepted = _db(tmp_path_factory.mktemp("accepted"), "accepted")
    expired = _db(tmp_path_factory.mktemp("expired"), "expired")

    passing = accepted.run(*GATE, str(GRYPE))
    blocked = expired.run(*GATE, str(GRYPE))

    assert passing.returncode == 0, passing.stdout
    assert passing.stdout.splitlines()[0].startswith("gate: PASS — shop 2.4.0")
    assert f"  accepted: RA-{accepted.acceptance} ×2" in passing.stdout.splitlines()
    assert blocked.returncode == 1
    assert f"[RA-{expired.acceptance} lapsed " in blocked.stdout


# Runs the CLI's entry point and tells, on the way out, whether the REST framework was loaded.
LOADED = """
import atexit, os, sys
atexit.register(lambda: print("loaded:", "ninja" in sys.modules, "detente.api" in sys.modules,
                              os.environ.get("DETENTE_LEAN_APPS"), file=sys.stderr))
from detente.cli.main import run
run(sys.argv[1:])
"""


def test_the_gate_starts_without_the_rest_framework_and_other_commands_keep_it(plain: Db) -> None:
    """``detente gate`` (every pipeline, every build) loads Django without ninja (typer still
    brings pydantic) and decides the same; the switch is not left in the environment; other
    commands load everything."""

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", LOADED, *argv], env=plain.env, capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip

    gate = run(*GATE, "--no-record", "--format", "json", str(GRYPE))
    assert gate.returncode == 1, gate.stderr
    assert json.loads(gate.stdout)["decision"] == "blocked"
    assert gate.stderr.strip().splitlines()[-1] == "loaded: False False None"
    other = run("gate-override", "list")
    assert other.returncode == 0, other.stderr
    assert other.stderr.strip().splitlines()[-1].startswith("loaded: True ")
