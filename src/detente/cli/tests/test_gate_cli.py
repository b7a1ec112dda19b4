"""``detente gate`` end to end on the shared sample scans: an approved acceptance passes the build,
its expiry blocks it, an override passes it again as a recorded decision that the radar sees."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer
import xmlschema
from junitparser import Failure, JUnitXml, Skipped
from typer.testing import CliRunner

from detente.acceptances.tests.factories import Org, approved, org
from detente.audit.models import AuditEvent
from detente.audit.services import audit_verify
from detente.cli import commands_gates
from detente.core import clock
from detente.decisions.models import DecisionRecord, DecisionStatus, PressurePoint
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding
from detente.findings.services import scan_import
from detente.gates.models import GateDecision, GateOverride, GateRun, OverrideStatus
from detente.inventory.services import service_upsert
from detente.people.models import Role
from detente.people.services import person_upsert
from detente.tension.models import TensionSnapshot
from detente.tension.services import radar_compute
from detente.tension.signals import Period

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
GRYPE = "scans/anchore_grype/check_all_fields.json"
SCHEMA = "schemas/sarif-schema-2.1.0.json"
JUNIT_XSD = Path(__file__).resolve().parents[2] / "gates/tests/fixtures/junit-jenkins.xsd"


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Détente (test shell)."""

    commands_gates.register(app)
    return app


@pytest.fixture
def shop(samples: Path) -> tuple[Org, list[Finding]]:
    """The Grype sample imported for the high-criticality service ``shop``: its two high
    findings with a fix (CVE-2021-32626 in redis, GHSA-v6rh-hp5x-86rv in Django) block under the
    default pack's ``high-with-fix-critical-service`` rule."""
    clock.set_now(NOW)
    people = org()
    service = service_upsert(slug="shop", name="Shop", owner=None, criticality="high")
    scan_import(paths=[samples / GRYPE], options=ImportOptions(service=service))
    blocking = list(
        Finding.objects.filter(vuln_id__in=("CVE-2021-32626", "GHSA-v6rh-hp5x-86rv")).order_by("id")
    )
    return people, blocking


def _gate(samples: Path, tmp_path: Path, *extra: str) -> tuple[int, Any]:
    result = CliRunner().invoke(
        _app(),
        ["gate", "--service", "shop", "--version", "2.4.0", "--format", "json",
         "--sarif", str(tmp_path / "gate.sarif"), "--junit", str(tmp_path / "gate.xml"),
         "--markdown", str(tmp_path / "gate.md"), *extra, str(samples / GRYPE)],
    )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def _junit_valid(path: Path) -> JUnitXml:
    """Valid against the schema Jenkins' xUnit plugin accepts, then read by junitparser."""
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(path))
    return JUnitXml.fromfile(str(path))


def _sarif_valid(samples: Path, path: Path) -> Any:
    doc = json.loads(path.read_text())
    jsonschema.validate(doc, json.loads((samples / SCHEMA).read_text()))
    return doc


def test_acceptance_passes_expiry_blocks_override_passes_with_decision_and_radar(
    samples: Path, tmp_path: Path, shop: tuple[Org, list[Finding]]
) -> None:
    people, blocking = shop
    acceptance = approved(people, blocking, days=10)

    # given an approved acceptance: pass, the accepted risks suppressed in SARIF, skipped in JUnit
    code, out = _gate(samples, tmp_path)
    assert code == 0
    assert out["decision"] == "pass"
    assert out["counts"] == {"findings": 5, "blocking": 0, "warn": 2, "accepted": 2,
                             "not_affected": 0, "baseline": 0, "false_positive": 0,
                             "passed": 1}  # fmt: skip
    sarif = _sarif_valid(samples, tmp_path / "gate.sarif")
    results = sarif["runs"][0]["results"]
    suppressed = [r for r in results if r.get("suppressions")]
    assert sorted(r["ruleId"] for r in suppressed) == ["CVE-2021-32626", "GHSA-v6rh-hp5x-86rv"]
    assert suppressed[0]["suppressions"][0]["status"] == "accepted"
    assert suppressed[0]["suppressions"][0]["properties"] == {
        "acceptance_id": acceptance.pk,
        "expires_at": acceptance.expires_at.isoformat(),
    }
    junit = _junit_valid(tmp_path / "gate.xml")
    cases = [case for suite in junit for case in suite]
    assert sum(isinstance(r, Skipped) for c in cases for r in c.result) == 2
    assert not any(isinstance(r, Failure) for c in cases for r in c.result)
    assert "✅ pass" in (tmp_path / "gate.md").read_text()

    # when it expires (the expiry job need not have run): blocked, nothing suppressed
    clock.set_now(NOW + dt.timedelta(days=11))
    code, out = _gate(samples, tmp_path)
    assert code == 1
    assert out["decision"] == "blocked"
    # the two accepted highs block again, and the two criticals (3-day class, never accepted)
    # are now past their deadline
    blocked = [(f["vuln_id"], f["rules"]) for f in out["findings"] if f["state"] == "block"]
    assert blocked == [
        ("CVE-2021-33574", ["past-deadline"]), ("CVE-2021-33574", ["past-deadline"]),
        ("CVE-2021-32626", ["high-with-fix-critical-service"]),
        ("GHSA-v6rh-hp5x-86rv", ["high-with-fix-critical-service"]),
    ]  # fmt: skip
    findings = {f["vuln_id"]: f for f in out["findings"]}
    assert findings["CVE-2021-32626"]["lapsed"]["id"] == acceptance.pk
    assert findings["GHSA-v6rh-hp5x-86rv"]["unblock"] == "upgrade Django to 3.2.10"
    sarif = _sarif_valid(samples, tmp_path / "gate.sarif")
    assert not any(r.get("suppressions") for r in sarif["runs"][0]["results"])
    junit = _junit_valid(tmp_path / "gate.xml")
    failed = [c.name for s in junit for c in s if any(isinstance(r, Failure) for r in c.result)]
    assert sorted(set(failed)) == [
        "CVE-2021-32626 in redis 4.0.2", "CVE-2021-33574 in libc-bin 2.28-10",
        "CVE-2021-33574 in libc6 2.28-10", "GHSA-v6rh-hp5x-86rv in Django 3.2.9",
    ]  # fmt: skip

    # then the CIO overrides it: pass, a decision record, an audit event, the radar's red line 4
    code, out = _gate(samples, tmp_path, "--override", "--as", "ivo@example.org",
                      "--reason", "Black Friday campaign launches tomorrow")  # fmt: skip
    assert code == 0
    override = GateOverride.objects.get()
    assert out["override"]["id"] == override.pk
    assert override.run.decision == GateDecision.OVERRIDDEN
    assert override.status == OverrideStatus.PENDING
    assert override.second_due == NOW + dt.timedelta(days=11, hours=24)
    record = DecisionRecord.objects.get()
    assert record.pressure_point == PressurePoint.DEVSECOPS
    assert [o["title"] for o in record.options] == [
        "Ship now (override the gate)", "Hold the release until fixed or accepted",
    ]  # fmt: skip
    assert record.options[0]["business_benefit"] == "Black Friday campaign launches tomorrow"
    assert "4 blocking finding(s), 0 accepted, 0 warning(s), 5 in all" in record.options[0]["facts"]
    assert list(
        AuditEvent.objects.filter(verb__startswith="gate.").values_list("verb", flat=True)
    ) == ["gate.run", "gate.run", "gate.run", "gate.overridden"]
    assert "PASS BY OVERRIDE" not in (tmp_path / "gate.md").read_text()  # markdown: its own words
    assert f"override GO-{override.pk}" in (tmp_path / "gate.md").read_text()
    snapshot = _radar_a_minute_later()
    signals = {s["key"]: s for s in snapshot.signals}
    assert signals["gate_override_rate"]["value"] == 0.5  # 1 override of 2 blocked runs
    assert signals["gate_overrides_undecided"]["value"] == 1
    assert [t["key"] for t in snapshot.triggers if t["key"] == "red_line_4"] == ["red_line_4"]

    # and the CISO's second signature confirms it: the decision is recorded, red line 4 clears
    CliRunner().invoke(_app(), ["gate-override", "sign", str(override.pk), "--as",
                                "carla@example.org"])  # fmt: skip
    override.refresh_from_db()
    assert override.status == OverrideStatus.CONFIRMED
    assert DecisionRecord.objects.get().status == DecisionStatus.DECIDED
    snapshot = _radar_a_minute_later()
    assert "red_line_4" not in [t["key"] for t in snapshot.triggers]
    assert audit_verify().ok


def test_an_override_by_a_role_policy_does_not_allow_is_refused_and_records_no_override(
    samples: Path, tmp_path: Path, shop: tuple[Org, list[Finding]]
) -> None:
    result = CliRunner().invoke(
        _app(),
        ["gate", "--service", "shop", "--version", "2.4.0", "--override", "--as",
         "eva@example.org", "--reason", "ship it", str(samples / GRYPE)],
    )  # fmt: skip

    assert result.exit_code == 1
    assert "policy lets cio, ciso override the gate, not a Engineer" in str(result.exception)
    assert not GateOverride.objects.exists()
    assert not DecisionRecord.objects.exists()
    # the run itself is recorded as what it was: blocked
    assert list(GateRun.objects.values_list("decision", flat=True)) == [GateDecision.BLOCKED]


def test_nobody_co_signs_their_own_override_and_the_same_role_cannot_either(
    samples: Path, tmp_path: Path, shop: tuple[Org, list[Finding]]
) -> None:
    people, _ = shop
    other_cio = person_upsert(name="Olga", email="olga@example.org", role=Role.CIO)
    _gate(samples, tmp_path, "--override", "--as", "ivo@example.org", "--reason", "launch")
    override = GateOverride.objects.get()

    own = CliRunner().invoke(_app(), ["gate-override", "sign", str(override.pk), "--as",
                                      "ivo@example.org"])  # fmt: skip
    same_role = CliRunner().invoke(_app(), ["gate-override", "sign", str(override.pk), "--as",
                                            other_cio.email])  # fmt: skip

    assert "separation of duties" in str(own.exception)
    assert "another role than cio" in str(same_role.exception)
    override.refresh_from_db()
    assert override.status == OverrideStatus.PENDING
    assert people.ciso.role == Role.CISO


def test_an_unsigned_override_escalates_after_the_policy_hours(
    samples: Path, tmp_path: Path, shop: tuple[Org, list[Finding]]
) -> None:
    _gate(samples, tmp_path, "--override", "--as", "ivo@example.org", "--reason", "launch")
    clock.set_now(NOW + dt.timedelta(hours=23))
    early = CliRunner().invoke(_app(), ["gate-override", "escalate"])
    clock.set_now(NOW + dt.timedelta(hours=24))
    late = CliRunner().invoke(_app(), ["gate-override", "escalate"])

    assert early.stdout.strip() == "0 override(s) escalated"
    override = GateOverride.objects.get()
    assert late.stdout.strip() == f"1 override(s) escalated: [{override.pk}]"
    assert override.status == OverrideStatus.ESCALATED
    assert override.decision.escalation_level == "leaders"


def test_import_in_the_same_call_imports_the_findings_and_records_the_run(
    samples: Path, tmp_path: Path
) -> None:
    clock.set_now(NOW)
    service_upsert(slug="shop", name="Shop", owner=None, criticality="high")

    code, out = _gate(samples, tmp_path, "--import", "--commit", "abc123")

    run = GateRun.objects.get()
    assert (code, out["run"], run.imported, run.commit) == (1, run.pk, True, "abc123")
    assert Finding.objects.count() == 5
    assert [f["name"] for f in run.files] == ["check_all_fields.json"]
    assert run.files[0]["sha256"] == (
        "e1a781a1d71d2617e8e9c8a11b930c96be77a06d04c49d9be63d133018998707"
    )  # the manifest's digest of the sample


def test_the_other_leader_can_reject_an_override_with_a_reason(
    samples: Path, tmp_path: Path, shop: tuple[Org, list[Finding]]
) -> None:
    _gate(samples, tmp_path, "--override", "--as", "ivo@example.org", "--reason", "launch")
    override = GateOverride.objects.get()

    bare = CliRunner().invoke(_app(), ["gate-override", "reject", str(override.pk), "--as",
                                       "carla@example.org", "--comment", " "])  # fmt: skip
    reason = "Fix the secrets first"
    done = CliRunner().invoke(_app(), ["gate-override", "reject", str(override.pk), "--as",
                                       "carla@example.org", "--comment", reason])  # fmt: skip

    assert "a rejection says why" in str(bare.exception)
    assert done.stdout.strip() == f"GO-{override.pk}: rejected (decision DR-{override.decision_id})"
    record = DecisionRecord.objects.get()
    assert (record.status, record.chosen_option) == (DecisionStatus.DECIDED, 1)
    assert record.decision == "Override rejected by Carla CISO (CISO): Fix the secrets first"
    snapshot = _radar_a_minute_later()
    assert "red_line_4" in [
        t["key"] for t in snapshot.triggers
    ]  # rejected: still no decision to ship


def _radar_a_minute_later() -> TensionSnapshot:
    """The radar of the running month is judged as of now, and what happened at this very instant
    is not yet in it: compute it a minute after the gate runs, as the worker would."""
    clock.set_now(clock.now() + dt.timedelta(minutes=1))
    return radar_compute(period=Period.of(clock.now()))
