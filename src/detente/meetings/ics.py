"""The meeting's invitation (RFC 5545): both leaders and the delegates as attendees, the agenda
framed on the five principles in the description, SEQUENCE raised on every reschedule."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event, vCalAddress, vText

from detente.core.errors import RuleViolation
from detente.meetings.models import Meeting
from detente.meetings.services import PRINCIPLES


def meeting_ics(meeting: Meeting) -> bytes:
    if meeting.starts_at is None or meeting.ends_at is None:
        raise RuleViolation(f"M-{meeting.pk} is not scheduled yet (detente meeting schedule)")
    calendar = Calendar()
    calendar.add("prodid", "-//Détente//decision meeting//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", meeting.proposed_at)
    event.add("dtstart", meeting.starts_at.astimezone(dt.UTC))  # UTC: "Z" times
    event.add("dtend", meeting.ends_at.astimezone(dt.UTC))
    event.add("summary", meeting.title)
    if meeting.location:
        event.add("location", meeting.location)
    lines = [f"Radar {meeting.period}: {meeting.zone}." if meeting.period else meeting.title, ""]
    for item in meeting.items.all():
        lines.append(f"{item.position}. {item.title} (decide by {item.decide_by:%Y-%m-%d})")
        lines.extend(f"   - {fact}" for fact in item.framing.get("facts", []))
    lines.append("")
    lines.append(
        "Each item ends as a decision record or is deferred to a date, on the five principles:"
    )
    lines.extend(f"- {prompt}" for _, prompt in PRINCIPLES)
    event.add("description", "\n".join(lines))
    organizer = meeting.proposed_by
    if organizer is not None:
        address = vCalAddress(f"mailto:{organizer.email}")
        address.params["cn"] = vText(organizer.name)
        event["organizer"] = address
    for attendee in meeting.attendees.select_related("person"):
        address = vCalAddress(f"mailto:{attendee.person.email}")
        address.params["cn"] = vText(attendee.person.name)
        address.params["role"] = vText(
            "OPT-PARTICIPANT" if attendee.delegate else "REQ-PARTICIPANT"
        )
        address.params["partstat"] = vText("NEEDS-ACTION")
        address.params["rsvp"] = vText("TRUE")
        event.add("attendee", address, encode=False)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
