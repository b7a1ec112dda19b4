"""The API register in headless Chromium: an engineer adds an API by uploading its spec and sees
the audit's findings; the CISO records a pen test of that version with its report; the CIO
promotes the API to partner and the page shows the move."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from detente.api_register.models import Api, PenTest
from detente.api_register.tests.test_rules import HARDENED
from detente.core import clock
from detente.web.tests.conftest import Crew

pytestmark = pytest.mark.browser


def test_add_upload_see_findings_pentest_and_promote(
    crew: Crew, session_for: Callable[..., Any], tmp_path: Path, settings: Any
) -> None:
    settings.DATA_DIR = tmp_path
    # a spec whose one read operation is unsecured: a medium finding, which does not block
    weak = copy.deepcopy(HARDENED)
    weak["paths"]["/items/{itemId}"]["get"]["security"] = []
    spec = tmp_path / "items.json"
    spec.write_text(json.dumps(weak))
    report = tmp_path / "northwind-report.pdf"
    report.write_bytes(b"%PDF-1.4 findings: none")

    engineer = session_for("engineer")
    engineer.goto("/apis")
    engineer.get_by_text("Add an API").click()
    engineer.get_by_label("Name").fill("items")
    engineer.get_by_label("Service").select_option(label="Shop")
    engineer.get_by_label("OpenAPI spec").set_input_files(str(spec))
    engineer.get_by_role("button", name="Register and audit").click()
    engineer.get_by_text("items registered at internal").wait_for()
    findings = engineer.locator("section[aria-labelledby=findings-heading]")
    assert "DET-API2-003" in findings.inner_text()
    assert "Medium" in findings.inner_text()  # the label, not the key
    # an engineer gets no pen-test form
    assert engineer.locator("#api-pentest").count() == 0

    ciso = session_for("ciso")
    ciso.goto("/apis/items")
    assert "missing — a pen test of v1" in ciso.locator("#gate-heading + p").inner_text()
    ciso.get_by_text("Record a pen test").click()
    today = clock.today().isoformat()
    ciso.get_by_label("Started on").fill(today)
    ciso.get_by_label("Ended on").fill(today)
    ciso.get_by_label("Tester or firm").fill("Northwind Security")
    ciso.get_by_label("Method").fill("grey-box")
    ciso.get_by_label("Scope").fill("GET /items/{itemId}\nPUT /items/{itemId}")
    ciso.get_by_label("Report file").set_input_files(str(report))
    ciso.get_by_role("button", name="Record the pen test").click()
    ciso.get_by_text(re.compile(r"pen test \d+ of v1 recorded")).wait_for()
    test = PenTest.objects.get()
    assert (test.tester, test.report_name) == ("Northwind Security", "northwind-report.pdf")
    assert ciso.get_by_role("link", name="northwind-report.pdf").count() == 1
    gate = ciso.locator("section[aria-labelledby=gate-heading]").inner_text()
    assert "To Partner: the gate holds." in gate

    cio = session_for("cio")
    cio.goto("/apis/items")
    cio.locator("#api-promote select[name=to]").select_option("partner")
    cio.get_by_role("button", name="Change stage").click()
    cio.get_by_text("items: internal → partner").wait_for()
    assert (
        "Internal → Partner Promoted"
        in cio.locator("section[aria-labelledby=history-heading]").inner_text()
    )
    assert Api.objects.get().stage == "partner"
    cio.goto("/apis")
    assert "items" in cio.locator("section[aria-labelledby=stage-partner]").inner_text()
