"""The command line as a user meets it: exit codes, one-line errors, machine-readable output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection

from detente.cli.main import run
from detente.findings.models import Finding, ScanImport

pytestmark = pytest.mark.django_db


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as caught:
        run(list(argv))
    out, err = capsys.readouterr()
    return int(caught.value.code or 0), out, err


def test_import_then_list_as_json_in_priority_order(
    capsys: pytest.CaptureFixture[str], samples: Path
) -> None:
    code, _, _ = _run(
        capsys,
        "intel",
        "load",
        str(samples / "intel/known_exploited_vulnerabilities_2026-08-07.json"),
    )
    assert code == 0
    code, out, _ = _run(
        capsys, "import", str(samples / "scans/cyclonedx/log4j.json"), "--asset", "pay"
    )
    assert code == 0
    assert "8 parsed, 8 new" in out
    code, out, _ = _run(capsys, "findings", "list", "--format", "json", "--limit", "100")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == Finding.objects.filter(status="open").count()
    kev_flags = [row["kev"] == "yes" for row in rows]
    assert any(kev_flags)
    assert kev_flags == sorted(kev_flags, reverse=True)  # exploited first
    assert {row["asset"] for row in rows} == {"pay"}


def test_exploited_filter_and_csv_output(capsys: pytest.CaptureFixture[str], samples: Path) -> None:
    _run(
        capsys,
        "intel",
        "load",
        str(samples / "intel/known_exploited_vulnerabilities_2026-08-07.json"),
    )
    _run(capsys, "import", str(samples / "scans/cyclonedx/log4j.json"))
    code, out, _ = _run(capsys, "findings", "list", "--exploited", "--format", "csv")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("id,severity,vuln_id,kev")
    cves = {line.split(",")[2] for line in lines[1:]}
    assert cves == {"CVE-2021-44228", "CVE-2021-45046"}


def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"SchemaVersion": 2, "Results": [')
    code, _, err = _run(capsys, "import", str(broken), "--format", "trivy")
    assert code == 2
    assert err.startswith(f"error: {broken}")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert ScanImport.objects.count() == 0


def test_unknown_finding_is_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "findings", "show", "424242")
    assert (code, err.strip()) == (2, "error: finding 424242 does not exist")


def test_invalid_policy_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("name: x\npack: y\n")
    code, _, err = _run(capsys, "policy", "validate", str(policy))
    assert code == 2
    assert str(policy) in err


def test_policy_apply_pack_recomputes_deadlines(
    capsys: pytest.CaptureFixture[str], samples: Path
) -> None:
    _run(capsys, "import", str(samples / "scans/bandit/one_vuln.json"))
    code, out, _ = _run(capsys, "policy", "apply", "--pack", "fedramp")
    assert code == 0
    assert (
        # the default policy already gives a LOW finding 180 days: nothing moved
        "policy v2 (fedramp) active; 1 open findings checked, 0 deadlines changed"
        in out.replace("\n", " ")
    )
    assert Finding.objects.get().deadline_class == "180d"  # bandit LOW → FedRAMP low: 180 days


def test_tampered_audit_trail_exits_1(capsys: pytest.CaptureFixture[str], samples: Path) -> None:
    _run(capsys, "import", str(samples / "scans/bandit/one_vuln.json"))
    assert _run(capsys, "audit", "verify")[0] == 0
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET verb = 'nothing.happened' WHERE seq = 1")
    code, _, err = _run(capsys, "audit", "verify")
    assert code == 1
    assert "broken at event #1" in err
