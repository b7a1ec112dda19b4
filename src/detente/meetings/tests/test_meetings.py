"""The structured decision meeting: proposed from the radar's evidence, scheduled as an RFC 5545
invitation, minuted into decision records or dated deferrals, followed through with actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from icalendar import Calendar

from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.decisions.models import DecisionRecord, DecisionStatus, EscalationLevel
from detente.meetings.ics import meeting_ics
from detente.meetings.models import ItemOutcome, Meeting, MeetingStatus
from detente.meetings.selectors import action_state, follow_through
from detente.meetings.services import (
    PRINCIPLES,
    action_done,
    meeting_minutes,
    meeting_propose,
    meeting_schedule,
)
from detente.meetings.tests.conftest import NOVEMBER, NOW, Org
from detente.tension.models import TensionSnapshot
from detente.tension.services import radar_compute
from detente.tension.signals import Period

MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def test_the_system_proposes_a_meeting_whose_agenda_is_the_radars_evidence(
    org: Org, amber: TensionSnapshot
) -> None:
    meeting = meeting_propose(actor=None)
    assert (meeting.period, meeting.zone, meeting.reason) == ("2026-11", "amber", "radar")
    items = list(meeting.items.all())
    titles = [i.title for i in items]
    # the red line and the open, escalated decision are on the agenda, with their records
    red_line = next(i for i in items if i.signal == "red_line_5")
    assert red_line.evidence == {"decisions": [org.escalated.pk]}
    linked = next(i for i in items if i.decision_id == org.escalated.pk)
    assert linked.title.startswith(f"Decide DR-{org.escalated.pk}")
    assert len(titles) == len(set(titles))
    for item in items:
        # every item is framed on the five principles, the leaders are informed by default
        assert set(item.framing["prompts"]) == {key for key, _ in PRINCIPLES}
        assert item.framing["informed"] == [org.cio.name, org.ciso.name]
        assert item.decide_by == (NOW + dt.timedelta(days=14)).date()
    assert sorted(a.person_id for a in meeting.attendees.all()) == sorted([org.cio.pk, org.ciso.pk])
    event = AuditEvent.objects.get(verb="meeting.proposed", subject_id=str(meeting.pk))
    assert (event.after or {})["zone"] == "amber"
    # the month's meeting is proposed once until it is held
    with pytest.raises(RuleViolation, match="not held yet"):
        meeting_propose(actor=org.cio)


def test_a_green_radar_needs_a_leader_to_ask_and_only_leaders_ask(org: Org) -> None:
    org.escalated.delete()
    radar_compute(period=NOVEMBER, actor=org.ciso)
    assert TensionSnapshot.objects.get(period="2026-11").zone == "green"
    with pytest.raises(RuleViolation, match="green"):
        meeting_propose(actor=None)
    for outsider in (org.engineer, org.auditor, org.facilitator, org.delegate):
        with pytest.raises(PermissionDenied):
            meeting_propose(actor=outsider)
    assert not Meeting.objects.exists()
    asked = meeting_propose(actor=org.cio, title="Quarterly joint review")
    assert (asked.reason, asked.title, asked.items.count()) == (
        "asked",
        "Quarterly joint review",
        1,
    )


def _ics(meeting: Meeting) -> Any:
    return Calendar.from_ical(meeting_ics(meeting)).walk("VEVENT")[0]


def test_scheduling_sends_an_rfc5545_invitation_and_a_move_raises_its_sequence(
    org: Org, amber: TensionSnapshot
) -> None:
    meeting = meeting_propose(actor=None)
    with pytest.raises(RuleViolation, match="not scheduled"):
        meeting_ics(meeting)
    with pytest.raises(InputError, match="future"):
        meeting_schedule(actor=org.cio, meeting=meeting, starts_at=NOW - dt.timedelta(hours=1))
    with pytest.raises(InputError, match="delegate"):
        meeting_schedule(actor=org.cio, meeting=meeting, starts_at=MONDAY, delegates=[org.auditor])
    with pytest.raises(PermissionDenied):
        meeting_schedule(actor=org.engineer, meeting=meeting, starts_at=MONDAY)
    meeting = meeting_schedule(
        actor=org.cio,
        meeting=meeting,
        starts_at=MONDAY,
        minutes=90,
        location="Room 4",
        delegates=[org.delegate],
    )
    event = _ics(meeting)
    assert str(event["uid"]) == f"meeting-{meeting.pk}@detente"
    assert int(event["sequence"]) == 0
    assert event.decoded("dtstart") == MONDAY
    assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(minutes=90)
    attendees = {str(a): a.params for a in event["attendee"]}
    assert set(attendees) == {
        "mailto:cio@example.org",
        "mailto:ciso@example.org",
        "mailto:security_lead@example.org",
    }
    assert attendees["mailto:security_lead@example.org"]["ROLE"] == "OPT-PARTICIPANT"
    assert attendees["mailto:cio@example.org"]["ROLE"] == "REQ-PARTICIPANT"
    description = str(event["description"])
    for item in meeting.items.all():
        assert item.title in description
    assert "Win-win" in description
    assert "Company first" in description
    # a move needs a reason, is recorded and raises SEQUENCE; the UID stays
    later = MONDAY + dt.timedelta(days=2)
    with pytest.raises(InputError, match="why"):
        meeting_schedule(actor=org.ciso, meeting=meeting, starts_at=later)
    moved = meeting_schedule(actor=org.ciso, meeting=meeting, starts_at=later, reason="Board")
    assert dt.datetime.fromisoformat(moved.reschedules[0]["from"]) == MONDAY
    assert moved.reschedules[0]["reason"] == "Board"
    event = _ics(moved)
    assert (int(event["sequence"]), str(event["uid"])) == (1, f"meeting-{meeting.pk}@detente")
    assert event.decoded("dtstart") == later
    assert AuditEvent.objects.filter(verb="meeting.rescheduled", subject_id=str(meeting.pk))


def _held(org: Org) -> Meeting:
    meeting = meeting_propose(actor=None)
    meeting = meeting_schedule(
        actor=org.cio, meeting=meeting, starts_at=MONDAY, delegates=[org.delegate]
    )
    clock.set_now(MONDAY + dt.timedelta(hours=2))
    return meeting


def _outcomes(meeting: Meeting, org: Org) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in meeting.items.all():
        if item.decision_id:
            out.append(
                {
                    "item": item.position,
                    "decision": "Patch in the first January window",
                    "chosen_option": 1,
                    "ciso_recommendation_followed": False,
                    "why_blank": "agreed in the room; the record is kept short",
                }
            )
        else:
            out.append(
                {
                    "item": item.position,
                    "defer_to": "2026-12-15",
                    "reason": "the CMDB owners report first",
                }
            )
    return out


def test_the_minutes_end_every_item_as_a_decision_record_or_a_dated_deferral(
    org: Org, amber: TensionSnapshot
) -> None:
    meeting = _held(org)
    outcomes = _outcomes(meeting, org)
    records = DecisionRecord.objects.count()
    # an item without an outcome: refused, nothing written
    with pytest.raises(InputError, match="decided or deferred"):
        meeting_minutes(
            actor=org.ciso,
            meeting=meeting,
            minutes="Met.",
            attended=["cio@example.org"],
            outcomes=outcomes[:-1],
        )
    bad_action = [{"title": "Write the plan", "owner": "nobody@example.org", "due": "2026-12-01"}]
    with pytest.raises(InputError, match=r"actions\[0\].*owner"):
        meeting_minutes(
            actor=org.ciso,
            meeting=meeting,
            minutes="Met.",
            attended=["cio@example.org"],
            outcomes=outcomes,
            actions=bad_action,
        )
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SCHEDULED
    assert DecisionRecord.objects.count() == records
    assert not meeting.items.exclude(outcome=ItemOutcome.OPEN).exists()
    org.escalated.refresh_from_db()
    assert org.escalated.status == DecisionStatus.OPEN
    # with every item ended and an owned action
    done = meeting_minutes(
        actor=org.ciso,
        meeting=meeting,
        minutes="Both agreed the January window.",
        attended=["cio@example.org", "ciso@example.org"],
        outcomes=outcomes,
        actions=[
            {
                "title": "Book the January window",
                "owner": "security_lead@example.org",
                "due": "2026-12-01",
                "item": 1,
            }
        ],
    )
    assert done.status == MeetingStatus.HELD
    org.escalated.refresh_from_db()
    assert org.escalated.status == DecisionStatus.DECIDED
    assert org.escalated.decision == "Patch in the first January window"
    deferred = done.items.filter(outcome=ItemOutcome.DEFERRED)
    assert deferred.exists()
    assert {i.deferred_to for i in deferred} == {dt.date(2026, 12, 15)}
    attendance = {a.person.email: a.attended for a in done.attendees.select_related("person")}
    assert attendance == {
        "cio@example.org": True,
        "ciso@example.org": True,
        "security_lead@example.org": False,
    }
    state = follow_through(done)
    assert (state["held"], state["actions"], state["actions_done"]) == (True, 1, 0)
    assert state["decisions_taken"] == 1
    action = done.actions.get()
    with pytest.raises(PermissionDenied):
        action_done(actor=org.engineer, action=action)
    action_done(actor=org.delegate, action=action)
    assert follow_through(done)["actions_done"] == 1
    with pytest.raises(RuleViolation, match="already has its minutes"):
        meeting_minutes(
            actor=org.ciso,
            meeting=done,
            minutes="again",
            attended=["cio@example.org"],
            outcomes=outcomes,
        )


def test_a_signal_item_decided_in_the_meeting_becomes_a_new_decision_record(
    org: Org, amber: TensionSnapshot
) -> None:
    meeting = _held(org)
    outcomes = _outcomes(meeting, org)
    red_line = meeting.items.get(signal="red_line_5")
    outcomes[red_line.position - 1] = {
        "item": red_line.position,
        "decision": "Escalations go to the leaders first",
        "options": [
            {
                "title": "Leaders first",
                "business_benefit": "Faster, calmer decisions",
                "facts": ["One executive escalation in November"],
            }
        ],
        "chosen_option": 0,
        "company_first": "Decisions stay with those accountable",
        "win_win": "Both keep their say before the board",
        "informed": ["CEO"],
    }
    meeting_minutes(
        actor=org.cio,
        meeting=meeting,
        minutes="Agreed.",
        attended=["cio@example.org", "ciso@example.org"],
        outcomes=outcomes,
    )
    red_line.refresh_from_db()
    record = red_line.decision
    assert record is not None
    assert record.status == DecisionStatus.DECIDED
    assert record.escalation_level == EscalationLevel.LEADERS
    assert record.informed == ["CEO"]


def test_an_item_not_decided_by_its_date_is_a_tension_signal(
    org: Org, amber: TensionSnapshot
) -> None:
    meeting = meeting_propose(actor=None)
    items = meeting.items.count()
    # a month later nothing was decided: the December radar shows every item, with evidence
    clock.set_now(dt.datetime(2026, 12, 20, tzinfo=dt.UTC))
    december = radar_compute(period=Period(2026, 12), actor=org.ciso)
    reading = next(s for s in december.signals if s["key"] == "meeting_items_undecided")
    assert reading["value"] == items
    assert reading["evidence"]["meetings"] == [meeting.pk]
    assert sorted(reading["evidence"]["agenda_items"]) == sorted(
        meeting.items.values_list("id", flat=True)
    )
    assert reading["contribution"] > 0
    state = action_state(december)
    assert state["meeting"] is None  # December's own meeting was not proposed
    assert action_state(amber)["meeting"]["held"] is False
    assert action_state(amber)["done"] is False


def test_items_ended_on_time_leave_the_signal_at_zero(org: Org, amber: TensionSnapshot) -> None:
    meeting = _held(org)
    meeting_minutes(
        actor=org.cio,
        meeting=meeting,
        minutes="Done.",
        attended=["cio@example.org"],
        outcomes=_outcomes(meeting, org),
    )
    clock.set_now(dt.datetime(2026, 12, 20, tzinfo=dt.UTC))
    december = radar_compute(period=Period(2026, 12), actor=org.ciso)
    reading = next(s for s in december.signals if s["key"] == "meeting_items_undecided")
    assert reading["value"] == 0
    assert reading["facts"] == {"due": meeting.items.count(), "late": 0}
    assert action_state(amber)["done"] is True
