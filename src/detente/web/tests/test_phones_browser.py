"""Every main page at 390 × 844 (a phone) and 1440 × 900 (a laptop): a screenshot of each, nothing
wider than the viewport, and axe-core (vendored from npm, injected) finds no violation."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from detente.acceptances.models import ScopeKind
from detente.acceptances.services import acceptance_request
from detente.core import clock
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding
from detente.findings.services import scan_import
from detente.incidents.services import briefing_issue, incident_declare
from detente.tension.services import radar_compute
from detente.tension.signals import Period
from detente.web.tests.conftest import Crew
from detente.web.tests.test_browser import KEV_CVE, SCAN

pytestmark = pytest.mark.browser

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
VIEWPORTS = {"phone": (390, 844), "laptop": (1440, 900)}
PAGES = {
    "cio": ["/cio", "/ciso", "/me", "/findings", "/findings?status=any", "/acceptances",
            "/acceptances/{acceptance}", "/decisions", "/incidents", "/incidents/{incident}",
            "/plan", "/plan/windows", "/radar", "/radar/{period}", "/audit", "/account",
            "/pulse", "/profile", "/imports/new", "/findings/{finding}", "/trends",
            "/incidents/{incident}?confirm=close"],
    "service_owner": ["/me", "/findings", "/acceptances", "/trends"],
    "it_lead": ["/me"],
}  # fmt: skip


@pytest.fixture
def story(crew: Crew, samples: Path) -> dict[str, Any]:
    scan_import(paths=[samples / SCAN], options=ImportOptions(service=crew.shop))
    kev = Finding.objects.filter(vuln_id=KEV_CVE).order_by("id").first()
    assert kev is not None
    acceptance = acceptance_request(
        actor=crew.people["it_lead"], title="Freetype waits for the vendor build",
        scope=ScopeKind.FINDINGS, finding_ids=[kev.pk],
        justification="Shop launch this week; rebuild after it.",
        compensating_controls="WAF rule blocks crafted fonts.",
        until=clock.today() + dt.timedelta(days=3),
    )  # fmt: skip
    ciso, cio = crew.people["ciso"], crew.people["cio"]
    incident = incident_declare(
        actor=ciso, title="Web shell on the shop's front end", type="ransomware", severity="sev1",
        lead=ciso, cio=cio, ciso=ciso, services=[crew.shop], personal_data=True,
        data_categories=["names"],
    )  # fmt: skip
    briefing_issue(
        actor=ciso, incident=incident, status_summary="One host compromised.",
        asks=["Take https://shop.example.org/checkout/very/long/path/that/should/wrap offline"],
    )  # fmt: skip
    period = Period.of(clock.now())
    radar_compute(period=period)
    return {"acceptance": acceptance.pk, "incident": incident.pk, "finding": kev.pk,
            "period": period.label}  # fmt: skip


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def _axe(page: Any) -> list[dict[str, Any]]:
    # evaluate() is not subject to the page's CSP (no inline script is added to the page)
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    return list(found)


@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_fit_a_phone_and_pass_axe(
    crew: Crew, session_for: Any, story: dict[str, Any], role: str, tmp_path: Path
) -> None:
    page = session_for(role)
    problems: dict[str, Any] = {}
    for template in PAGES[role]:
        url = template.format(**story)
        for name, (width, height) in VIEWPORTS.items():
            page.set_viewport_size({"width": width, "height": height})
            response = page.goto(url)
            assert response is not None
            assert response.status == 200, (url, name)
            shot = tmp_path / f"{role}{url.replace('/', '_').replace('?', '_')}-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 1000
            if (extra := _overflow(page)) > 0:
                problems[f"{url} {name}: {extra}px too wide"] = page.evaluate(
                    "[...document.querySelectorAll('body *')].filter(e => "
                    "e.offsetWidth > window.innerWidth).slice(0, 8)"
                    ".map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + e.offsetWidth)"
                )
            if name == "laptop" and (violations := _axe(page)):
                problems[f"{url} axe"] = violations
    assert not problems, json.dumps(problems, indent=1)


def test_the_navigation_collapses_on_a_phone(crew: Crew, session_for: Any) -> None:
    from detente.web.tests.test_browser import _expect

    expect = _expect()
    page = session_for("cio")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/findings")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(page.get_by_role("link", name="Acceptances")).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Acceptances")).to_be_visible()
    expect(page.locator('#main-nav a[aria-current="page"]')).to_have_text("Findings")
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(menu).to_be_hidden()
    expect(page.get_by_role("link", name="Acceptances")).to_be_visible()
