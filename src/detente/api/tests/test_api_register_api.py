"""The API register through the REST API: register, version, diff, audit, pen test, promote."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from detente.api.tests.conftest import World
from detente.api_register.models import Api, PenTest, Promotion
from detente.api_register.tests.test_rules import HARDENED
from detente.audit.models import AuditEvent
from detente.core import clock


def _call(
    client: Client, method: str, url: str, token: str | None, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "get":
        response = client.get(url, headers=headers)
    else:
        response = client.post(
            url, data=json.dumps(body or {}), content_type="application/json", headers=headers
        )
    return response.status_code, response.json()


def test_register_version_diff_audit_pentest_and_promote(client: Client, world: World) -> None:
    clock.set_now(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    weak = copy.deepcopy(HARDENED)
    weak["paths"]["/items/{itemId}"]["put"]["security"] = []
    body = {
        "name": "items", "service": "shop", "spec": json.dumps(weak), "file_name": "items.json",
        "owners": ["service_owner@example.org"], "security_contact": "security_lead@example.org",
    }  # fmt: skip
    # a read-only token cannot register; a bad spec is 422 with the one error model
    status, error = _call(client, "post", "/api/apis", world.tokens["engineer:read"], body)
    assert (status, error["error"]["code"]) == (403, "forbidden")
    status, error = _call(
        client, "post", "/api/apis", world.tokens["engineer"], {**body, "spec": "a: ["}
    )
    assert status == 422
    assert error["error"]["message"].startswith("items.json, record document: not valid YAML")
    assert Api.objects.count() == 0
    # register
    status, created = _call(client, "post", "/api/apis", world.tokens["engineer"], body)
    assert status == 201
    assert (created["stage"], created["versions"][0]["audit"]) == ("internal", {"high": 1})
    assert [f["vuln_id"] for f in created["findings"]] == ["DET-API2-002"]
    # a fixed version closes it
    status, version = _call(client, "post", "/api/apis/items/versions", world.tokens["engineer"],
                            {"spec": json.dumps(HARDENED), "file_name": "items.json"})  # fmt: skip
    assert (status, version["number"], version["changed"], version["audit"]) == (200, 2, True, {})
    status, diff = _call(client, "get", "/api/apis/items/diff", world.tokens["auditor"])
    assert (status, diff["from"], diff["to"], diff["security_changed"], diff["material"]) == (
        200, 1, 2, ["PUT /items/{itemId}"], True,
    )  # fmt: skip
    status, results = _call(client, "post", "/api/apis/items/audit", world.tokens["engineer"])
    assert (status, results) == (200, [])
    status, sarif = _call(client, "get", "/api/apis/items/sarif", world.tokens["auditor"])
    assert (status, sarif["runs"][0]["tool"]["driver"]["name"]) == (200, "detente-api")
    # promotion refused without a pen test: 409 with what is missing, recorded
    status, error = _call(client, "post", "/api/apis/items/promote", world.tokens["cio"],
                          {"to": "public"})  # fmt: skip
    assert (status, error["error"]["code"]) == (409, "refused")
    assert "a pen test of v2" in error["error"]["message"]
    assert Promotion.objects.get().outcome == "refused"
    status, test = _call(client, "post", "/api/apis/items/pentests",
                         world.tokens["security_lead"],
                         {"started_on": "2026-01-01", "ended_on": "2026-01-05",
                          "tester": "ACME"})  # fmt: skip
    assert (status, test["version"]) == (201, 2)
    status, promoted = _call(client, "post", "/api/apis/items/promote", world.tokens["cio"],
                             {"to": "partner"})  # fmt: skip
    assert (status, promoted) == (
        200,
        {"outcome": "promoted", "from_stage": "internal", "to_stage": "partner", "missing": []},
    )
    status, rows = _call(client, "get", "/api/apis", world.tokens["auditor"])
    assert [(r["name"], r["stage"], r["test"], r["exposed"]) for r in rows] == [
        ("items", "partner", "valid", True)
    ]
    status, error = _call(client, "get", "/api/apis/nope", world.tokens["auditor"])
    assert status == 404


def test_an_unknown_stage_filter_is_bad_input_naming_the_stages(
    client: Client, world: World
) -> None:
    status, error = _call(client, "get", "/api/apis?stage=%C3%9C", world.tokens["auditor"])

    assert status == 422
    assert error["error"]["field"] == "stage"
    assert error["error"]["message"] == (
        "field 'stage': unknown stage 'Ü'; the policy's stages are internal, partner, public"
    )
    assert _call(client, "get", "/api/apis?stage=public", world.tokens["auditor"]) == (200, [])


def test_a_pen_test_report_is_attached_by_multipart_and_read_by_permitted_roles(
    client: Client, world: World, settings: Any, tmp_path: Any
) -> None:
    settings.DATA_DIR = tmp_path
    settings.DETENTE_MAX_REPORT_BYTES = 64
    clock.set_now(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    body = {"name": "items", "service": "shop", "spec": json.dumps(HARDENED),
            "owners": ["service_owner@example.org"]}  # fmt: skip
    assert _call(client, "post", "/api/apis", world.tokens["engineer"], body)[0] == 201
    status, test = _call(client, "post", "/api/apis/items/pentests",
                         world.tokens["security_lead"],
                         {"started_on": "2026-02-01", "ended_on": "2026-02-05",
                          "tester": "ACME"})  # fmt: skip
    assert status == 201
    url = f"/api/apis/items/pentests/{test['id']}/report"

    def upload(role: str, content: bytes, name: str = "acme-report.pdf") -> Any:
        return client.post(
            url,
            data={"file": SimpleUploadedFile(name, content)},
            headers={"Authorization": f"Bearer {world.tokens[role]}"},
        )

    # an engineer may not attach; a read-only token neither; nothing is kept
    assert upload("engineer", b"%PDF-1.4 x").status_code == 403
    assert upload("security_lead:read", b"%PDF-1.4 x").status_code == 403
    # over the size limit: 422 naming the file and the limit, nothing kept
    response = upload("security_lead", b"%PDF" + b"x" * 64)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "acme-report.pdf: report is over the 64 byte limit (DETENTE_MAX_REPORT_BYTES)"
    )
    assert list((tmp_path / "pentest-reports").iterdir()) == []
    assert PenTest.objects.get().report_sha256 == ""
    # the security lead attaches it
    response = upload("security_lead", b"%PDF-1.4 the report")
    assert response.status_code == 200
    sha = hashlib.sha256(b"%PDF-1.4 the report").hexdigest()
    assert response.json() == {
        "id": test["id"], "version": 1, "digest": test["digest"],
        "report": "acme-report.pdf", "report_sha256": sha,
    }  # fmt: skip
    assert (tmp_path / "pentest-reports" / f"{sha}.pdf").read_bytes() == b"%PDF-1.4 the report"
    attached = AuditEvent.objects.filter(verb="api.pentest_report_attached").get()
    assert attached.after is not None
    assert attached.after["report_sha256"] == sha

    def download(role: str) -> Any:
        return client.get(url, headers={"Authorization": f"Bearer {world.tokens[role]}"})

    # the auditor, the CIO and the API's owner read it; an engineer and a change manager do not
    for role in ("auditor", "cio", "service_owner:read"):
        response = download(role)
        assert response.status_code == 200, role
        assert b"".join(response.streaming_content) == b"%PDF-1.4 the report"
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="acme-report.pdf"'
    for role in ("engineer", "change_manager"):
        response = download(role)
        assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
    assert AuditEvent.objects.filter(verb="api.pentest_report_read").count() == 3
    # an unknown pen test is 404
    missing = client.get(
        "/api/apis/items/pentests/999/report",
        headers={"Authorization": f"Bearer {world.tokens['auditor']}"},
    )
    assert missing.status_code == 404


def test_a_pen_test_s_findings_arrive_after_it_was_recorded(
    client: Client, world: World, settings: Any, tmp_path: Any
) -> None:
    from detente.findings.models import Finding

    settings.DATA_DIR = tmp_path
    clock.set_now(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    body = {"name": "items", "service": "shop", "spec": json.dumps(HARDENED),
            "owners": ["service_owner@example.org"]}  # fmt: skip
    assert _call(client, "post", "/api/apis", world.tokens["engineer"], body)[0] == 201
    status, test = _call(client, "post", "/api/apis/items/pentests",
                         world.tokens["security_lead"],
                         {"started_on": "2026-02-01", "ended_on": "2026-02-05",
                          "tester": "ACME"})  # fmt: skip
    assert status == 201
    url = f"/api/apis/items/pentests/{test['id']}/findings"
    sarif = {"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "ACME pen test"}},
        "results": [{"ruleId": "ACME-BOLA", "level": "error",
                     "message": {"text": "GET /items/{itemId} reads another tenant's item"}}],
    }]}  # fmt: skip

    def upload(role: str, content: bytes, name: str = "acme.sarif") -> Any:
        return client.post(
            url,
            data={"file": SimpleUploadedFile(name, content)},
            headers={"Authorization": f"Bearer {world.tokens[role]}"},
        )

    api = Api.objects.get(name="items")
    before = Finding.objects.filter(asset_id=api.asset_id).count()
    # an engineer may not; a file that is no report is 422 naming the upload; nothing written
    assert upload("engineer", json.dumps(sarif).encode()).status_code == 403
    response = upload("security_lead", b"{not json", "acme.json")
    assert response.status_code == 422
    assert "acme.json" in response.json()["error"]["message"]
    assert PenTest.objects.get().scan is None
    assert Finding.objects.filter(asset_id=api.asset_id).count() == before
    # the security lead imports them: they land on the API's asset, the import is the test's
    response = upload("security_lead", json.dumps(sarif).encode())
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert (answer["id"], answer["parsed"], answer["new"]) == (test["id"], 1, 1)
    pentest = PenTest.objects.get()
    assert pentest.scan_id == answer["scan"]
    assert list(
        Finding.objects.filter(asset_id=api.asset_id, last_import_id=answer["scan"]).values_list(
            "vuln_id", flat=True
        )
    ) == ["ACME-BOLA"]
    assert AuditEvent.objects.filter(verb="api.pentest_findings_imported").count() == 1
