"""API register pages through Django's test client: the register, an API's page, the promotion
form (refused with a message, then forced), and the block on both leaders' views."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from detente.api_register import selectors
from detente.api_register.models import Api, PenTest, Promotion
from detente.api_register.services import api_add, api_update
from detente.api_register.tests.test_rules import HARDENED
from detente.api_register.tests.test_workflow import Org, org  # noqa: F401 - the fixture
from detente.audit.models import AuditEvent
from detente.web.tests.test_incident_pages import signed_in


def _registered(org: Org) -> Api:  # noqa: F811
    weak = copy.deepcopy(HARDENED)
    weak["paths"]["/items/{itemId}"]["put"]["security"] = []
    api = api_add(
        actor=org["engineer"], name="items", service=org.service,
        spec=json.dumps(weak).encode(), file_name="items.json", owners=[org["service_owner"]],
    )  # fmt: skip
    api_update(
        actor=org["engineer"], api=api, spec=json.dumps(HARDENED).encode(), file_name="i.json"
    )
    return api


def test_register_and_api_pages_show_versions_diff_and_gate(org: Org) -> None:  # noqa: F811
    _registered(org)
    client = signed_in(org["auditor"])
    page = client.get("/apis").content.decode()
    assert '<a href="/apis/items">items</a>' in page
    assert '<span class="status none">None recorded</span>' in page  # a label, not the key
    page = client.get("/apis/items").content.decode()
    assert "Security changed: PUT /items/{itemId}" in page  # the change by name, not its key
    assert "security_changed" not in page
    assert "Material for a pen test: <strong>yes</strong>" in page
    assert "To <strong>Partner</strong>: missing — a pen test of v2" in page
    assert "stage <strong>Internal</strong>" in page
    assert ">none<" not in page
    assert ">internal<" not in page
    assert "/apis/items/promote" not in page  # an auditor only reads
    assert client.get("/apis/nope").status_code == 404
    for view in ("/cio", "/ciso"):
        leader = signed_in(org["cio"] if view == "/cio" else org["ciso"])
        assert "APIs waiting for a pen test or promotion" in leader.get(view).content.decode()


def test_promotion_form_refuses_with_a_message_then_forces(org: Org) -> None:  # noqa: F811
    api = _registered(org)
    owner: Client = signed_in(org["service_owner"])
    response = owner.post("/apis/items/promote", {"to": "partner"}, follow=True)
    assert "items cannot go partner: a pen test of v2" in response.content.decode()
    api.refresh_from_db()
    assert api.stage == "internal"
    ciso = signed_in(org["ciso"])
    response = ciso.post(
        "/apis/items/promote", {"to": "partner", "force": "1", "reason": "pilot"}, follow=True
    )
    api.refresh_from_db()
    assert api.stage == "partner"
    assert list(Promotion.objects.order_by("id").values_list("outcome", flat=True)) == [
        "refused", "forced",
    ]  # fmt: skip
    # The promotion history reads stages and outcomes as labels, not keys.
    page = ciso.get("/apis/items").content.decode()
    assert "Internal → Partner <strong>Refused</strong>" in page
    assert "Internal → Partner <strong>Forced past the gate</strong>" in page
    assert "<strong>forced</strong>" not in page


def _file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_an_engineer_adds_an_api_and_uploads_a_version_through_the_forms(
    org: Org,  # noqa: F811
) -> None:
    weak = copy.deepcopy(HARDENED)
    weak["paths"]["/items/{itemId}"]["put"]["security"] = []
    engineer = signed_in(org["engineer"])
    # the register page offers the form to an engineer, not to an auditor
    assert 'id="api-add"' in engineer.get("/apis").content.decode()
    auditor = signed_in(org["auditor"])
    assert 'id="api-add"' not in auditor.get("/apis").content.decode()
    form = {
        "name": "items", "service": "shop", "owners": ["service_owner@example.org"],
        "security_contact": "security_lead@example.org",
    }  # fmt: skip
    # an auditor who posts anyway is refused by the service's rule; nothing is written
    response = auditor.post("/apis", {**form, "spec": _file("i.json", json.dumps(weak).encode())})
    assert response.status_code == 403
    assert "a Auditor does not register APIs" in response.content.decode()
    # a spec that is not YAML: the form shows the loader's message, nothing is written
    response = engineer.post("/apis", {**form, "spec": _file("items.yaml", b"a: [")})
    assert response.status_code == 400
    assert "items.yaml, record document: not valid YAML" in response.content.decode()
    # a bad name is refused by the form itself
    response = engineer.post("/apis", {**form, "name": "../x", "spec": _file("i.json", b"{}")})
    assert response.status_code == 400
    assert "use letters, digits" in response.content.decode()
    assert Api.objects.count() == 0
    # when the engineer registers it
    response = engineer.post(
        "/apis", {**form, "spec": _file("items.json", json.dumps(weak).encode())}, follow=True
    )
    # then it is registered, audited, and its page shows the finding
    assert response.redirect_chain == [("/apis/items", 302)]
    page = response.content.decode()
    assert "items registered at internal" in page
    assert "DET-API2-002" in page
    api = Api.objects.get()
    assert [o.email for o in api.owners.all()] == ["service_owner@example.org"]
    assert api.security_contact == org["security_lead"]
    # when the engineer uploads the fixed spec as a new version
    response = engineer.post(
        "/apis/items/versions", {"spec": _file("items.json", json.dumps(HARDENED).encode())},
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    assert "v2 uploaded and audited: clean" in page
    assert "Material for a pen test: <strong>yes</strong>" in page
    # the same bytes again store nothing
    response = engineer.post(
        "/apis/items/versions", {"spec": _file("again.json", json.dumps(HARDENED).encode())},
        follow=True,
    )  # fmt: skip
    assert "unchanged (same sha256 as v2); nothing stored" in response.content.decode()
    assert api.versions.count() == 2


def test_the_forms_need_the_csrf_token(org: Org) -> None:  # noqa: F811
    _registered(org)
    lead = signed_in(org["security_lead"])
    lead.handler.enforce_csrf_checks = True
    response = lead.post(
        "/apis/items/pentests",
        {"version": "2", "started_on": "2026-10-01", "ended_on": "2026-10-02", "tester": "A",
         "tester_kind": "firm"},
    )  # fmt: skip
    assert response.status_code == 403
    assert PenTest.objects.count() == 0


def test_a_security_lead_records_a_pen_test_with_its_report_and_roles_read_it(
    org: Org,  # noqa: F811
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.DATA_DIR = tmp_path
    settings.DETENTE_MAX_REPORT_BYTES = 100
    api = _registered(org)
    engineer = signed_in(org["engineer"])
    assert 'id="api-pentest"' not in engineer.get("/apis/items").content.decode()
    lead = signed_in(org["security_lead"])
    page = lead.get("/apis/items").content.decode()
    assert 'id="api-pentest"' in page
    assert '<option value="2" selected>v2</option>' in page
    fields = {
        "version": "2", "started_on": "2026-10-20", "ended_on": "2026-10-27",
        "tester": "Northwind Security", "tester_kind": "firm", "method": "grey-box",
        "scope": "GET /items/{itemId}\n  PUT   /items/{itemId} \n",
    }  # fmt: skip
    # an engineer posting anyway is refused by the service's rule
    response = engineer.post("/apis/items/pentests", fields)
    assert response.status_code == 403
    assert "does not record pen tests" in response.content.decode()
    # a scope that names no operation of v2: the service's message on the scope field
    response = lead.post("/apis/items/pentests", {**fields, "scope": "GET /nope"})
    assert response.status_code == 400
    assert "not operations of v2: GET /nope" in response.content.decode()
    # a report over the limit: refused by the form, nothing recorded or kept
    response = lead.post("/apis/items/pentests", {**fields, "report": _file("r.pdf", b"x" * 101)})
    assert response.status_code == 400
    assert "r.pdf: report is over the 100 byte limit" in response.content.decode()
    assert PenTest.objects.count() == 0
    assert not (tmp_path / "pentest-reports").exists()
    # when the security lead records it with the report
    response = lead.post(
        "/apis/items/pentests", {**fields, "report": _file("northwind.pdf", b"%PDF-1.4 r")},
        follow=True,
    )  # fmt: skip
    test = PenTest.objects.get()
    assert f"pen test {test.pk} of v2 recorded" in response.content.decode()
    assert (test.version.number, test.scope, test.report_name) == (
        2, ["GET /items/{itemId}", "PUT /items/{itemId}"], "northwind.pdf",
    )  # fmt: skip
    assert selectors.pentest_status(api, selectors.api_policy().gates["partner"]).status == (
        "valid"
    )
    # the auditor downloads the report; the engineer may not
    auditor = signed_in(org["auditor"])
    url = f"/apis/items/pentests/{test.pk}/report"
    assert f'href="{url}"' in auditor.get("/apis/items").content.decode()
    response = auditor.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 r"  # type: ignore[attr-defined]
    assert f'href="{url}"' not in engineer.get("/apis/items").content.decode()
    assert engineer.get(url).status_code == 403
    # the lead replaces the report from the pen-test row
    response = lead.post(f"{url}/attach", {"report": _file("final.pdf", b"%PDF-1.4 final")},
                         follow=True)  # fmt: skip
    assert f"report attached to pen test {test.pk}" in response.content.decode()
    test.refresh_from_db()
    assert Path(test.report_path).read_bytes() == b"%PDF-1.4 final"
    assert AuditEvent.objects.filter(verb="api.pentest_report_attached").count() == 1


_SARIF = {
    "version": "2.1.0",
    "runs": [{
        "tool": {"driver": {"name": "Northwind pen test", "rules": [
            {"id": "NW-BOLA-1", "shortDescription": {"text": "Another user's item is readable"}},
        ]}},
        "results": [{
            "ruleId": "NW-BOLA-1", "level": "error",
            "message": {"text": "GET /items/{itemId} returns another tenant's item"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "items-api"}}}],
        }],
    }],
}  # fmt: skip


def test_a_pen_test_recorded_on_the_page_imports_its_findings_file(
    org: Org,  # noqa: F811
    settings: Any,
    tmp_path: Path,
) -> None:
    from detente.findings.models import Finding

    settings.DATA_DIR = tmp_path
    api = _registered(org)
    lead = signed_in(org["security_lead"])
    fields = {
        "version": "2", "started_on": "2026-10-20", "ended_on": "2026-10-27",
        "tester": "Northwind Security", "tester_kind": "firm",
    }  # fmt: skip
    before = Finding.objects.filter(asset_id=api.asset_id).count()
    # a findings file that is no report at all: refused on the page, nothing recorded
    response = lead.post(
        "/apis/items/pentests", {**fields, "findings": _file("notes.json", b"{not json")}
    )
    assert response.status_code == 400
    assert PenTest.objects.count() == 0
    assert Finding.objects.filter(asset_id=api.asset_id).count() == before
    # a SARIF file: the pen test is recorded with its import, the finding lands on the API's asset
    response = lead.post(
        "/apis/items/pentests",
        {**fields, "findings": _file("northwind.sarif", json.dumps(_SARIF).encode())},
        follow=True,
    )
    test = PenTest.objects.get()
    assert f"pen test {test.pk} of v2 recorded" in response.content.decode()
    assert test.scan is not None
    added = Finding.objects.filter(asset_id=api.asset_id, last_import=test.scan)
    assert [f.vuln_id for f in added] == ["NW-BOLA-1"]
