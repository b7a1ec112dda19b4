"""Incidents through the REST API: an incident run end to end, refusals that change nothing, and
tokens that may only read."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client

from detente.api.tests.conftest import World
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.incidents.models import Briefing, Incident, TimelineEntry
from detente.incidents.services import regimes_configure

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)  # Monday
H = dt.timedelta(hours=1)


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


def _at(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _declare(client: Client, world: World, **extra: Any) -> dict[str, Any]:
    body = {
        "title": "Card data exfiltration suspected", "type": "data_breach", "severity": "sev2",
        "lead_id": world.people["security_lead"].pk, "services": ["shop"],
        "personal_data": True, "data_categories": ["payment cards"],
    } | extra  # fmt: skip
    status, created = _call(client, "post", "/api/incidents", world.tokens["security_lead"], body)
    assert status == 201, created
    out: dict[str, Any] = created
    return out


def test_an_incident_end_to_end_through_the_api(client: Client, world: World) -> None:
    clock.set_now(NOW)
    regimes_configure(actor=world.people["ciso"], sec_registrant=True, gdpr_role="controller")
    lead, ciso, cio = (world.tokens[k] for k in ("security_lead", "ciso", "cio"))

    incident = _declare(client, world)
    pk = incident["id"]
    assert (incident["status"], incident["allowed_next"]) == (
        "investigating",
        ["contained", "closed"],
    )
    assert (incident["lead"], incident["cio"], incident["ciso"]) == (
        "security_lead@example.org", "cio@example.org", "ciso@example.org",
    )  # fmt: skip
    assert incident["briefing_state"] == "scheduled"
    assert _at(incident["next_briefing_due"]) == NOW + 4 * H  # sev2: first within 4 hours
    assert incident["time_to_inform_cio_seconds"] is None
    clocks = {c["key"]: c for c in incident["clocks"]}
    gdpr = clocks["gdpr_33"]
    assert (gdpr["state"], _at(gdpr["due"]), gdpr["timezone"]) == (
        "pending", NOW + 72 * H, "Europe/Paris",
    )  # fmt: skip
    assert gdpr["due_local"].startswith("2026-11-05T10:00:00+01:00")  # Paris, winter time
    assert (clocks["sec_8k"]["state"], clocks["sec_8k"]["due"]) == ("pending", None)  # waiting
    assert clocks["sec_8k"]["timezone"] == "America/New_York"
    assert clocks["nis2_notification"]["state"] == "not_applicable"

    clock.advance(H)
    status, briefing = _call(
        client, "post", f"/api/incidents/{pk}/briefings", lead,
        {"status_summary": "Contained to one host; card scope unknown",
         "knowns": ["One web server compromised"],
         "unknowns": [{"text": "Whether card data left", "confidence": "medium"}],
         "actions": ["Imaging the host"], "asks": ["Approve taking checkout offline"],
         "next_steps": ["Forensics report"]},
    )  # fmt: skip
    assert status == 201, briefing
    assert (briefing["number"], briefing["form"], briefing["author"]) == (
        1, "executive", "security_lead@example.org",
    )  # fmt: skip
    assert briefing["unknowns"] == [{"text": "Whether card data left", "confidence": "medium"}]
    assert _at(briefing["next_update_due"]) == NOW + H + 6 * H  # sev2: every 6 hours
    assert briefing["acknowledged_by"] is None

    clock.advance(dt.timedelta(minutes=30))
    status, refused = _call(client, "post", f"/api/briefings/{briefing['id']}/acknowledge", ciso)
    assert (status, refused["error"]["code"]) == (403, "forbidden")
    status, acked = _call(client, "post", f"/api/briefings/{briefing['id']}/acknowledge", cio)
    assert status == 200, acked
    assert (acked["acknowledged_by"], _at(acked["acknowledged_at"])) == (
        "cio@example.org", NOW + 90 * dt.timedelta(minutes=1),
    )  # fmt: skip
    status, again = _call(client, "post", f"/api/briefings/{briefing['id']}/acknowledge", cio)
    assert (status, again["error"]["code"]) == (409, "refused")
    detail = _call(client, "get", f"/api/incidents/{pk}", ciso)[1]
    assert detail["time_to_inform_cio_seconds"] == 90 * 60
    assert _at(detail["cio_informed_at"]) == NOW + 90 * dt.timedelta(minutes=1)

    clock.advance(H)
    status, filed = _call(
        client, "post", f"/api/incidents/{pk}/filings", lead,
        {"clock": "gdpr_33", "reference": "CNIL-2026-0042"},
    )  # fmt: skip
    assert status == 201, filed
    assert (filed["key"], filed["state"], _at(filed["filed_at"])) == (
        "gdpr_33", "met", NOW + dt.timedelta(minutes=150),
    )  # fmt: skip

    for to in ("contained", "eradicated", "recovered"):
        clock.advance(H)
        status, moved = _call(client, "post", f"/api/incidents/{pk}/status", lead, {"to": to})
        assert (status, moved["status"]) == (200, to)
    assert _at(moved["handled_at"]) == NOW + dt.timedelta(minutes=150) + 3 * H
    assert moved["briefing_state"] == "none"  # recovered: no more briefings due

    status, entry = _call(
        client, "post", f"/api/incidents/{pk}/timeline", lead,
        {"text": "Decided to rotate every API key", "kind": "decision"},
    )  # fmt: skip
    assert (status, entry["kind"], entry["author"]) == (
        201,
        "decision",
        "security_lead@example.org",
    )

    status, reviewed = _call(
        client, "post", f"/api/incidents/{pk}/review", lead,
        {"what_happened": "A stolen deploy key", "went_well": "Fast containment",
         "actions": [{"text": "Rotate keys quarterly", "owner_id": world.people["it_lead"].pk,
                      "due": "2026-12-01"}]},
    )  # fmt: skip
    assert status == 200, reviewed
    assert reviewed["review"]["what_happened"] == "A stolen deploy key"
    assert reviewed["review"]["actions"] == [
        {"text": "Rotate keys quarterly", "owner": "it_lead@example.org", "due": "2026-12-01",
         "done_at": None}
    ]  # fmt: skip
    assert [e["kind"] for e in reviewed["timeline"]] == [
        "declared", "briefing", "ack", "clock", "status", "status", "status", "decision", "review",
    ]  # fmt: skip
    status, closed = _call(client, "post", f"/api/incidents/{pk}/status", lead, {"to": "closed"})
    assert (status, closed["status"], closed["allowed_next"]) == (200, "closed", [])
    listed = _call(client, "get", "/api/incidents?open_only=true", world.tokens["auditor"])
    assert listed == (200, [])


def test_a_refused_transition_is_409_with_the_error_model_and_changes_nothing(
    client: Client, world: World
) -> None:
    clock.set_now(NOW)
    pk = _declare(client, world)["id"]
    before = _call(client, "get", f"/api/incidents/{pk}", world.tokens["ciso"])[1]
    events, entries = AuditEvent.objects.count(), TimelineEntry.objects.count()
    status, body = _call(
        client, "post", f"/api/incidents/{pk}/status", world.tokens["security_lead"],
        {"to": "recovered", "note": "too soon"},
    )  # fmt: skip
    assert status == 409
    assert body == {
        "error": {
            "code": "refused",
            "message": f"INC-{pk} is investigating; it cannot become recovered",
        }
    }
    assert _call(client, "get", f"/api/incidents/{pk}", world.tokens["ciso"])[1] == before
    assert (AuditEvent.objects.count(), TimelineEntry.objects.count()) == (events, entries)
    status, body = _call(
        client, "post", f"/api/incidents/{pk}/status", world.tokens["ciso"], {"to": "sideways"}
    )
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "bad_input", "to")
    status, body = _call(client, "get", "/api/incidents/999999", world.tokens["ciso"])
    assert (status, body["error"]["code"]) == (404, "not_found")


def test_an_auditor_reads_incidents_and_cannot_write(client: Client, world: World) -> None:
    clock.set_now(NOW)
    created = _declare(client, world)
    pk = created["id"]
    token = world.tokens["auditor"]
    status, listed = _call(client, "get", "/api/incidents", token)
    assert (status, [i["id"] for i in listed]) == (200, [pk])
    assert _call(client, "get", f"/api/incidents/{pk}", token)[0] == 200
    _call(client, "post", f"/api/incidents/{pk}/briefings", world.tokens["ciso"],
          {"status_summary": "Looking"})  # fmt: skip
    briefing = Briefing.objects.get()
    events, incidents = AuditEvent.objects.count(), Incident.objects.count()
    writes: list[tuple[str, dict[str, Any]]] = [
        (
            "/api/incidents",
            {"title": "x", "severity": "sev3", "lead_id": world.people["auditor"].pk},
        ),
        (f"/api/incidents/{pk}/status", {"to": "contained"}),
        (f"/api/incidents/{pk}/briefings", {"status_summary": "x"}),
        (f"/api/incidents/{pk}/filings", {"clock": "gdpr_33"}),
        (f"/api/incidents/{pk}/timeline", {"text": "x"}),
        (f"/api/incidents/{pk}/review", {"what_happened": "x"}),
    ]
    for url, body in writes:
        status, answer = _call(client, "post", url, token, body)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), url
    status, answer = _call(
        client, "post", f"/api/briefings/{briefing.pk}/acknowledge", world.tokens["cio:read"]
    )
    assert (status, answer["error"]["message"]) == (403, "this token is read-only")
    briefing.refresh_from_db()
    assert briefing.acknowledged_at is None
    assert Incident.objects.count() == incidents
    assert AuditEvent.objects.count() == events
    assert _call(client, "get", f"/api/incidents/{pk}", token)[1]["status"] == "investigating"
