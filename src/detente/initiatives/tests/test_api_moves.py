"""/api/initiatives/{id}/comms|threshold|done|acceptance|cancel: the CLI's moves through the API
client, each refusal in the one error model with nothing written."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.test import Client

from detente.acceptances.services import acceptance_request
from detente.acceptances.tests.factories import import_grype
from detente.access.services import token_issue
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.decisions.services import decision_create, decision_decide
from detente.initiatives.models import Guardrail, GuardrailChange, Phase, PhaseTransition
from detente.initiatives.tests.conftest import MFA, Org
from detente.people.models import Person


def _call(client: Client, url: str, token: str, body: Any = None) -> tuple[int, Any]:
    response = client.post(
        url, data=json.dumps(body or {}), content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    return response.status_code, response.json()


def _write(person: Person) -> str:
    return token_issue(actor=person, person=person, name="t", scope="write")[1]


def _created(client: Client, token: str) -> str:
    status, body = _call(client, "/api/initiatives", token, {"yaml": MFA.read_text()})
    assert status == 201, body
    return f"/api/initiatives/{body['id']}"


def test_comms_are_ticked_by_their_owner_or_a_sponsor(org: Org, client: Client) -> None:
    cio, engineer, lead = _write(org.cio), _write(org.engineer), _write(org.lead)
    base = _created(client, _write(org.ciso))
    status, body = _call(client, f"{base}/comms", engineer, {"item": 1})
    assert (status, body["error"]["message"]) == (403, "the item's owner or a sponsor ticks it")
    status, body = _call(client, f"{base}/comms", cio, {"item": 2})
    assert (status, body["error"]["field"]) == (422, "item")
    status, body = _call(client, f"{base}/comms", cio, {"item": 0})
    assert (status, body["error"]["field"]) == (422, "body.body.item")
    status, body = _call(client, f"{base}/comms", cio, {"item": 1})
    assert status == 200, body
    assert body["phases"][0]["comms"][0]["done_by"] == "cio@example.org"
    status, body = _call(client, f"{base}/comms", cio, {"item": 1})
    assert (status, body["error"]["message"]) == (409, "item 1 is already done")
    # The owner of phase 2's first item (a security lead, not a sponsor) ticks it.
    status, body = _call(client, f"{base}/comms", lead, {"item": 1, "phase": 2})
    assert status == 200, body
    assert body["phases"][1]["comms"][0]["done_by"] == "lead@example.org"


def test_a_threshold_changes_freely_before_signing_then_only_through_a_decision(
    org: Org, client: Client
) -> None:
    cio, ciso = _write(org.cio), _write(org.ciso)
    base = _created(client, ciso)
    status, body = _call(client, f"{base}/threshold", cio,
                         {"metric": "drop_off_rate", "threshold": "8 %"})  # fmt: skip
    assert status == 200, body
    assert [
        (c["metric"], c["old"], c["new"], c["decision"]) for c in body["threshold_changes"]
    ] == [("drop_off_rate", 7.0, 8.0, None)]
    status, body = _call(client, f"{base}/threshold", cio,
                         {"metric": "drop_off_rate", "threshold": "800 ms"})  # fmt: skip
    drop_off = Guardrail.objects.get(phase__number=1, metric="drop_off_rate")
    assert (status, body["error"]["message"]) == (
        422, f"record guardrail {drop_off.pk}, field 'threshold': '800 ms' is in ms, this metric "
        "is measured in %",
    )  # fmt: skip
    status, body = _call(client, f"{base}/threshold", cio, {"metric": "nps", "threshold": 3})
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = _call(client, f"{base}/threshold", cio,
                         {"metric": "drop_off_rate", "threshold": 9, "decision": 999})  # fmt: skip
    assert (status, body["error"]["message"]) == (404, "decision record 999 does not exist")

    assert _call(client, f"{base}/sign", cio)[0] == 200
    status, body = _call(client, f"{base}/threshold", ciso,
                         {"metric": "drop_off_rate", "threshold": 9})  # fmt: skip
    assert (status, body["error"]["code"]) == (409, "refused")
    assert "only through a decision record" in body["error"]["message"]
    record = decision_create(
        actor=org.ciso, title="Relax drop-off", pressure_point="customer_change",
        question="Accept 9 % drop-off in the pilot?",
        options=[{"title": "Relax", "business_benefit": "the pilot goes on"}],
    )  # fmt: skip
    nine = {"metric": "drop_off_rate", "threshold": 9, "decision": record.pk}
    status, body = _call(client, f"{base}/threshold", ciso, nine)
    assert (status, body["error"]["message"]) == (409, f"DR-{record.pk} is not decided yet")
    decision_decide(
        actor=org.cio, record=record, decision="Relax to 9 %", chosen_option=0,
        why_blank="test record",
    )  # fmt: skip
    status, body = _call(client, f"{base}/threshold", ciso, nine)
    assert status == 200, body
    assert body["threshold_changes"][-1]["decision"] == record.pk
    assert Guardrail.objects.get(phase__number=1, metric="drop_off_rate").threshold == 9.0
    assert GuardrailChange.objects.count() == 2


def test_done_and_the_acceptance_link(org: Org, client: Client, samples: Path) -> None:
    cio, ciso = _write(org.cio), _write(org.ciso)
    base = _created(client, ciso)
    pk = base.rsplit("/", 1)[1]
    # Without a phase, "done" means the running or paused phase: there is none yet (422).
    status, body = _call(client, f"{base}/done", cio)
    assert (status, body["error"]["message"]) == (
        422, f"record IN-{pk}, field 'phase': IN-{pk} has no running or paused phase (phases: "
        "1 planned, 2 planned); name the phase",
    )  # fmt: skip
    status, body = _call(client, f"{base}/done", cio, {"phase": 1})
    assert (status, body["error"]["message"]) == (
        409, f"IN-{pk} phase 1: Pilot with staff and volunteers is planned; it cannot become done",
    )  # fmt: skip
    for token in (cio, ciso):
        assert _call(client, f"{base}/sign", token)[0] == 200
    assert _call(client, f"{base}/comms", cio, {"item": 1})[0] == 200
    assert _call(client, f"{base}/start", cio)[0] == 200

    findings = import_grype(samples)["CVE-2021-32626"]
    too_long, fitting = (
        acceptance_request(
            actor=org.engineer,
            title="Legacy login until MFA is everywhere",
            scope="findings",
            justification="Password-only login stays for the cohorts not yet enrolled",
            compensating_controls="Rate limits and bot detection on the login",
            until=clock.today() + dt.timedelta(days=days),
            finding_ids=[f.pk for f in findings],
        )
        for days in (20, 10)
    )
    status, body = _call(client, f"{base}/acceptance", cio, {"acceptance": 9999})
    assert (status, body["error"]["message"]) == (404, "risk acceptance 9999 does not exist")
    status, body = _call(client, f"{base}/acceptance", cio, {"acceptance": too_long.pk})
    assert (status, body["error"]["code"]) == (409, "refused")
    assert "a phase's acceptance ends with the phase (2026-10-18)" in body["error"]["message"]
    status, body = _call(client, f"{base}/acceptance", _write(org.engineer),
                         {"acceptance": fitting.pk})  # fmt: skip
    assert status == 403
    status, body = _call(client, f"{base}/acceptance", ciso, {"acceptance": fitting.pk})
    assert (status, body["phases"][0]["acceptance"]) == (200, fitting.pk)

    status, body = _call(client, f"{base}/done", ciso)
    assert (status, body["phases"][0]["status"], body["current_phase"]) == (200, "done", 2)
    fitting.refresh_from_db()
    assert fitting.status == "revoked"


def test_an_objection_cancels_the_rollout_through_the_api(org: Org, client: Client) -> None:
    cio, ciso, engineer = _write(org.cio), _write(org.ciso), _write(org.engineer)
    base = _created(client, ciso)
    events = AuditEvent.objects.count()
    status, body = _call(client, f"{base}/cancel", engineer, {"reason": "no"})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = _call(client, f"{base}/cancel", cio, {"reason": ""})
    assert (status, body["error"]["field"]) == (422, "body.body.reason")
    assert AuditEvent.objects.count() == events
    assert set(Phase.objects.values_list("status", flat=True)) == {"planned"}

    why = "Call-centre capacity is not there before Christmas"
    status, body = _call(client, f"{base}/cancel", cio, {"reason": why})
    assert status == 200, body
    assert [p["status"] for p in body["phases"]] == ["cancelled", "cancelled"]
    assert body["objection"] == {
        "at": body["objection"]["at"], "phase": 1, "by": "cio@example.org", "side": "cio",
        "reason": why,
    }  # fmt: skip
    assert body["next_decision"] == "none"
    assert PhaseTransition.objects.filter(to_status="cancelled").count() == 2
    status, body = _call(client, f"{base}/cancel", ciso, {"reason": "again"})
    assert (status, body["error"]["code"]) == (422, "bad_input")  # no phase left to cancel
    status, body = _call(client, f"{base}/cancel", ciso, {"reason": "again", "phase": 1})
    assert (status, body["error"]["code"]) == (409, "refused")
