"""Headless Chromium: the CIO records a decision meeting's minutes on its page (attendance, each
item decided or deferred, an action) and the action shows on both leaders' homes; the meeting,
reset and API register pages (their forms open) fit a phone and a laptop and pass axe."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from detente.api_register.services import api_add
from detente.api_register.tests.test_rules import HARDENED
from detente.core import clock
from detente.decisions.models import DecisionStatus
from detente.meetings.models import ItemOutcome, Meeting, MeetingStatus
from detente.meetings.services import meeting_propose, meeting_schedule
from detente.people.models import Role
from detente.people.services import person_upsert
from detente.web.tests.conftest import Crew
from detente.web.tests.test_meetings_browser import NOW, _amber
from detente.web.tests.test_phones_browser import VIEWPORTS, _axe, _overflow

pytestmark = pytest.mark.browser


def _taken_place(crew: Crew) -> Meeting:
    _amber(crew)
    meeting = meeting_propose(actor=None)
    meeting_schedule(
        actor=crew.people["cio"],
        meeting=meeting,
        starts_at=NOW + dt.timedelta(days=1),
        delegates=[crew.people["it_lead"]],
    )
    clock.set_now(NOW + dt.timedelta(days=1, hours=1))
    return meeting


def test_the_cio_records_the_minutes_and_the_action_reaches_both_homes(
    crew: Crew, session_for: Callable[..., Any]
) -> None:
    meeting = _taken_place(crew)
    items = list(meeting.items.all())
    cio = session_for("cio")
    cio.goto(f"/meetings/{meeting.pk}")
    form = cio.locator("#minutes-form")
    form.get_by_label("IT lead attended").uncheck()
    form.get_by_label("Minutes", exact=True).fill("We agreed the January window.")
    for item in items:
        n = f"Item {item.position}"
        if item.decision_id:
            form.get_by_label(f"{n}: outcome").select_option(label="Decided")
            form.get_by_label(f"{n}: the decision").fill("Patch in the first January window")
            form.get_by_label(f"{n}: option chosen").select_option(label="Defer")
            form.get_by_label(f"{n}: why a principle stays blank").fill("agreed in the room")
        else:
            form.get_by_label(f"{n}: outcome").select_option(label="Deferred to a date")
            form.get_by_label(f"{n}: deferred to").fill("2026-12-15")
            form.get_by_label(f"{n}: why it is deferred").fill("the CMDB owners report first")
    form.get_by_label("Action 1: what is done").fill("Book the January window")
    form.get_by_label("Action 1: owner").select_option(value="it_lead@example.org")
    form.get_by_label("Action 1: due").fill("2026-12-01")
    form.get_by_role("button", name="Record the minutes").click()
    cio.get_by_text(f"M-{meeting.pk} minuted: every item decided or deferred.").wait_for()
    assert cio.locator("#minutes-form").count() == 0
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD
    decided = meeting.items.get(outcome=ItemOutcome.DECIDED)
    assert decided.decision is not None
    assert decided.decision.status == DecisionStatus.DECIDED
    assert decided.decision.chosen_option == 1
    assert meeting.items.filter(outcome=ItemOutcome.DEFERRED).count() == len(items) - 1
    assert "deferred to 2026-12-15" in cio.locator(".agenda").inner_text()
    # the action: on the CISO's home (to follow) and, overdue, first on the IT lead's
    ciso = session_for("ciso")
    ciso.goto("/ciso")
    needs = ciso.locator(".need.action")
    assert f"M-{meeting.pk} action of IT lead: Book the January window" in needs.inner_text()
    clock.set_now(dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC))
    lead = session_for("it_lead")
    lead.goto("/me")
    first = lead.locator(".need").first
    assert "Book the January window (overdue since 2026-12-01)" in first.inner_text()
    assert "urgent" in (first.get_attribute("class") or "")


def test_meeting_reset_and_api_pages_fit_a_phone_and_pass_axe(
    crew: Crew, session_for: Callable[..., Any], tmp_path: Path, settings: Any
) -> None:
    settings.DATA_DIR = tmp_path
    meeting = _taken_place(crew)  # its page shows the minutes form
    person_upsert(name="Fay Cilitator", email="facilitator@example.org", role=Role.FACILITATOR)
    api_add(
        actor=crew.people["engineer"],
        name="items",
        service=crew.shop,
        spec=json.dumps(HARDENED).encode(),
        file_name="items.json",
    )
    page = session_for("cio")
    problems: dict[str, Any] = {}
    for url in ("/meetings/", f"/meetings/{meeting.pk}", "/reset/", "/apis", "/apis/items"):
        for name, (width, height) in VIEWPORTS.items():
            page.set_viewport_size({"width": width, "height": height})
            response = page.goto(url)
            assert response is not None
            assert response.status == 200, (url, name)
            # the forms folded in <details> are checked open
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
            shot = tmp_path / f"{re.sub(r'[^a-z0-9]+', '_', url)}-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 1000
            if (extra := _overflow(page)) > 0:
                problems[f"{url} {name}: {extra}px too wide"] = page.evaluate(
                    "[...document.querySelectorAll('body *')].filter(e => "
                    "e.offsetWidth > window.innerWidth).slice(0, 8)"
                    ".map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + e.offsetWidth)"
                )
            if name == "laptop" and (violations := _axe(page)):
                problems[f"{url} axe"] = violations
    assert page.locator("#minutes-form").count() == 0  # the last page is the API's
    assert not problems, json.dumps(problems, indent=1)
