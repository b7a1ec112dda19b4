"""Reads: meetings with their agenda and follow-through, resets, the facilitator's evidence pack,
and the state of the zone's action that the radar shows beside its index."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from detente.acceptances.models import RiskAcceptance
from detente.core import clock
from detente.core.errors import NotFound
from detente.decisions.models import DecisionRecord
from detente.incidents.models import Incident
from detente.meetings.models import (
    Action,
    ItemOutcome,
    Meeting,
    MeetingKind,
    MeetingStatus,
    ResetEngagement,
    ResetStatus,
)
from detente.people.models import Person, Role
from detente.tension.models import PulseResponse, TensionSnapshot


def meeting_get(pk: int) -> Meeting:
    found = Meeting.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"no meeting M-{pk}")
    return found


def meetings(status: str | None = None) -> QuerySet[Meeting]:
    rows = Meeting.objects.all()
    if status:
        rows = rows.filter(status=status)
    return rows


def action_get(pk: int) -> Action:
    found = Action.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"no action {pk}")
    return found


def reset_get(pk: int | None = None) -> ResetEngagement:
    """A reset by id, or the current one (not ended; else the latest)."""
    if pk is not None:
        found = ResetEngagement.objects.filter(pk=pk).first()
        if found is None:
            raise NotFound(f"no reset RS-{pk}")
        return found
    found = (
        ResetEngagement.objects.exclude(status=ResetStatus.ENDED).first()
        or ResetEngagement.objects.first()
    )
    if found is None:
        raise NotFound("no reset has been started (detente reset start)")
    return found


def follow_through(meeting: Meeting) -> dict[str, Any]:
    """Held? Decisions taken (and deferred) of the items; actions done of the actions."""
    items = list(meeting.items.values_list("outcome", flat=True))
    actions = list(meeting.actions.values_list("done_at", "due"))
    today = clock.now().date()
    return {
        "id": meeting.pk,
        "status": meeting.status,
        "starts_at": meeting.starts_at.isoformat() if meeting.starts_at else None,
        "held": meeting.status == MeetingStatus.HELD,
        "items": len(items),
        "decisions_taken": sum(o == ItemOutcome.DECIDED for o in items),
        "deferred": sum(o == ItemOutcome.DEFERRED for o in items),
        "actions": len(actions),
        "actions_done": sum(done is not None for done, _ in actions),
        "actions_overdue": sum(done is None and due < today for done, due in actions),
    }


def reset_state(reset: ResetEngagement) -> dict[str, Any]:
    checkins = list(reset.checkins.all())
    return {
        "id": reset.pk,
        "status": reset.status,
        "facilitator": reset.facilitator.name,
        "scope": reset.scope,
        "access_until": reset.access_until.isoformat() if reset.access_until else None,
        "access_open": access_open(reset),
        "sessions_held": reset.sessions.filter(status=MeetingStatus.HELD).count(),
        "charter": sorted(reset.charter.values_list("id", flat=True)),
        "checkins": [
            {
                "day": c.day,
                "due_on": c.due_on.isoformat(),
                "done": c.done_at is not None,
                "index_change": c.comparison.get("index_change"),
            }
            for c in checkins
        ],
        "baseline": reset.baseline,
    }


def access_open(reset: ResetEngagement, now: dt.datetime | None = None) -> bool:
    moment = now or clock.now()
    return (
        reset.status == ResetStatus.ACTIVE
        and reset.access_from is not None
        and reset.access_until is not None
        and reset.access_from <= moment < reset.access_until
    )


def action_state(snapshot: TensionSnapshot) -> dict[str, Any]:
    """What became of the zone's action: the month's decision meeting and the reset."""
    meeting = (
        Meeting.objects.filter(kind=MeetingKind.DECISION, period=snapshot.period)
        .order_by("-proposed_at", "-id")
        .first()
    )
    year, month = (int(part) for part in snapshot.period.split("-"))
    reset = (
        ResetEngagement.objects.filter(started_at__lt=snapshot.period_end)
        .exclude(ended_at__lt=dt.datetime(year, month, 1, tzinfo=dt.UTC))
        .first()
    )
    state: dict[str, Any] = {
        "zone": snapshot.zone,
        "meeting": follow_through(meeting) if meeting else None,
        "reset": reset_state(reset) if reset else None,
    }
    if snapshot.zone == "amber":
        state["done"] = bool(meeting and meeting.status == MeetingStatus.HELD)
    elif snapshot.zone == "red":
        state["done"] = bool(reset and reset.status != ResetStatus.PROPOSED)
    else:
        state["done"] = True
    return state


def actions_of(person: Person) -> QuerySet[Action]:
    """The open actions a person owns (for their home)."""
    return Action.objects.filter(owner=person, done_at__isnull=True).select_related("meeting")


def actions_for_home(person: Person) -> list[Action]:
    """The open meeting actions a home shows: the person's own, and for either leader every
    open action of the meetings (both leaders follow the follow-through). Overdue ones first,
    then by due date."""
    rows = Action.objects.filter(done_at__isnull=True).select_related("meeting", "owner")
    if not person.has_any_role((Role.CIO, Role.CISO)):
        rows = rows.filter(owner=person)
    today = clock.now().date()
    return sorted(rows, key=lambda a: (a.due >= today, a.due, a.pk))


def evidence_pack(reset: ResetEngagement) -> dict[str, Any]:
    """The records of the scope both leaders signed, nothing more."""
    pack: dict[str, Any] = {"reset": reset.pk, "scope": reset.scope, "goals": reset.goals}
    since = reset.started_at - dt.timedelta(days=365)
    if "radar" in reset.scope:
        pack["radar"] = [
            {
                "period": s.period,
                "index": s.index,
                "zone": s.zone,
                "perception_gap": next(
                    (x["value"] for x in s.signals if x["key"] == "perception_gap"), None
                ),
            }
            for s in TensionSnapshot.objects.filter(computed_at__gte=since)
        ]
    if "pulse" in reset.scope:
        pack["pulse"] = [
            {"period": p.period, "role": p.role, "answers": p.answers, "meta": p.meta}
            for p in PulseResponse.objects.filter(submitted_at__gte=since)
        ]
    if "decisions" in reset.scope:
        pack["decisions"] = [
            {
                "id": d.pk,
                "title": d.title,
                "status": d.status,
                "decision": d.decision,
                "escalation_level": d.escalation_level,
            }
            for d in DecisionRecord.objects.filter(created_at__gte=since)[:500]
        ]
    if "acceptances" in reset.scope:
        pack["acceptances"] = [
            {"id": a.pk, "status": a.status, "renewals": a.renewals}
            for a in RiskAcceptance.objects.filter(requested_at__gte=since)[:500]
        ]
    if "incidents" in reset.scope:
        pack["incidents"] = [
            {
                "id": i.pk,
                "severity": i.severity,
                "declared_at": i.declared_at.isoformat(),
                "cio_informed_at": i.cio_informed_at.isoformat() if i.cio_informed_at else None,
            }
            for i in Incident.objects.filter(declared_at__gte=since)[:500]
        ]
    return pack
