"""``detente worker --once`` escalates a gate override left without its second signature past the
policy's hours (the job is one of the round's)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from detente.acceptances.tests.factories import NOW, Org
from detente.cli import commands_worker
from detente.core import clock
from detente.decisions.models import EscalationLevel
from detente.gates.models import OverrideStatus
from detente.gates.tests.test_tasks import make_override, people

pytestmark = pytest.mark.django_db
__all__ = ["people"]  # the fixture


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Détente (test shell)."""

    commands_worker.register(app)
    return app


def test_worker_once_escalates_an_unsigned_override(samples: Path, people: Org) -> None:
    override = make_override(samples, people, "2.0")

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
