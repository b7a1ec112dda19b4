"""Meeting and reset pages, the API routes, and the facilitator's one door (least privilege)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from icalendar import Calendar

from detente.access.testing import signed_in_client
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.meetings.models import Meeting, ResetEngagement, ResetStatus
from detente.meetings.tests.conftest import NOW, Org, make_amber, make_org
from detente.tension.models import TensionSnapshot


@pytest.fixture
def org(db: None) -> Org:
    return make_org()


@pytest.fixture
def amber(org: Org) -> TensionSnapshot:
    return make_amber(org)


def test_a_leader_proposes_and_schedules_on_the_pages(org: Org, amber: TensionSnapshot) -> None:
    cio = signed_in_client(org.cio)
    response = cio.post("/meetings/propose", {"period": "2026-11"})
    meeting = Meeting.objects.get()
    assert response["Location"] == f"/meetings/{meeting.pk}"
    page = cio.get(f"/meetings/{meeting.pk}").content.decode()
    assert "Agenda, on the five principles" in page
    assert f"DR-{org.escalated.pk}" in page
    assert "Win-win" in page
    cio.post(
        f"/meetings/{meeting.pk}/schedule",
        {
            "starts_at": "2026-11-23T10:00",
            "offset": "+01:00",
            "minutes": "45",
            "delegates": "security_lead@example.org",
            "location": "Room 4",
        },
    )
    meeting.refresh_from_db()
    assert meeting.starts_at == dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    invitation = cio.get(f"/meetings/{meeting.pk}/ics")
    assert invitation["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(invitation.content).walk("VEVENT")[0]
    assert len(event.get("attendee", [])) == 3
    # an engineer sees the list but cannot propose
    engineer = signed_in_client(org.engineer)
    assert engineer.get("/meetings/").status_code == 200
    engineer.post("/meetings/propose", {"period": "2026-11"})
    assert Meeting.objects.count() == 1


def test_the_facilitator_has_one_door_and_it_closes_by_itself(
    org: Org, amber: TensionSnapshot
) -> None:
    cio, ciso = signed_in_client(org.cio), signed_in_client(org.ciso)
    cio.post(
        "/reset/sign",
        {
            "step": "start",
            "facilitator": "facilitator@example.org",
            "scope": ["radar", "decisions"],
            "goals": "Decision rights",
            "days": "7",
        },
    )
    reset = ResetEngagement.objects.get()
    assert reset.status == ResetStatus.PROPOSED
    # the same leader cannot grant (separation of duties): nothing changes
    cio.post("/reset/sign", {"step": "grant", "reset": str(reset.pk)})
    reset.refresh_from_db()
    assert reset.status == ResetStatus.PROPOSED
    ciso.post("/reset/sign", {"step": "grant", "reset": str(reset.pk)})
    reset.refresh_from_db()
    assert reset.status == ResetStatus.ACTIVE
    facilitator = signed_in_client(org.facilitator)
    # every other page sends the facilitator to their door; the API refuses them
    for path in ("/", "/findings", "/decisions", "/radar", f"/decisions/{org.escalated.pk}"):
        response = facilitator.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/reset/facilitator"
    assert facilitator.get("/api/decisions").status_code == 403
    door = facilitator.get("/reset/facilitator")
    assert door.status_code == 200
    assert "Defer the core-banking patch" in door.content.decode()
    pack = facilitator.get("/api/resets/facilitator")
    assert (pack.status_code, set(json.loads(pack.content)) >= {"radar", "decisions"}) == (
        200,
        True,
    )
    assert "pulse" not in json.loads(pack.content)
    reads = AuditEvent.objects.filter(verb="reset.facilitator_read").count()
    assert reads == 2
    # a week later the same session finds the door shut, without any job having run
    clock.set_now(NOW + dt.timedelta(days=7))
    shut = facilitator.get("/reset/facilitator")
    assert shut.status_code == 403
    assert "ended" in shut.content.decode()
    assert facilitator.get("/api/resets/facilitator").status_code == 403
    # the leaders' page shows the window closed
    assert "access <strong>closed</strong>" in cio.get("/reset/").content.decode()


def test_the_api_proposes_schedules_and_serves_the_invitation(
    org: Org, amber: TensionSnapshot
) -> None:
    ciso = signed_in_client(org.ciso)
    created = ciso.post("/api/meetings", data={}, content_type="application/json")
    assert created.status_code == 201, created.content
    meeting_id = json.loads(created.content)["id"]
    bad = ciso.post(
        f"/api/meetings/{meeting_id}/schedule",
        content_type="application/json",
        data={"starts_at": "2026-11-01T10:00:00Z"},
    )
    assert bad.status_code == 422
    done = ciso.post(
        f"/api/meetings/{meeting_id}/schedule",
        content_type="application/json",
        data={"starts_at": "2026-11-24T10:00:00Z", "minutes": 30},
    )
    assert done.status_code == 200
    assert json.loads(done.content)["sequence"] == 0
    ics = ciso.get(f"/api/meetings/{meeting_id}/ics")
    assert b"BEGIN:VEVENT" in ics.content
    engineer = signed_in_client(org.engineer)
    refused = engineer.post("/api/meetings", data={}, content_type="application/json")
    assert refused.status_code == 403
