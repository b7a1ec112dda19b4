"""Initiatives in the board report (a section with each rollout's phase, guardrails and risk
figures) and their chart (threshold, baseline, phase bands)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context

from detente.initiatives.services import phase_pause
from detente.initiatives.tests.conftest import NOW, Org, build_org, create, started
from detente.reports.board import TEMPLATES, _engine
from detente.reports.initiative_charts import Band, guardrail_chart
from detente.reports.initiatives import board_initiatives

H = dt.timedelta(hours=1)


@pytest.fixture
def org(db: None) -> Org:
    return build_org()


def test_the_board_section_shows_each_rollout(org: Org) -> None:
    initiative = create(org)
    phase = started(org, initiative)
    phase_pause(actor=org.ciso, phase=phase, reason="fraud wave")
    rows = board_initiatives()
    assert [(r["id"], r["phase_status"], r["risk_baseline"], r["risk_expected"]) for r in rows] == [
        (initiative.pk, "paused", 42.0, 6.0)
    ]
    html = (
        _engine().get_template("reports/_initiatives.html").render(Context({"initiatives": rows}))
    )
    assert f"<td>IN-{initiative.pk} MFA for online-banking customers</td><td>1 paused</td>" in html
    assert "account-takeover incidents per quarter: 42 → 6</td>" in html
    assert (
        '{% include "reports/_initiatives.html" %}'
        in (TEMPLATES / "reports" / "board.html").read_text()
    )


def test_the_chart_draws_threshold_baseline_and_bands() -> None:
    series = [(NOW + i * H, v) for i, v in enumerate([4.0, 4.2, 9.0, 9.6])]
    svg = guardrail_chart(
        series, title="Drop-off (%)", unit="%", threshold=7.0, baseline=4.0,
        bands=[Band(NOW, NOW + 3 * H, "phase 1", "phase"),
               Band(NOW + 3 * H, NOW + 3 * H, "phase 1 paused", "paused")],
    )  # fmt: skip
    assert svg.startswith('<svg class="chart guardrail" viewBox="0 0 640 220" role="img"')
    assert svg.count('class="threshold"') == 1
    assert svg.count('class="baseline"') == 1
    assert svg.count('class="band phase"') == 1
    assert svg.count('class="band paused"') == 1
    assert "4 points from 2026-10-05 08:00 to 2026-10-05 11:00 UTC; latest 9.6 %" in svg
    assert guardrail_chart([], title="Empty", unit="%", threshold=1, baseline=0) == (
        '<p class="muted">Empty: no points yet.</p>'
    )
