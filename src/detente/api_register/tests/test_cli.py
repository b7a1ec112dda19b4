"""``detente api …`` through the installed command, as a user runs it (subprocess, own data dir)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from detente.api_register.rules import RULES

DETENTE = Path(sys.executable).with_name("detente")
CRAPI = "openapi/OWASP__crAPI__openapi-spec__crapi-openapi-spec.json"
VAMPI = "openapi/erev0s__VAmPI__openapi_specs__openapi3.yml"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DETENTE_"))}
    clean.update(DETENTE_DATA_DIR=str(tmp_path / "data"), DETENTE_SECRET_KEY="test-only-not-secret")
    return clean


def _detente(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DETENTE), *argv],
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_audit_a_file_writes_sarif(env: dict[str, str], samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "crapi.sarif"
    done = _detente(env, "api", "audit", "--spec", str(samples / CRAPI), "--sarif", str(out),
                    "--format", "json")  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    rows = json.loads(done.stdout)
    sarif = json.loads(out.read_text())
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0"
    assert run["tool"]["driver"]["name"] == "detente-api"
    assert len(run["tool"]["driver"]["rules"]) == len(RULES)
    assert len(run["results"]) == len(rows) == 54
    first = run["results"][0]
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == Path(CRAPI).name
    assert {r["level"] for r in run["results"]} == {"error", "warning", "note"}


def test_hostile_specs_exit_2_with_one_line(env: dict[str, str], tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    bomb.write_text("openapi: 3.0.0\n" + "\n".join(lines) + "\n")
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(50 * 2**20)
    for path, message in (
        (bomb, f"error: {bomb}, record document: more than 2000000 values"),
        (big, f"error: {big}: spec is 52428800 bytes, over the 16777216 byte limit"),
    ):
        done = _detente(env, "api", "audit", "--spec", str(path))
        assert done.returncode == 2
        assert done.stderr.startswith(message)
        assert done.stderr.count("\n") == 1
        assert "Traceback" not in done.stderr


def test_a_loopback_ref_is_reported_not_fetched(env: dict[str, str], tmp_path: Path) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/x.json"
        spec = tmp_path / "ssrf.json"
        spec.write_text(json.dumps({
            "openapi": "3.0.0", "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"parameters": [{"$ref": url}],
                                     "responses": {"200": {"$ref": url}}}}},
        }))  # fmt: skip
        done = _detente(env, "api", "audit", "--spec", str(spec), "--format", "json")
        assert done.returncode == 0
        messages = [r["message"] for r in json.loads(done.stdout) if r["rule"] == "DET-API8-008"]
        assert messages == [f"external $ref {url!r} not followed"] * 2
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()


SETUP = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from detente.people.models import Role
from detente.people.services import person_upsert
from detente.inventory.services import service_upsert
for role in ("engineer", "security_lead", "ciso", "cio", "auditor"):
    person_upsert(name=role, email=f"{role}@example.org", role=Role(role))
service_upsert(slug="shop", name="Shop")
"""


def test_register_update_diff_pentest_and_promote(
    env: dict[str, str], samples: Path, tmp_path: Path
) -> None:
    subprocess.run([sys.executable, "-c", SETUP], env=env, check=True)
    # add: audited at once
    done = _detente(env, "api", "add", "--service", "shop", "--name", "crapi", "--spec",
                    str(samples / CRAPI), "--owner", "engineer@example.org",
                    "--security-contact", "security_lead@example.org",
                    "--as", "engineer@example.org")  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("crapi v1 (3.0, 44 operations, sha256 9dc66ecfb215): 8 high,")
    assert done.stdout.rstrip().endswith("findings 54 new, 0 closed")
    # an auditor may not register: exit 1, nothing written
    done = _detente(env, "api", "add", "--service", "shop", "--name", "other", "--spec",
                    str(samples / CRAPI), "--as", "auditor@example.org")  # fmt: skip
    assert (done.returncode, done.stderr) == (1, "error: a Auditor does not register APIs\n")
    # update with another spec: a second version, the first one's results closed
    done = _detente(env, "api", "update", "crapi", "--spec", str(samples / VAMPI),
                    "--as", "engineer@example.org")  # fmt: skip
    assert done.returncode == 0
    assert "findings 12 new, 43 closed" in done.stdout
    done = _detente(env, "api", "diff", "crapi", "--format", "json")
    diff = json.loads(done.stdout)
    assert (diff["from"], diff["to"], diff["material"]) == (1, 2, True)
    assert len(diff["operations_added"]) == 14
    assert len(diff["operations_removed"]) == 44
    # promotion without a pen test: refused, exit 1, saying what is missing
    done = _detente(env, "api", "promote", "crapi", "--to", "partner", "--as", "cio@example.org")
    assert done.returncode == 1
    assert done.stderr.startswith("error: crapi cannot go partner: a pen test of v2")
    # a pen test of v2, with its report
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4")
    done = _detente(env, "api", "pentest", "crapi", "--tester", "ACME", "--started",
                    "2026-01-05", "--ended", "2026-01-09", "--report", str(report),
                    "--scope", "GET /users/v1", "--as", "security_lead@example.org")  # fmt: skip
    assert done.returncode == 0, done.stderr
    # the open high findings still block; the CISO forces with a reason
    done = _detente(env, "api", "promote", "crapi", "--to", "partner", "--as", "ciso@example.org",
                    "--force", "--reason", "partner pilot, fixes scheduled")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("crapi: internal → partner forced")
    listed = json.loads(_detente(env, "api", "list", "--format", "json").stdout)
    assert [(r["name"], r["stage"], r["version"]) for r in listed] == [("crapi", "partner", 2)]
    shown = json.loads(_detente(env, "api", "show", "crapi", "--format", "json").stdout)
    assert [p["outcome"] for p in shown["promotions"]] == ["forced", "refused"]
    assert shown["pentests"][0]["scope"] == ["GET /users/v1"]
    test_id = str(shown["pentests"][0]["id"])
    # the final report and the findings arrive after the test was recorded
    final = tmp_path / "final.pdf"
    final.write_bytes(b"%PDF-1.4 final")
    done = _detente(env, "api", "pentest-report", "crapi", test_id, str(final),
                    "--as", "security_lead@example.org")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("report final.pdf (sha256 ")
    assert done.stdout.rstrip().endswith(f"attached to pen test {test_id} of crapi")
    broken = tmp_path / "acme.json"
    broken.write_text("{not json")
    done = _detente(env, "api", "pentest-findings", "crapi", test_id, str(broken),
                    "--as", "security_lead@example.org")  # fmt: skip
    assert done.returncode == 2
    assert "acme.json" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    sarif = tmp_path / "acme.sarif"
    sarif.write_text(json.dumps({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "ACME pen test"}},
        "results": [{"ruleId": "ACME-BOLA", "level": "error",
                     "message": {"text": "GET /users/v1 lists every user's e-mail"}}],
    }]}))  # fmt: skip
    done = _detente(env, "api", "pentest-findings", "crapi", test_id, str(sarif),
                    "--as", "engineer@example.org")  # fmt: skip
    assert done.returncode == 1, done.stderr
    done = _detente(env, "api", "pentest-findings", "crapi", test_id, str(sarif),
                    "--as", "security_lead@example.org")  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip() == f"pen test {test_id} of crapi: 1 parsed, 1 new, 0 closed"
    # unknown API: exit 2
    assert _detente(env, "api", "show", "nope").returncode == 2
