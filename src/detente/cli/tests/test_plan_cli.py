"""Patch planning from the command line: windows, a plan with its misses, what-if, ICS export,
and a miss turned into an acceptance request."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from detente.acceptances.models import RiskAcceptance
from detente.cli.main import build_app
from detente.findings.importer import ImportOptions
from detente.findings.services import scan_import
from detente.inventory.services import service_upsert
from detente.people.models import Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(samples: Path) -> None:
    owner = person_upsert(name="Owner", email="owner@example.org", role=Role.SERVICE_OWNER)
    person_upsert(name="Change", email="change@example.org", role=Role.CHANGE_MANAGER)
    person_upsert(name="IT", email="it@example.org", role=Role.IT_LEAD)
    shop = service_upsert(slug="shop", name="Shop", owner=owner)
    scan_import(
        paths=[samples / "scans/anchore_grype/many_vulns3.json"],
        options=ImportOptions(service=shop),
    )


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(build_app(), list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_plan_end_to_end(org: None, tmp_path: Path) -> None:
    runner = CliRunner()
    as_change = ["--as", "change@example.org"]
    _ok(runner, "plan", "window", "add", "shop", "--name", "Tuesday", "--rrule",
        "FREQ=WEEKLY;BYDAY=TU", "--start", "22:00", "--tz", "Europe/Paris", "--minutes", "120",
        "--capacity", "2", "--unit", "slots", *as_change)  # fmt: skip
    (made,) = json.loads(_ok(runner, "plan", "make", "--format", "json", *as_change))
    assert made["items"] > 0
    assert made["planned"] <= made["items"]  # a planned item can still miss its deadline
    assert made["missed"] <= made["items"]
    misses = json.loads(_ok(runner, "plan", "show", "--misses", "--format", "json"))
    assert len(misses) == min(made["missed"], 200)
    assert all(row["miss"] for row in misses)

    what_if = json.loads(
        _ok(runner, "plan", "what-if", "--scenario", "add-window:shop", "--format", "json")
    )
    assert what_if  # the baseline and the scenario, side by side

    ics = tmp_path / "plan.ics"
    _ok(runner, "plan", "export", "--out", str(ics))
    calendar = icalendar.Calendar.from_ical(ics.read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert events
    assert all(e.get("DTSTART") is not None for e in events)

    if made["missed"]:
        item = misses[0]["id"]
        why = "Ships with the January release."
        _ok(runner, "plan", "defer", str(item), "--justification", why, "--as", "it@example.org")
        assert RiskAcceptance.objects.count() == 1
