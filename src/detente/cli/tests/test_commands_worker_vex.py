"""``detente worker --once`` and ``detente vex export`` as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import typer
from pytest_django.fixtures import Settings
from typer.testing import CliRunner

from detente.acceptances.tests.factories import NOW, approved, import_grype, org
from detente.cli import commands_vex, commands_worker
from detente.core import clock
from detente.notifications.models import OutboxMessage, OutboxStatus
from detente.notifications.tests.servers import http_receiver, smtp_server
from detente.tension.models import TensionSnapshot
from detente.tension.signals import Period

pytestmark = pytest.mark.django_db


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Détente (test shell)."""

    commands_worker.register(app)
    commands_vex.register(app)
    return app


def test_worker_once_sends_the_t_minus_7_reminders_by_mail_and_webhook(
    samples: Path, settings: Settings
) -> None:
    clock.set_now(NOW)
    acceptance = approved(org(), import_grype(samples)["CVE-2021-32626"], days=6)
    with smtp_server() as server, http_receiver(200) as receiver:
        settings.DETENTE_SMTP_HOST = server.host
        settings.DETENTE_SMTP_PORT = server.port
        settings.DETENTE_SMTP_STARTTLS = False
        settings.DETENTE_WEBHOOKS = json.dumps([{"url": receiver.url, "kind": "slack"}])
        result = CliRunner().invoke(_app(), ["worker", "--once"])
        again = CliRunner().invoke(_app(), ["worker", "--once"])

    assert result.exit_code == 0, result.output
    # 3 acceptance jobs + incidents + gate overrides + the radar + initiatives (guardrails)
    assert "worker round: 7 task(s) run, 0 failed" in result.output
    assert TensionSnapshot.objects.filter(period=Period.of(NOW).label).exists()
    assert again.exit_code == 0
    subject = f"RA-{acceptance.pk} expires in 7 days"
    assert sorted((to[0], m["Subject"]) for _, to, m in server.mailbox.messages) == [
        ("carla@example.org", subject), ("eva@example.org", subject),
        ("ivo@example.org", subject),
    ]  # fmt: skip
    assert [r.body["text"].split(":")[0] for r in receiver.requests] == [subject]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_vex_export_writes_a_file_or_stdout(samples: Path, tmp_path: Path) -> None:
    clock.set_now(NOW)
    approved(org(), import_grype(samples)["CVE-2021-32626"], days=10)
    target = tmp_path / "vex.json"

    written = CliRunner().invoke(
        _app(), ["vex", "export", "--format", "openvex", "-o", str(target)]
    )
    printed = CliRunner().invoke(_app(), ["vex", "export", "--format", "cyclonedx"])
    wrong = CliRunner().invoke(_app(), ["vex", "export", "--format", "csaf"])

    assert written.exit_code == 0, written.output
    doc = json.loads(target.read_text())
    assert [s["vulnerability"]["name"] for s in doc["statements"]] == ["CVE-2021-32626"]
    assert printed.exit_code == 0, printed.output
    assert [v["id"] for v in json.loads(printed.stdout)["vulnerabilities"]] == ["CVE-2021-32626"]
    assert wrong.exit_code == 2
    clock.advance(dt.timedelta(days=30))
    assert (
        json.loads(CliRunner().invoke(_app(), ["vex", "export"]).stdout).get("vulnerabilities", [])
        == []
    )
