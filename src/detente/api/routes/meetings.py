"""/api/meetings and /api/resets: the radar's actions as work — decision meetings (propose,
schedule with an ICS invitation, minutes, actions) and facilitated resets (start, grant, check-in,
end), and the facilitator's read-only, time-limited, audited evidence pack."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status
from pydantic import Field

from detente.api.auth import actor, require_write
from detente.api.schemas import ERRORS, MONTH, In, PathId
from detente.meetings import selectors, services
from detente.meetings.ics import meeting_ics
from detente.people.selectors import person_by_email
from detente.tension.signals import Period

router = Router(tags=["meetings"])

Text = Annotated[str, Field(max_length=4000)]
Email = Annotated[str, Field(max_length=254)]
Obj = dict[str, Any]


class ProposeIn(In):
    period: Annotated[str | None, Field(pattern=MONTH)] = None
    title: Annotated[str, Field(max_length=200)] = ""


class ScheduleIn(In):
    starts_at: dt.datetime
    minutes: Annotated[int, Field(ge=15, le=480)] = 60
    location: Annotated[str, Field(max_length=200)] = ""
    delegates: Annotated[list[Email], Field(max_length=20)] = []
    reason: Text = ""


class MinutesIn(In):
    minutes: Annotated[str, Field(max_length=20000)]
    attended: Annotated[list[Email], Field(max_length=50)]
    outcomes: Annotated[list[Obj], Field(max_length=100)]
    actions: Annotated[list[Obj], Field(max_length=100)] = []


class ResetIn(In):
    facilitator: Email
    scope: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=10)]
    goals: Text
    access_days: Annotated[int, Field(ge=1, le=120)] = 90


class CheckinIn(In):
    day: Annotated[int, Field(ge=1, le=365)]
    notes: Text = ""


def meeting_out(meeting: Any) -> Obj:
    return {
        "id": meeting.pk,
        "kind": meeting.kind,
        "title": meeting.title,
        "period": meeting.period,
        "zone": meeting.zone,
        "status": meeting.status,
        "location": meeting.location,
        "sequence": meeting.sequence,
        "reschedules": meeting.reschedules,
        "minutes": meeting.minutes,
        "attendees": [
            {"email": a.person.email, "delegate": a.delegate, "attended": a.attended}
            for a in meeting.attendees.select_related("person")
        ],
        "items": [
            {
                "position": i.position,
                "title": i.title,
                "signal": i.signal,
                "evidence": i.evidence,
                "framing": i.framing,
                "decide_by": i.decide_by.isoformat(),
                "outcome": i.outcome,
                "decision": i.decision_id,
                "deferred_to": i.deferred_to.isoformat() if i.deferred_to else None,
                "carried_from": (
                    f"M-{i.carried_from.meeting_id} item {i.carried_from.position}"
                    if i.carried_from
                    else None
                ),
            }
            for i in meeting.items.select_related("carried_from")
        ],
        "actions": [
            {
                "id": a.pk,
                "title": a.title,
                "owner": a.owner.email,
                "due": a.due.isoformat(),
                "done": a.done_at is not None,
            }
            for a in meeting.actions.select_related("owner")
        ],
        "follow_through": selectors.follow_through(meeting),
    }


@router.get("/meetings", response={200: list[Obj], **ERRORS})
def list_meetings(request: HttpRequest) -> list[Obj]:
    return [selectors.follow_through(m) | {"title": m.title} for m in selectors.meetings()[:200]]


@router.post("/meetings", response={201: Obj, **ERRORS})
def propose(request: HttpRequest, body: ProposeIn) -> Status[Obj]:
    meeting = services.meeting_propose(
        actor=require_write(request),
        period=Period.parse(body.period) if body.period else None,
        title=body.title,
    )
    return Status(201, meeting_out(meeting))


@router.get("/meetings/{meeting_id}", response={200: Obj, **ERRORS})
def get_meeting(request: HttpRequest, meeting_id: PathId) -> Obj:
    return meeting_out(selectors.meeting_get(meeting_id))


@router.get("/meetings/{meeting_id}/ics", response={200: str, **ERRORS})
def meeting_invitation(request: HttpRequest, meeting_id: PathId) -> HttpResponse:
    """The RFC 5545 invitation (``text/calendar``)."""
    body = meeting_ics(selectors.meeting_get(meeting_id))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting_id}.ics"'
    return response


@router.post("/meetings/{meeting_id}/schedule", response={200: Obj, **ERRORS})
def schedule(request: HttpRequest, meeting_id: PathId, body: ScheduleIn) -> Obj:
    who = require_write(request)
    meeting = services.meeting_schedule(
        actor=who,
        meeting=selectors.meeting_get(meeting_id),
        starts_at=body.starts_at,
        minutes=body.minutes,
        location=body.location,
        delegates=[person_by_email(e) for e in body.delegates],
        reason=body.reason,
    )
    return meeting_out(meeting)


@router.post("/meetings/{meeting_id}/minutes", response={200: Obj, **ERRORS})
def minutes(request: HttpRequest, meeting_id: PathId, body: MinutesIn) -> Obj:
    meeting = services.meeting_minutes(
        actor=require_write(request),
        meeting=selectors.meeting_get(meeting_id),
        minutes=body.minutes,
        attended=body.attended,
        outcomes=body.outcomes,
        actions=body.actions,
    )
    return meeting_out(meeting)


@router.post("/meeting-actions/{action_id}/done", response={200: Obj, **ERRORS})
def action_done(request: HttpRequest, action_id: PathId) -> Obj:
    done = services.action_done(
        actor=require_write(request), action=selectors.action_get(action_id)
    )
    return {"id": done.pk, "done_at": done.done_at.isoformat() if done.done_at else None}


# ----------------------------------------------------------------------------- resets


@router.get("/resets/facilitator", response={200: Obj, **ERRORS})
def facilitator_pack(request: HttpRequest) -> Obj:
    """The facilitator's evidence pack: the signed scope only, while the window is open; each
    read is audited."""
    return services.reset_read(actor=actor(request))


@router.get("/resets/current", response={200: Obj, **ERRORS})
def current_reset(request: HttpRequest) -> Obj:
    return selectors.reset_state(selectors.reset_get())


@router.get("/resets/{reset_id}", response={200: Obj, **ERRORS})
def get_reset(request: HttpRequest, reset_id: PathId) -> Obj:
    return selectors.reset_state(selectors.reset_get(reset_id))


@router.post("/resets", response={201: Obj, **ERRORS})
def start_reset(request: HttpRequest, body: ResetIn) -> Status[Obj]:
    reset = services.reset_start(
        actor=require_write(request),
        facilitator=person_by_email(body.facilitator),
        scope=body.scope,
        goals=body.goals,
        access_days=body.access_days,
    )
    return Status(201, selectors.reset_state(reset))


@router.post("/resets/{reset_id}/grant", response={200: Obj, **ERRORS})
def grant_reset(request: HttpRequest, reset_id: PathId) -> Obj:
    reset = services.reset_grant(actor=require_write(request), reset=selectors.reset_get(reset_id))
    return selectors.reset_state(reset)


@router.post("/resets/{reset_id}/checkin", response={200: Obj, **ERRORS})
def checkin_reset(request: HttpRequest, reset_id: PathId, body: CheckinIn) -> Obj:
    checkin = services.reset_checkin(
        actor=require_write(request),
        reset=selectors.reset_get(reset_id),
        day=body.day,
        notes=body.notes,
    )
    return {"day": checkin.day, "comparison": checkin.comparison}


@router.post("/resets/{reset_id}/end", response={200: Obj, **ERRORS})
def end_reset(request: HttpRequest, reset_id: PathId) -> Obj:
    reset = services.reset_end(actor=require_write(request), reset=selectors.reset_get(reset_id))
    return selectors.reset_state(reset)
