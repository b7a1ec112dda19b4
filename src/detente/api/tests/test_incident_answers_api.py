"""The CIO answers a briefing's asks through the REST API (the same service as the incident
page): once per ask, refusals that change nothing, the answer on the timeline."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client

from detente.api.tests.conftest import World
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.incidents.models import Briefing, EntryKind, TimelineEntry

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _post(client: Client, url: str, token: str, body: Any = None) -> tuple[int, Any]:
    response = client.post(
        url, data=json.dumps(body or {}), content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    return response.status_code, response.json()


def _briefing(client: Client, world: World) -> dict[str, Any]:
    lead = world.tokens["security_lead"]
    status, incident = _post(client, "/api/incidents", lead, {
        "title": "Card data exfiltration suspected", "type": "data_breach", "severity": "sev2",
        "lead_id": world.people["security_lead"].pk,
    })  # fmt: skip
    assert status == 201, incident
    status, briefing = _post(client, f"/api/incidents/{incident['id']}/briefings", lead, {
        "status_summary": "Contained to one host",
        "asks": ["Approve taking checkout offline", "Approve the customer notice"],
    })  # fmt: skip
    assert status == 201, briefing
    assert briefing["answers"] == []
    out: dict[str, Any] = briefing
    return out


def test_the_cio_answers_an_ask_once_and_it_goes_on_the_timeline(
    client: Client, world: World
) -> None:
    clock.set_now(NOW)
    briefing = _briefing(client, world)
    url = f"/api/briefings/{briefing['id']}/asks/2/answer"
    # when the CIO answers ask 2
    status, answered = _post(client, url, world.tokens["cio"], {"answer": "  Yes, send it  "})
    # then the briefing comes back with the answer, and the timeline holds it as a decision
    assert status == 200, answered
    assert [(a["ask"], a["text"], a["by"]) for a in answered["answers"]] == [
        (2, "Yes, send it", world.people["cio"].name)
    ]
    assert dt.datetime.fromisoformat(answered["answers"][0]["at"]) == NOW
    decisions = TimelineEntry.objects.filter(kind=EntryKind.DECISION).values_list("text", flat=True)
    assert [t for t in decisions if "“Approve the customer notice”: Yes, send it" in t]
    # and a second answer to the same ask is refused (409), nothing changed
    status, again = _post(client, url, world.tokens["cio"], {"answer": "No"})
    assert (status, again["error"]["message"]) == (409, "ask 2 of briefing #1 is already answered")
    assert len(Briefing.objects.get().answers) == 1


def test_refusals_and_bad_input_change_nothing(client: Client, world: World) -> None:
    clock.set_now(NOW)
    briefing = _briefing(client, world)
    events = AuditEvent.objects.count()
    base = f"/api/briefings/{briefing['id']}/asks"
    cases = [
        (f"{base}/1/answer", "ciso", {"answer": "Yes"}, 403),  # not the CIO
        (f"{base}/1/answer", "cio:read", {"answer": "Yes"}, 403),  # a read-only token
        (f"{base}/3/answer", "cio", {"answer": "Yes"}, 422),  # two asks only
        (f"{base}/0/answer", "cio", {"answer": "Yes"}, 422),  # asks count from 1
        (f"{base}/1/answer", "cio", {"answer": "   "}, 422),  # an empty answer
        (f"{base}/1/answer", "cio", {}, 422),  # no answer at all
        ("/api/briefings/999/asks/1/answer", "cio", {"answer": "Yes"}, 404),
    ]
    for url, who, body, expected in cases:
        status, answer = _post(client, url, world.tokens[who], body)
        assert status == expected, (url, who, body, answer)
    status, answer = _post(client, f"{base}/3/answer", world.tokens["cio"], {"answer": "Yes"})
    assert "briefing #1 has 2 ask(s), not 3" in answer["error"]["message"]
    assert Briefing.objects.get().answers == []
    assert AuditEvent.objects.count() == events
