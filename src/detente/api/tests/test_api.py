"""The REST API as a client meets it: tokens, pagination, the acceptance workflow, one error
model, and refusals that change nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from detente.acceptances.models import RiskAcceptance
from detente.access.models import ApiToken
from detente.api.tests.conftest import World
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.findings.models import Finding, ScanImport


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


def test_openapi_document_is_3_1_and_lists_the_routes(client: Client, world: World) -> None:
    doc = client.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    for path in ("/api/findings", "/api/imports", "/api/acceptances/{acceptance_id}/sign",
                 "/api/decisions", "/api/people/me", "/api/audit/verify"):  # fmt: skip
        assert path in doc["paths"]


def test_keyset_pages_cover_every_finding_once_in_priority_order(
    client: Client, world: World
) -> None:
    token = world.tokens["ciso"]
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        url = "/api/findings?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, page = _call(client, "get", url, token)
        assert status == 200
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [f["id"] for f in seen] == sorted(
        {f["id"] for f in seen}, key=[f["id"] for f in seen].index
    )
    assert len(seen) == Finding.objects.filter(status="open").count()
    kev = [f["kev"] for f in seen]
    assert kev == sorted(kev, reverse=True)


def test_a_bad_cursor_gets_the_one_error_model(client: Client, world: World) -> None:
    status, body = _call(client, "get", "/api/findings?cursor=garbage!", world.tokens["ciso"])
    assert status == 422
    assert body == {
        "error": {"code": "bad_input", "message": "field 'cursor': not a cursor this API issued",
                  "field": "cursor", "record": None}
    }  # fmt: skip


def test_acceptance_workflow_through_the_api(client: Client, world: World) -> None:
    kev = Finding.objects.get(cve="CVE-2021-44228")
    until = (clock.today() + dt.timedelta(days=5)).isoformat()
    status, created = _call(
        client, "post", "/api/acceptances", world.tokens["it_lead"],
        {"finding_ids": [kev.pk], "justification": "Freeze week", "compensating_controls": "WAF",
         "until": until},
    )  # fmt: skip
    assert status == 201, created
    assert created["required_roles"] == ["ciso", "cio"]
    pk = created["id"]
    status, body = _call(client, "post", f"/api/acceptances/{pk}/sign", world.tokens["ciso"], {})
    assert (status, body["signed_roles"]) == (200, ["ciso"])
    status, body = _call(client, "post", f"/api/acceptances/{pk}/sign", world.tokens["cio"], {})
    assert (status, body["status"]) == (200, "approved")
    assert body["signatures"][0]["facts"]["in_kev"] == 1
    kev.refresh_from_db()
    assert kev.status == "accepted"


def test_self_signing_is_refused_and_changes_nothing(client: Client, world: World) -> None:
    kev = Finding.objects.get(cve="CVE-2021-44228")
    until = (clock.today() + dt.timedelta(days=5)).isoformat()
    _, created = _call(
        client, "post", "/api/acceptances", world.tokens["ciso"],
        {"finding_ids": [kev.pk], "justification": "x", "compensating_controls": "WAF",
         "until": until},
    )  # fmt: skip
    events = AuditEvent.objects.count()
    status, body = _call(
        client, "post", f"/api/acceptances/{created['id']}/sign", world.tokens["ciso"], {}
    )
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert AuditEvent.objects.count() == events
    assert RiskAcceptance.objects.get().signatures.count() == 0


# ------------------------------------------------------------------ security


@pytest.mark.parametrize(
    "url", ["/api/findings", "/api/acceptances", "/api/audit", "/api/people/me", "/api/imports"]
)
def test_no_token_no_session_is_401(client: Client, world: World, url: str) -> None:
    status, body = _call(client, "get", url, None)
    assert (status, body["error"]["code"]) == (401, "unauthenticated")


def test_unknown_expired_and_revoked_tokens_are_refused(client: Client, world: World) -> None:
    assert _call(client, "get", "/api/people/me", "dtt_nope_nope")[0] == 401
    token = world.tokens["ciso"]
    ApiToken.objects.filter(prefix=token.split("_")[1]).update(expires_at=clock.now())
    assert _call(client, "get", "/api/people/me", token)[0] == 401
    other = world.tokens["cio"]
    ApiToken.objects.filter(prefix=other.split("_")[1]).update(revoked_at=clock.now())
    assert _call(client, "get", "/api/people/me", other)[0] == 401


def test_tokens_are_stored_only_as_digests(world: World) -> None:
    raw = world.tokens["ciso"]
    stored = ApiToken.objects.get(prefix=raw.split("_")[1])
    assert raw not in (stored.digest, stored.prefix, stored.name)
    assert len(stored.digest) == 64


def test_a_read_only_token_cannot_write(client: Client, world: World, samples: Path) -> None:
    kev = Finding.objects.get(cve="CVE-2021-44228")
    status, body = _call(
        client, "post", "/api/acceptances", world.tokens["it_lead:read"],
        {"finding_ids": [kev.pk], "justification": "x", "compensating_controls": "WAF",
         "until": (clock.today() + dt.timedelta(days=5)).isoformat()},
    )  # fmt: skip
    assert (status, body["error"]["message"]) == (403, "this token is read-only")
    assert RiskAcceptance.objects.count() == 0


def test_an_auditor_reads_everything_and_changes_nothing(
    client: Client, world: World, samples: Path
) -> None:
    token = world.tokens["auditor"]
    assert _call(client, "get", "/api/audit/verify", token)[1]["ok"] is True
    imports = ScanImport.objects.count()
    with (samples / "scans/zap/0_zap_sample.xml").open("rb") as handle:
        response = client.post(
            "/api/imports", {"file": handle}, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 403
    assert ScanImport.objects.count() == imports


def test_a_service_owner_does_not_see_other_services(client: Client, world: World) -> None:
    token = world.tokens["service_owner"]
    _, page = _call(client, "get", "/api/findings?limit=500", token)
    assert {f["service"] for f in page["items"]} == {"shop"}
    hidden = Finding.objects.filter(asset__service=world.other).first()
    assert hidden is not None
    status, _ = _call(client, "get", f"/api/findings/{hidden.pk}", token)
    assert status == 404


def test_session_writes_need_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login", {"email": "it_lead@example.org", "password": "x"})
    assert response.status_code == 403  # the login form itself is CSRF-protected
    client.get("/login")
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/login",
        {"email": "it_lead@example.org", "password": "correct horse battery staple",
         "csrfmiddlewaretoken": csrf},
    )  # fmt: skip
    assert response.status_code == 302
    kev = Finding.objects.get(cve="CVE-2021-44228")
    body = json.dumps({"finding_ids": [kev.pk], "justification": "x",
                       "compensating_controls": "WAF",
                       "until": (clock.today() + dt.timedelta(days=5)).isoformat()})  # fmt: skip
    forged = client.post(
        "/api/acceptances",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": "forged"},
    )
    assert forged.status_code in (401, 403)
    assert RiskAcceptance.objects.count() == 0
    good = client.post(
        "/api/acceptances", data=body, content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )  # fmt: skip
    assert good.status_code == 201
    assert RiskAcceptance.objects.count() == 1


def test_upload_through_the_api(client: Client, world: World, samples: Path) -> None:
    with (samples / "scans/bandit/one_vuln.json").open("rb") as handle:
        response = client.post(
            "/api/imports", {"file": handle, "asset": "repo-x"},
            headers={"Authorization": f"Bearer {world.tokens['engineer']}"},
        )  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert (body["format"], body["parsed"], body["new"]) == ("bandit", 1, 1)


def test_a_bad_upload_names_the_file_and_writes_nothing(
    client: Client, world: World, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"SchemaVersion": 2, "Results": [')
    before = ScanImport.objects.count()
    with bad.open("rb") as handle:
        response = client.post(
            "/api/imports", {"file": handle, "format": "trivy"},
            headers={"Authorization": f"Bearer {world.tokens['engineer']}"},
        )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("broken.json")
    assert ScanImport.objects.count() == before


def test_the_list_fast_path_matches_its_schema_and_the_detail_route(
    client: Client, world: World
) -> None:
    from detente.api.schemas import FindingDetailOut, FindingPage

    token = world.tokens["ciso"]
    status, page = _call(client, "get", "/api/findings?limit=500&status=any", token)
    assert status == 200
    assert page["items"]
    FindingPage.model_validate(page)  # the documented shape, field by field
    detail_only = set(FindingDetailOut.model_fields) - set(page["items"][0])
    assert detail_only == {"aliases", "reason", "description", "references", "acceptances"}
    for item in page["items"]:
        status, detail = _call(client, "get", f"/api/findings/{item['id']}", token)
        assert status == 200
        assert {k: v for k, v in detail.items() if k not in detail_only} == item


def test_an_upload_names_skipped_records_and_strict_refuses_them(
    client: Client, world: World, tmp_path: Path
) -> None:
    token = world.tokens["security_lead"]
    path = tmp_path / "messy.json"
    path.write_text(
        json.dumps(
            {"name": "acme", "title": "Q4 pentest",
             "findings": [{"title": "A", "severity": "High"}, {"severity": "Low"}]}
        )
    )  # fmt: skip
    imports = ScanImport.objects.count()
    with path.open("rb") as handle:
        refused = client.post(
            "/api/imports", {"file": handle, "strict": "true", "asset": "api-messy"},
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
    assert refused.status_code == 422
    assert "refused by --strict" in refused.json()["error"]["message"]
    assert ScanImport.objects.count() == imports

    with path.open("rb") as handle:
        done = client.post(
            "/api/imports", {"file": handle, "asset": "api-messy"},
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
    assert done.status_code == 201
    body = done.json()
    assert (body["new"], body["skipped"]) == (1, 1)
    assert body["notes"] == [
        {"kind": "skipped", "record": "findings[1]", "field": "title",
         "message": "required field is missing"}
    ]  # fmt: skip
    assert body["metadata"] == {"title": "Q4 pentest"}


def test_a_query_parameter_given_twice_is_bad_input(client: Client, world: World) -> None:
    """Schemathesis found ``?offset=true&offset=0.0`` answered 200 as if only the last had been
    sent: no route takes a list in its query, so a repeated parameter is refused."""
    headers = {"Authorization": f"Bearer {world.tokens['ciso']}"}
    response = client.get("/api/acceptances?offset=true&offset=0", headers=headers)
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "bad_input",
            "message": "query parameter 'offset' is given more than once",
            "field": "offset",
            "record": None,
        }
    }
    assert client.get("/api/acceptances?offset=0", headers=headers).status_code == 200
    # pages are not the API: their forms may repeat a field
    assert client.get("/findings?severity=high&severity=critical").status_code != 422
