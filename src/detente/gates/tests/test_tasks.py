"""The worker escalates gate overrides left without their second signature: the job on its own,
and ``detente worker --once`` as an operator runs it (the job is one of the round's)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from detente.acceptances.tests.factories import GRYPE, NOW, Org, org
from detente.audit.models import AuditEvent
from detente.cli import commands_worker
from detente.core import clock
from detente.decisions.models import EscalationLevel
from detente.findings.importer import ImportOptions
from detente.findings.services import scan_import
from detente.gates.evaluate import GateRequest, evaluate
from detente.gates.models import GateOverride, OverrideStatus
from detente.gates.services import gate_override, gate_override_sign, gate_run_record
from detente.gates.tasks import escalate_overrides
from detente.inventory.services import service_upsert

pytestmark = pytest.mark.django_db


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Détente (test shell)."""

    commands_worker.register(app)
    return app


def _override(samples: Path, people: Org, version: str) -> GateOverride:
    """A blocked build of ``shop`` (high criticality: the Grype sample's fixable highs block),
    overridden by the CIO: 24 hours for the CISO's signature (the default pack)."""
    service = service_upsert(slug="shop", name="Shop", owner=None, criticality="high")
    result = evaluate(GateRequest(service=service, version=version, paths=[samples / GRYPE]))
    assert result.decision == "blocked"
    run = gate_run_record(result=result, service=service, actor=people.cio)
    return gate_override(run=run, actor=people.cio, reason="launch campaign tomorrow")


@pytest.fixture
def people(samples: Path) -> Org:
    clock.set_now(NOW)
    people = org()
    scan_import(paths=[samples / GRYPE], options=ImportOptions(service=service_upsert(
        slug="shop", name="Shop", owner=None, criticality="high")))  # fmt: skip
    return people


def test_the_job_escalates_only_what_is_overdue_and_unsigned(samples: Path, people: Org) -> None:
    late = _override(samples, people, "1.0")
    signed = _override(samples, people, "1.1")
    gate_override_sign(actor=people.ciso, override=signed)
    clock.set_now(NOW + dt.timedelta(hours=12))
    recent = _override(samples, people, "1.2")

    clock.set_now(NOW + dt.timedelta(hours=24, minutes=1))
    done = escalate_overrides.call()

    assert done == [late.pk]
    statuses = dict(GateOverride.objects.values_list("id", "status"))
    assert statuses == {late.pk: OverrideStatus.ESCALATED, signed.pk: OverrideStatus.CONFIRMED,
                        recent.pk: OverrideStatus.PENDING}  # fmt: skip
    late.refresh_from_db()
    assert late.decision.escalation_level == EscalationLevel.LEADERS
    assert AuditEvent.objects.filter(verb="gate.override.escalated", subject_id=late.pk).exists()
    assert escalate_overrides.call() == []  # once


def test_worker_once_escalates_an_unsigned_override(samples: Path, people: Org) -> None:
    override = _override(samples, people, "2.0")

    clock.set_now(NOW + dt.timedelta(hours=23))
    early = CliRunner().invoke(_app(), ["worker", "--once"])
    override.refresh_from_db()
    status_early = override.status
    clock.set_now(NOW + dt.timedelta(hours=25))
    late = CliRunner().invoke(_app(), ["worker", "--once"])
    override.refresh_from_db()

    assert early.exit_code == 0, early.output
    assert late.exit_code == 0, late.output
    assert "0 failed" in late.output
    assert status_early == OverrideStatus.PENDING
    assert override.status == OverrideStatus.ESCALATED
    assert override.decision.escalation_level == EscalationLevel.LEADERS
