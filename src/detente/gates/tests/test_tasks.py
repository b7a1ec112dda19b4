"""The worker's job escalates gate overrides left without their second signature (``detente
worker --once`` running it: cli/tests/test_gate_worker.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from detente.acceptances.tests.factories import GRYPE, NOW, Org, org
from detente.audit.models import AuditEvent
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


def make_override(samples: Path, people: Org, version: str) -> GateOverride:
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
    late = make_override(samples, people, "1.0")
    signed = make_override(samples, people, "1.1")
    gate_override_sign(actor=people.ciso, override=signed)
    clock.set_now(NOW + dt.timedelta(hours=12))
    recent = make_override(samples, people, "1.2")

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
