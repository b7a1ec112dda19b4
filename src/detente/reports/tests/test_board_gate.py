"""The board report's release-gate section: which services' pipelines ran the gate in the quarter,
how their runs ended (an override after the quarter leaves the run blocked in it), the scan kinds
they carried, the time releases waited, and the active services that never ran it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from detente.acceptances.tests.factories import GRYPE, org
from detente.core import clock
from detente.findings.tests.factories import LOCAL_LOW, trivy_report, trivy_vuln, write_json
from detente.gates.evaluate import GateRequest, evaluate
from detente.gates.models import GateRun
from detente.gates.services import gate_override, gate_run_record
from detente.inventory.models import BusinessService
from detente.inventory.services import service_upsert
from detente.people.models import Person
from detente.reports.board import Quarter, board_figures, render_html

pytestmark = pytest.mark.django_db
GITLEAKS = "scans/gitleaks/data_many.json"


def _run(at: dt.datetime, service: BusinessService, version: str, paths: list[Path],
         override_by: Person | None = None) -> str:  # fmt: skip
    clock.set_now(at)
    result = evaluate(GateRequest(service=service, version=version, paths=paths))
    run = gate_run_record(result=result, service=service)
    if override_by is not None:
        gate_override(run=run, actor=override_by, reason="contractual launch date")
    return result.decision


def test_the_quarter_gate_lines(samples: Path, tmp_path: Path) -> None:
    clock.set_now(dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    people = org()
    shop = service_upsert(slug="shop", name="Shop", owner=None, criticality="high")
    ledger = service_upsert(slug="ledger", name="Ledger", owner=None, criticality="medium")
    service_upsert(slug="idle", name="Idle Service", owner=None, criticality="low")
    clean = write_json(tmp_path / "clean.json", trivy_report(
        [trivy_vuln("CVE-2024-6000", pkg="zlib", severity="LOW", vector=LOCAL_LOW)]
    ))  # fmt: skip
    grype, secrets = samples / GRYPE, samples / GITLEAKS
    # an organisation that has not adopted the gate gets no gate page
    before = board_figures(Quarter.parse("2026-Q2"))
    assert (before.gate, len(before.gate_missing)) == ([], 3)
    assert "Release gate" not in render_html(before)
    july = dt.datetime(2026, 7, 10, 9, 0, tzinfo=dt.UTC)

    decided = [
        # the quarter before: not counted
        _run(dt.datetime(2026, 6, 20, tzinfo=dt.UTC), ledger, "1.9", [clean]),
        # shop: blocked then overridden the same day; a pass; blocked on the quarter's last
        # days and overridden only after it
        _run(july, shop, "1.0", [grype]),
        _run(july + dt.timedelta(hours=1), shop, "1.0", [grype], override_by=people.cio),
        _run(dt.datetime(2026, 8, 1, tzinfo=dt.UTC), shop, "1.1", [clean]),
        _run(dt.datetime(2026, 9, 29, tzinfo=dt.UTC), shop, "1.2", [grype]),
        # ledger: a secret blocks 2.0, the fixed build of 2.0 passes 30 hours later
        _run(dt.datetime(2026, 8, 3, 9, 0, tzinfo=dt.UTC), ledger, "2.0", [clean, secrets]),
        _run(dt.datetime(2026, 8, 4, 15, 0, tzinfo=dt.UTC), ledger, "2.0", [clean]),
    ]
    assert decided == ["pass", "blocked", "blocked", "pass", "blocked", "blocked", "pass"]
    # the last shop run is overridden after the quarter ended
    clock.set_now(dt.datetime(2026, 10, 2, 9, 0, tzinfo=dt.UTC))
    gate_override(run=GateRun.objects.get(version="1.2"), actor=people.cio, reason="late")

    f = board_figures(Quarter.parse("2026-Q3"))

    by_slug = {g["slug"]: g for g in f.gate}
    assert list(by_slug) == ["ledger", "shop"]
    assert {k: by_slug["shop"][k] for k in ("runs", "passed", "blocked", "overridden",
                                            "override_rate", "open_overrides")} == {
        "runs": 4, "passed": 1, "blocked": 2, "overridden": 1, "override_rate": 25,
        "open_overrides": 1,  # the one overridden in the quarter, still unsigned
    }  # fmt: skip
    assert {k: by_slug["ledger"][k] for k in ("runs", "passed", "blocked", "overridden",
                                              "waited", "lead_time_hours")} == {
        "runs": 2, "passed": 1, "blocked": 1, "overridden": 0, "waited": 1,
        "lead_time_hours": 30.0,
    }  # fmt: skip
    assert by_slug["ledger"]["kinds"] == ["container", "secrets"]
    assert f.gate_missing == ["Idle Service"]

    html = render_html(f)
    section = html[html.index("<h2>Release gate</h2>") :]
    assert "<td>Shop</td><td>High</td>" in section
    assert "1 (25%), 1 unsigned" in section
    assert "1 release, 30.0 h" in section
    assert "No gate run this quarter: Idle Service." in section
