"""The board report's line per exposed API."""

from __future__ import annotations

from detente.api_register.services import api_promote
from detente.api_register.tests.test_workflow import Org, _add, org  # noqa: F401 - the fixture
from detente.reports.board import Quarter, board_figures, render_html


def test_one_line_per_exposed_api(org: Org) -> None:  # noqa: F811
    # given two APIs, one forced public without a pen test, one left internal
    exposed = _add(org, name="items")
    _add(org, name="internal-only")
    api_promote(actor=org["ciso"], api=exposed, to_stage="public", force=True, reason="launch")
    # when the quarter's figures are made
    figures = board_figures(Quarter.parse("2026-Q4"))
    # then only the exposed API has a line, with its test status and open high findings
    lines = [
        (a["name"], a["stage"], a["test"], a["critical"], a["high"]) for a in figures.exposed_apis
    ]
    assert lines == [("items", "public", "none", 0, 1)]
    html = render_html(figures)
    assert "<h2>Exposed APIs</h2>" in html
    assert "<td>items (shop)</td><td>public</td><td>v1</td><td>none</td>" in html
