"""End to end in headless Chromium against the live server: upload, request, sign, refuse."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from detente.acceptances.models import RiskAcceptance, Signature
from detente.core import clock
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding, ScanImport
from detente.findings.services import scan_import
from detente.web.tests.conftest import PASSWORD, Crew

pytestmark = pytest.mark.browser

KEV_CVE = "CVE-2020-15999"
SCAN = "scans/trivy/scheme_2_many_vulns.json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _tick_kev_findings(page: Any) -> list[int]:
    """On the findings page, filter to KEV and tick the rows of ``KEV_CVE``; return their ids."""
    page.goto("/findings")
    page.get_by_label("exploited (KEV)").check()
    page.get_by_label("CVE").fill(KEV_CVE)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"exploited=1"))
    rows = page.locator("table.grid tbody tr").filter(has_text=KEV_CVE)
    _expect()(rows.first).to_contain_text("KEV")
    ids: list[int] = []
    for box in rows.locator("input[name=finding]").all():
        box.check()
        ids.append(int(box.get_attribute("value") or "0"))
    assert ids
    return ids


def _open_request_form(page: Any) -> None:
    page.get_by_role("button", name="Request a deferral for the selected findings").click()
    page.wait_for_url(re.compile(r"/acceptances/new"))


def _request_deferral(page: Any, *, days: int) -> None:
    """Fill in and send the open request form."""
    page.get_by_label("Title").fill("Freetype fix waits for the vendor build")
    page.get_by_label("Business justification").fill("Shop launch this week; rebuild after it.")
    page.get_by_label("Compensating controls").fill("WAF rule blocks crafted fonts; no uploads.")
    page.get_by_label("Defer until").fill((clock.today() + dt.timedelta(days=days)).isoformat())
    page.get_by_role("button", name="Request", exact=True).click()


def test_upload_request_and_two_signatures(
    crew: Crew, session_for: Any, samples: Path, tmp_path: Path
) -> None:
    expect = _expect()
    lead = session_for("it_lead")

    # Upload a real scan: the page posts by XHR (JSON), then navigates to the summary.
    lead.goto("/imports/new")
    lead.get_by_label("Scanner file").set_input_files(samples / SCAN)
    lead.get_by_label("Business service").select_option("shop")
    with lead.expect_response(lambda r: r.url.endswith("/imports/new")) as posted:
        lead.get_by_role("button", name="Import").click()
    response = posted.value
    assert response.status == 201  # JSON; its body is gone once the script navigates on
    assert response.request.headers.get("accept", "").startswith("application/json")
    lead.wait_for_url(re.compile(r"/imports/\d+$"))
    scan = ScanImport.objects.get()
    assert lead.url.endswith(f"/imports/{scan.pk}")
    assert scan.new > 0
    expect(lead.get_by_role("heading", level=1)).to_have_text("Imported scheme_2_many_vulns.json")
    expect(lead.locator("[data-count=new]")).to_have_text(str(scan.new))
    assert Finding.objects.filter(vuln_id=KEV_CVE, kev=True).exists()

    # Request an acceptance for the KEV finding(s).
    ids = _tick_kev_findings(lead)
    _open_request_form(lead)
    _request_deferral(lead, days=3)
    lead.wait_for_url(re.compile(r"/acceptances/\d+$"))
    expect(lead.locator("#acceptance-status")).to_have_text("Requested")
    expect(lead.locator(".msg.success")).to_contain_text("requested")
    acceptance = RiskAcceptance.objects.get()
    assert acceptance.status == "requested"
    assert sorted(acceptance.items.values_list("finding_id", flat=True)) == sorted(ids)
    assert set(acceptance.required_roles) == {"ciso", "cio"}
    # The requester cannot approve their own request.
    expect(lead.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)

    url = f"/acceptances/{acceptance.pk}"
    ciso = session_for("ciso")
    cio = session_for("cio")
    for page, role, after in ((ciso, "CISO", "Requested"), (cio, "CIO", "Approved")):
        page.goto(url)
        page.get_by_label("Comment").fill(f"Accepted by the {role} for one sprint.")
        page.get_by_role("button", name=f"Approve as {role}").click()
        expect(page.locator("#acceptance-status")).to_have_text(after)
        expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    # The CISO's session is its own: a reload there shows the final state too.
    ciso.reload()
    expect(ciso.locator("#acceptance-status")).to_have_text("Approved")
    expect(ciso.locator("td.finding-status")).to_have_count(len(ids))
    for cell in ciso.locator("td.finding-status").all():
        expect(cell).to_have_text("Accepted")

    acceptance.refresh_from_db()
    assert acceptance.status == "approved"
    assert sorted(acceptance.signatures.values_list("role", flat=True)) == ["cio", "ciso"]
    assert set(Finding.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"accepted"}

    # One full-page screenshot of the CISO view.
    ciso.goto("/ciso")
    expect(ciso.get_by_role("heading", level=1)).to_be_visible()
    shot = tmp_path / "ciso.png"
    ciso.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert len(data) > 1000
    assert data.startswith(PNG_MAGIC)


def test_refusals_show_an_error_and_change_nothing(
    crew: Crew, session_for: Any, samples: Path
) -> None:
    expect = _expect()
    scan_import(paths=[samples / SCAN], options=ImportOptions(service=crew.shop))
    lead = session_for("it_lead")

    # Deferral beyond the policy maximum: the page says why, nothing is stored.
    _tick_kev_findings(lead)
    _open_request_form(lead)
    # The date input's max is the policy's latest date: the browser itself refuses to send.
    _request_deferral(lead, days=400)
    assert lead.locator("#until").evaluate("(input) => input.validity.rangeOverflow")
    assert not RiskAcceptance.objects.exists()
    # Without that hint (a forged form), the service refuses.
    lead.locator("#until").evaluate("(input) => input.removeAttribute('max')")
    lead.get_by_role("button", name="Request", exact=True).click()
    error = lead.locator(".msg.error")
    expect(error).to_contain_text("at most")
    expect(lead.get_by_role("heading", level=1)).to_have_text("Request a deferral")
    assert not RiskAcceptance.objects.exists()

    # The form kept its findings; a valid end date goes through. An engineer may look, not sign.
    _request_deferral(lead, days=3)
    lead.wait_for_url(re.compile(r"/acceptances/\d+$"))
    acceptance = RiskAcceptance.objects.get()
    engineer = session_for("engineer")
    engineer.goto(f"/acceptances/{acceptance.pk}")
    expect(engineer.locator("#acceptance-status")).to_have_text("Requested")
    expect(engineer.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    expect(engineer.get_by_role("button", name="Reject")).to_have_count(0)

    # Forge the approval with the page's own CSRF token, as a real form submission.
    engineer.evaluate(
        """(action) => {
            const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
            const form = document.createElement("form");
            form.method = "post";
            form.action = action;
            for (const [name, value] of [["csrfmiddlewaretoken", token], ["comment", "lgtm"]]) {
                const input = document.createElement("input");
                input.type = "hidden";
                input.name = name;
                input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""",
        f"/acceptances/{acceptance.pk}/sign",
    )
    engineer.wait_for_load_state()
    expect(engineer.locator(".msg.error")).to_be_visible()
    expect(engineer.locator("#acceptance-status")).to_have_text("Requested")
    assert not Signature.objects.exists()
    acceptance.refresh_from_db()
    assert acceptance.status == "requested"


def test_signed_out_visitor_is_sent_to_sign_in(crew: Crew, session_for: Any) -> None:
    page = session_for(None)
    page.goto("/findings")
    assert re.search(r"/login\?next=%2Ffindings$", page.url), page.url
    _expect()(page.get_by_role("heading", level=1)).to_have_text("Sign in to Détente")


def test_keyboard_only_sign_in(crew: Crew, session_for: Any) -> None:
    page = session_for(None)
    page.goto("/login?next=/findings")
    # The e-mail field has focus on load; Tab reaches the password, Enter submits.
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type("ciso@example.org")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/findings$"))
    _expect()(page.get_by_role("heading", level=1)).to_have_text("Findings")
