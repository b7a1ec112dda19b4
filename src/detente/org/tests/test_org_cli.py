"""``detente org apply|export`` through the installed command, on its own SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

DETENTE = str(Path(sys.executable).with_name("detente"))
Run = Callable[..., subprocess.CompletedProcess[str]]

ORG = """\
version: 1
people:
  - {name: Claire Dubois, email: cio@x.org, role: cio}
  - {name: Lena Novak, email: lena@x.org, role: service_owner}
services:
  - {slug: shop, name: Shop, owner: lena@x.org, criticality: critical, internet_facing: true}
assets:
  - {kind: host, identifier: web-01, service: shop, exposed: yes}
"""


@pytest.fixture
def run(tmp_path: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DETENTE_ACTOR")}
    env |= {"DETENTE_DATA_DIR": str(tmp_path / "data"), "DETENTE_SECRET_KEY": "test-only"}

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DETENTE, *args], env=env, capture_output=True, text=True, check=False, cwd=tmp_path
        )

    return call


def test_apply_dry_run_apply_reapply_export(run: Run, tmp_path: Path) -> None:
    call = run
    org = tmp_path / "org.yaml"
    org.write_text(ORG)

    dry = call("org", "apply", str(org), "--dry-run")
    assert (dry.returncode, dry.stderr) == (0, "")
    assert dry.stdout.splitlines() == [
        "+ person cio@x.org",
        "+ person lena@x.org",
        "+ service shop",
        "+ asset host:web-01",
        "would change: people: 2 added, 0 changed, 0 removed; teams: 0 added, 0 changed, "
        "0 removed; services: 1 added, 0 changed, 0 removed; assets: 1 added, 0 changed, "
        "0 removed",
    ]
    done = call("org", "apply", str(org))
    assert (done.returncode, done.stdout.splitlines()[-2]) == (
        0,
        "applied: people: 2 added, 0 changed, 0 removed; teams: 0 added, 0 changed, 0 removed; "
        "services: 1 added, 0 changed, 0 removed; assets: 1 added, 0 changed, 0 removed",
    )
    # Once someone may change the organisation, the command asks who is acting.
    anonymous = call("org", "apply", str(org))
    assert (anonymous.returncode, anonymous.stderr.strip()) == (
        2,
        "error: field 'as': say who is acting: --as EMAIL (or set DETENTE_ACTOR)",
    )
    again = call("org", "apply", str(org), "--as", "cio@x.org")
    assert (again.returncode, again.stdout) == (0, "no change\n")
    refused = call("org", "apply", str(org), "--as", "lena@x.org")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: Service owner may not change the organisation")

    exported = tmp_path / "export.yaml"
    out = call("org", "export", "--out", str(exported))
    assert out.returncode == 0
    back = call("org", "apply", str(exported), "--as", "cio@x.org")
    assert (back.returncode, back.stdout) == (0, "no change\n")


def test_bad_file_exits_2_and_writes_nothing(run: Run, tmp_path: Path) -> None:
    call = run
    org = tmp_path / "org.yaml"
    org.write_text(ORG.replace("owner: lena@x.org", "owner: ghost@x.org"))

    bad = call("org", "apply", str(org))

    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == (
        f"error: {org}, record services[0] (shop), field 'owner': owner 'ghost@x.org' is not "
        "a person\n"
    )
    exported = call("org", "export")
    assert exported.stdout == "version: 1\npeople: []\nteams: []\nservices: []\nassets: []\n"


def test_backstage_and_cmdb_sources_through_the_command(
    run: Run, tmp_path: Path, samples: Path
) -> None:
    call = run
    samples = samples.resolve() / "backstage"

    dangling = call(
        "org", "apply", "--from", "backstage", str(samples / "audio-playback-system.yaml")
    )
    invalid = call("org", "apply", "--from", "backstage", str(samples))
    missing = tmp_path / "services.csv"
    missing.write_text("name,owned_by\nShop,Lena\n")
    columns = call("org", "apply", "--from", "cmdb-csv", str(missing))

    assert (dangling.returncode, dangling.stdout) == (2, "")
    assert dangling.stderr.endswith(
        "record system:default/audio-playback, field 'spec.owner': 'team-c' names no group in "
        "the catalog (dangling reference)\n"
    )
    assert invalid.returncode == 2
    assert "invalid-component.yaml, record component:default/invalid component" in invalid.stderr
    assert columns.returncode == 2
    assert columns.stderr == (
        f"error: {missing}, record header: missing columns: busines_criticality, "
        "operational_status, owned_by.email (columns: name, owned_by)\n"
    )
    catalog = Path(__file__).parent / "catalog"
    converted = call(
        "org", "convert", "--from", "backstage", str(catalog), str(samples / "org.yaml"),
        str(samples / "team-a-group.yaml"),
    )  # fmt: skip
    assert converted.returncode == 0
    assert converted.stdout.startswith("version: 1\npeople:\n- name: breanna.davison\n")
    exported = call("org", "export")
    assert exported.stdout == "version: 1\npeople: []\nteams: []\nservices: []\nassets: []\n"
