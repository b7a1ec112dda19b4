"""/api/initiatives: create, list, show, push metrics with a token scoped to one initiative,
pause on breach, resume, roll back; refusals in the one error model that write nothing."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from detente.access.services import token_issue
from detente.decisions.services import decision_decide
from detente.initiatives.models import MetricPoint, Phase
from detente.initiatives.services import (
    comms_complete,
    guardrails_evaluate,
    metric_token_issue,
)
from detente.initiatives.tests.conftest import MFA, NOW, Org


def _call(client: Client, method: str, url: str, token: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    if method == "get":
        response = client.get(url, headers=headers)
    else:
        response = client.post(url, data=json.dumps(body or {}),
                               content_type="application/json", headers=headers)  # fmt: skip
    return response.status_code, response.json()


def _tokens(org: Org) -> dict[str, str]:
    return {
        "cio": token_issue(actor=org.cio, person=org.cio, name="t", scope="write")[1],
        "ciso": token_issue(actor=org.ciso, person=org.ciso, name="t", scope="write")[1],
        "cio:read": token_issue(actor=org.cio, person=org.cio, name="r")[1],
    }


def _points(metric: str, values: list[float]) -> list[dict[str, Any]]:
    return [{"metric": metric, "at": f"2026-10-05T{8 + i:02d}:00:00Z", "value": v}
            for i, v in enumerate(values)]  # fmt: skip


def test_create_push_pause_resume_through_the_api(org: Org, client: Client) -> None:
    tokens = _tokens(org)
    status, body = _call(client, "post", "/api/initiatives", tokens["cio:read"],
                         {"yaml": MFA.read_text(), "source": "mfa.yaml"})  # fmt: skip
    assert (status, body["error"]["code"]) == (403, "forbidden")
    bad = MFA.read_text().replace("{share: 3 %,", "{share: 99 %,")
    status, body = _call(client, "post", "/api/initiatives", tokens["ciso"],
                         {"yaml": bad, "source": "mfa.yaml"})  # fmt: skip
    assert (status, body) == (422, {"error": {
        "code": "bad_input", "field": "cohorts", "record": "phases[0]",
        "message": "mfa.yaml, record phases[0], field 'cohorts': the cohorts add up to 101 %, "
                   "more than 100 %"}})  # fmt: skip
    status, body = _call(client, "post", "/api/initiatives", tokens["ciso"],
                         {"yaml": MFA.read_text(), "source": "mfa.yaml"})  # fmt: skip
    assert status == 201, body
    initiative_id = body["id"]
    assert (body["current_phase"], body["next_decision"]) == (
        1, "guardrails to sign: CIO side, CISO side",
    )  # fmt: skip
    base = f"/api/initiatives/{initiative_id}"
    assert _call(client, "post", f"{base}/sign", tokens["cio"])[0] == 200
    status, body = _call(client, "post", f"{base}/sign", tokens["ciso"])
    assert body["next_decision"] == "communications to complete"
    ready_phase = Phase.objects.get(initiative_id=initiative_id, number=1)
    comms_complete(actor=org.cio, phase=ready_phase, item=1)
    status, body = _call(client, "post", f"{base}/start", tokens["cio"])
    assert (status, body["phases"][0]["status"]) == (200, "running")

    # A metrics token pushes into its own initiative only, and can do nothing else.
    initiative = ready_phase.initiative
    _, raw = metric_token_issue(actor=org.ciso, initiative=initiative)
    status, body = _call(client, "post", f"{base}/metrics", raw,
                         {"points": _points("drop_off_rate", [4.0, 9.1, 9.8])})  # fmt: skip
    assert (status, body) == (200, {"recorded": 3})
    assert _call(client, "get", base, raw)[0] == 401
    assert _call(client, "post", f"{base}/pause", raw, {"reason": "x"})[0] == 401
    status, body = _call(client, "post", "/api/initiatives/999/metrics", raw,
                         {"points": _points("drop_off_rate", [4.0])})  # fmt: skip
    assert (status, body["error"]["code"]) == (403, "forbidden")

    # Bad points: not a number, the same time twice; nothing written.
    status, body = _call(client, "post", f"{base}/metrics", raw, {"points": [
        {"metric": "drop_off_rate", "at": "2026-10-05T12:00:00Z", "value": "lots"}]})  # fmt: skip
    assert (status, body["error"]["field"]) == (422, "body.body.points.0.value")
    twice = _points("login_success_rate", [98.0]) * 2
    status, body = _call(client, "post", f"{base}/metrics", raw, {"points": twice})
    assert (status, body["error"]["field"], body["error"]["record"]) == (422, "at", "points[1]")
    assert MetricPoint.objects.count() == 3

    report = guardrails_evaluate(now=NOW.replace(hour=10))
    assert report.paused == [ready_phase.pk]
    status, body = _call(client, "get", "/api/initiatives?running=true", tokens["cio:read"])
    assert (status, [(r["phase_status"], r["guardrails"]) for r in body]) == (
        200, [("paused", "breached")],
    )  # fmt: skip
    status, body = _call(client, "post", f"{base}/resume", tokens["cio"])
    assert (status, body["error"]["code"]) == (409, "refused")
    ready_phase.refresh_from_db()
    assert ready_phase.go_no_go is not None
    decision_decide(
        actor=org.ciso,
        record=ready_phase.go_no_go,
        decision="Go",
        chosen_option=0,
        why_blank="test record",
    )
    status, body = _call(client, "post", f"{base}/resume", tokens["cio"])
    assert (status, body["phases"][0]["status"]) == (200, "resumed")
    status, body = _call(client, "post", f"{base}/rollback", tokens["ciso"],
                         {"reason": "support calls doubled"})  # fmt: skip
    assert (status, [h["to"] for h in body["history"]]) == (
        200, ["running", "paused", "resumed", "rolled_back"],
    )  # fmt: skip


def test_phase_two_can_be_named(org: Org, client: Client) -> None:
    tokens = _tokens(org)
    status, body = _call(client, "post", "/api/initiatives", tokens["ciso"],
                         {"yaml": MFA.read_text()})  # fmt: skip
    initiative_id = body["id"]
    base = f"/api/initiatives/{initiative_id}"
    status, body = _call(client, "post", f"{base}/sign", tokens["cio"], {"phase": 2})
    assert body["phases"][1]["signatures"]["cio"]["by"] == "cio@example.org"
    status, body = _call(client, "post", f"{base}/sign", tokens["cio"], {"phase": 7})
    assert (status, body["error"]["message"]) == (404, f"IN-{initiative_id} has no phase 7")
