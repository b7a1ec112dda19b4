"""The two Monday-morning tasks, end to end in Chromium, from the homes:

1. the IT lead requests a deferral, the CISO signs it from the CISO home, the CIO from the CIO home;
2. the security lead declares a SEV1 and briefs, the CIO acknowledges from the CIO home.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from detente.acceptances.models import RiskAcceptance
from detente.findings.importer import ImportOptions
from detente.findings.services import scan_import
from detente.incidents.models import Briefing, Incident
from detente.web.tests.conftest import Crew
from detente.web.tests.test_browser import (
    SCAN,
    _expect,
    _open_request_form,
    _request_deferral,
    _tick_kev_findings,
)

pytestmark = pytest.mark.browser


def _needs(page: Any) -> Any:
    return page.locator("section.needs")


def test_it_lead_requests_ciso_then_cio_sign_from_their_homes(
    crew: Crew, session_for: Any, samples: Path
) -> None:
    expect = _expect()
    scan_import(paths=[samples / SCAN], options=ImportOptions(service=crew.shop))

    # the IT lead lands on "My work", then requests a deferral of the KEV findings
    lead = session_for("it_lead")
    lead.goto("/")
    lead.wait_for_url(re.compile(r"/me$"))
    expect(lead.get_by_role("heading", level=1)).to_have_text("My work")
    ticked = _tick_kev_findings(lead)
    expect(lead.locator("#selection-count")).to_have_text(f"{len(ticked)} selected →")
    expect(lead.locator("#selection-bar")).to_have_class(re.compile(r"\bactive\b"))
    _open_request_form(lead)
    _request_deferral(lead, days=3)
    lead.wait_for_url(re.compile(r"/acceptances/\d+$"))
    acceptance = RiskAcceptance.objects.get()

    # the CISO's home says what waits: the signature, linked; the navigation counts it
    ciso = session_for("ciso")
    ciso.goto("/")
    ciso.wait_for_url(re.compile(r"/ciso$"))
    expect(ciso.locator("a.brand .badge")).to_contain_text("1")
    sign = _needs(ciso).get_by_role("link", name=re.compile(rf"^Sign RA-{acceptance.pk} "))
    expect(sign).to_contain_text("as CISO")
    sign.click()
    ciso.wait_for_url(re.compile(rf"/acceptances/{acceptance.pk}$"))
    ciso.get_by_label("Comment").fill("Accepted for one sprint.")
    ciso.get_by_role("button", name="Approve as CISO").click()
    expect(ciso.locator(".msg.success")).to_have_text(
        "Your CISO approval is recorded; waiting for the CIO."
    )
    ciso.goto("/ciso")
    expect(_needs(ciso).get_by_role("link", name=re.compile(r"^Sign RA-"))).to_have_count(0)

    # the requester sees who is left
    lead.goto("/me")
    expect(_needs(lead)).to_contain_text(f"RA-{acceptance.pk}")
    expect(_needs(lead)).to_contain_text("waits for: CIO")

    # the CIO signs from the CIO home; the deferral is approved
    cio = session_for("cio")
    cio.goto("/")
    cio.wait_for_url(re.compile(r"/cio$"))
    _needs(cio).get_by_role("link", name=re.compile(rf"^Sign RA-{acceptance.pk} ")).click()
    cio.get_by_label("Comment").fill("Approved; fix in the next release.")
    cio.get_by_role("button", name="Approve as CIO").click()
    expect(cio.locator(".msg.success")).to_contain_text(
        f"Your CIO approval is recorded; RA-{acceptance.pk} is approved"
    )
    acceptance.refresh_from_db()
    assert acceptance.status == "approved"
    cio.goto("/cio")
    expect(_needs(cio).get_by_role("link", name=re.compile(r"^Sign RA-"))).to_have_count(0)
    expect(cio.locator("a.brand .badge")).to_have_count(0)


def test_security_lead_declares_and_briefs_the_cio_acknowledges_from_the_home(
    crew: Crew, session_for: Any
) -> None:
    from detente.people.models import Role
    from detente.people.services import person_upsert

    expect = _expect()
    lead_person = person_upsert(
        name="Security lead", email="security_lead@example.org", role=Role.SECURITY_LEAD
    )
    from detente.access.services import account_set_password
    from detente.web.tests.conftest import PASSWORD

    account_set_password(person=lead_person, password=PASSWORD)

    # the security lead declares a SEV1 from the incident form and issues the first briefing
    lead = session_for("security_lead")
    lead.goto("/incidents/new")
    lead.get_by_label("Title").fill("Web shell on the shop's front end")
    lead.get_by_label("Severity").select_option("sev1")
    lead.get_by_label("Type").select_option(index=1)
    lead.get_by_label("Incident lead").select_option(str(lead_person.pk))
    lead.get_by_label("Shop").check()
    lead.get_by_role("button", name="Declare").click()
    lead.wait_for_url(re.compile(r"/incidents/\d+$"))
    incident = Incident.objects.get()
    lead.get_by_label("Current status").fill("One host compromised; contained at the firewall.")
    lead.get_by_label("Decisions needed from the CIO (one per line)").fill(
        "Take checkout offline for two hours"
    )
    lead.get_by_role("button", name="Issue briefing").click()
    expect(lead.locator(".msg.success")).to_be_visible()
    briefing = Briefing.objects.get()

    # the CIO's home shows the acknowledgement first, urgent, and the open SEV1
    cio = session_for("cio")
    cio.goto("/")
    cio.wait_for_url(re.compile(r"/cio$"))
    first = _needs(cio).locator("li.need").first
    expect(first).to_have_class(re.compile(r"\burgent\b"))
    expect(first).to_contain_text(f"Acknowledge briefing 1 of INC-{incident.pk}")
    expect(_needs(cio)).to_contain_text(f"SEV1 open: INC-{incident.pk}")
    first.get_by_role("link").click()
    cio.wait_for_url(re.compile(rf"/incidents/{incident.pk}$"))
    cio.get_by_role("button", name="Acknowledge briefing #1").click()
    expect(cio.locator(".msg.success")).to_be_visible()
    briefing.refresh_from_db()
    assert briefing.acknowledged_at is not None

    # the CIO answers the briefing's ask at the top of the incident page
    cio.get_by_label(re.compile(r"Your answer to briefing #1's ask")).fill("Yes, 22:00 to 24:00")
    cio.get_by_role("button", name="Answer ask 1 of briefing #1").click()
    expect(cio.locator(".msg.success")).to_contain_text("is recorded on the timeline")
    expect(cio.locator("#briefing-1 .answers")).to_contain_text("Yes, 22:00 to 24:00")
    expect(cio.locator("#timeline")).to_contain_text("answered briefing #1's ask")

    # acknowledged: it leaves the CIO's list; the SEV1 stays visible while it is open
    cio.goto("/cio")
    expect(_needs(cio)).not_to_contain_text("Acknowledge briefing")
    expect(_needs(cio)).to_contain_text(f"SEV1 open: INC-{incident.pk}")

    # the lead closes the incident: asked to confirm, then the page is read-only
    lead.goto(f"/incidents/{incident.pk}")
    lead.get_by_role("button", name="Close the incident…").click()
    expect(lead.locator("#close-confirm")).to_contain_text("Closing is final")
    lead.get_by_role("button", name=f"Yes, close INC-{incident.pk}").click()
    expect(lead.locator("#read-only")).to_contain_text(f"INC-{incident.pk} is closed")
    expect(lead.locator("main form[method=post]")).to_have_count(0)
    incident.refresh_from_db()
    assert incident.status == "closed"
