"""ICS (RFC 5545) export of a plan: one event per window occurrence that has work in it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from detente.planning.models import PatchPlan, PlanItem


def plan_ics(plan: PatchPlan) -> bytes:
    """The plan's occupied occurrences, in each window's own time zone, with their work listed."""
    groups: dict[tuple[int, dt.datetime], list[PlanItem]] = defaultdict(list)
    for item in plan.work.filter(window__isnull=False).select_related("window__service", "asset"):
        assert item.starts_at is not None  # planned items have their occurrence
        groups[(item.window_id or 0, item.starts_at)].append(item)
    calendar = Calendar()
    calendar.add("prodid", "-//Détente//patch plan//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Détente patch plan {plan.pk}")
    for (window_id, starts_at), items in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0])):
        window = items[0].window
        assert window is not None
        assert items[0].ends_at is not None
        tz = ZoneInfo(window.timezone)
        hours = sum(i.effort_hours for i in items)
        findings = sum(len(i.finding_ids) for i in items)
        late = [i for i in items if i.miss]
        event = Event()
        event.add("uid", f"plan-{plan.pk}-window-{window_id}-{starts_at:%Y%m%dT%H%M%SZ}@detente")
        event.add("dtstamp", plan.made_at)
        event.add("dtstart", starts_at.astimezone(tz))
        event.add("dtend", items[0].ends_at.astimezone(tz))
        event.add(
            "summary",
            f"{window.service.name}: {window.name} — {len(items)} change(s), {hours:g} h",
        )
        lines = [
            f"{i.key}: {len(i.finding_ids)} finding(s), {i.effort_hours:g} h, "
            f"deadline {i.deadline:%Y-%m-%d}" + (" (LATE)" if i.miss else "")
            for i in sorted(items, key=lambda i: (i.deadline, i.key))
        ]
        lines.append(f"{findings} finding(s) closed; {len(late)} item(s) past their deadline.")
        event.add("description", "\n".join(lines))
        event.add("categories", ["change-window", window.service.slug])
        calendar.add_component(event)
    calendar.add_missing_timezones()  # VTIMEZONE for every TZID used (RFC 5545 §3.6.5)
    return bytes(calendar.to_ical())
