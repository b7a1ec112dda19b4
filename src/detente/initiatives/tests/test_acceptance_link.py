"""A temporary risk acceptance covering a phase's window of partial enforcement: it may not outlive
the phase, and it ends when the phase does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from detente.acceptances.models import RiskAcceptance
from detente.acceptances.services import acceptance_request, acceptance_sign
from detente.acceptances.tests.factories import import_grype
from detente.core import clock
from detente.core.errors import PermissionDenied, RuleViolation
from detente.initiatives.services import phase_complete, phase_link_acceptance
from detente.initiatives.tests.conftest import Org, create, started


def _acceptance(org: Org, samples: Path, days: int) -> RiskAcceptance:
    findings = import_grype(samples)["CVE-2021-32626"]
    return acceptance_request(
        actor=org.engineer, title="Legacy login until MFA is everywhere", scope="findings",
        justification="Password-only login stays for the cohorts not yet enrolled",
        compensating_controls="Rate limits and bot detection on the login",
        until=clock.today() + dt.timedelta(days=days), finding_ids=[f.pk for f in findings],
    )  # fmt: skip


def test_the_acceptance_ends_with_the_phase(org: Org, samples: Path) -> None:
    phase = started(org, create(org))  # planned end 2026-10-18, today 2026-10-05
    too_long = _acceptance(org, samples, days=20)
    with pytest.raises(RuleViolation, match="a phase's acceptance ends with the phase"):
        phase_link_acceptance(actor=org.cio, phase=phase, acceptance=too_long)
    with pytest.raises(PermissionDenied):
        phase_link_acceptance(actor=org.engineer, phase=phase, acceptance=too_long)
    phase.refresh_from_db()
    assert phase.acceptance is None

    fitting = _acceptance(org, samples, days=10)
    acceptance_sign(actor=org.ciso, acceptance=fitting)
    acceptance_sign(actor=org.cio, acceptance=fitting)
    linked = phase_link_acceptance(actor=org.ciso, phase=phase, acceptance=fitting)
    assert linked.acceptance == fitting

    phase_complete(actor=org.cio, phase=phase)
    fitting.refresh_from_db()
    assert fitting.status == "revoked"
