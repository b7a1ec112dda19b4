"""Headless Chromium: the CIO schedules the decision meeting the amber radar proposed; the two
leaders run a reset whose facilitator reads the shared evidence until the window closes."""

from __future__ import annotations

import datetime as dt
import re
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from detente.access.services import account_set_password
from detente.core import clock
from detente.decisions.services import decision_create
from detente.meetings.models import Meeting, ResetEngagement, ResetStatus
from detente.people.models import Role
from detente.people.services import person_upsert
from detente.policy.services import policy_ensure_default
from detente.tension.services import radar_compute
from detente.tension.signals import Period
from detente.web.tests.conftest import PASSWORD, Crew, sign_in

pytestmark = pytest.mark.browser
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _warm(crew: Crew) -> None:
    """The live server's first request loads the URLconf and the API; on a loaded machine that
    can outlast the browser's timeout, so it is made once before any browser waits on it."""
    with urllib.request.urlopen(f"{crew.base_url}/login", timeout=180) as response:
        assert response.status == 200


def _amber(crew: Crew) -> None:
    _warm(crew)
    clock.set_now(NOW - dt.timedelta(hours=1))
    policy_ensure_default()
    decision_create(
        actor=crew.people["ciso"],
        title="Defer the core-banking patch past the freeze",
        pressure_point="patching",
        question="Patch before the freeze or in January?",
        options=[
            {"title": "Patch now", "business_benefit": "No exposure"},
            {"title": "Defer", "business_benefit": "No change risk"},
        ],
        escalation_level="executive",
    )
    clock.set_now(NOW)
    assert radar_compute(period=Period(2026, 11), actor=crew.people["ciso"]).zone == "amber"


def test_the_cio_schedules_the_proposed_meeting(
    crew: Crew, session_for: Callable[..., Any]
) -> None:
    _amber(crew)
    cio = session_for("cio")
    cio.goto("/meetings/")
    cio.get_by_label("Radar month (YYYY-MM, empty: the latest)").fill("2026-11")
    cio.get_by_role("button", name="Propose a meeting").click()
    cio.wait_for_url(re.compile(r"/meetings/[0-9]+$"))
    meeting = Meeting.objects.get()
    cio.get_by_text(f"M-{meeting.pk} proposed.").wait_for()
    assert "Defer the core-banking patch" in cio.locator(".agenda").inner_text()
    cio.get_by_label("Start (date and time)").fill("2026-11-23T10:00")
    cio.get_by_label("UTC offset").fill("+01:00")
    cio.get_by_label("Delegates (e-mails)").fill("it_lead@example.org")
    cio.get_by_role("button", name="Schedule").click()
    cio.get_by_text(f"M-{meeting.pk} scheduled; the invitation is ready.").wait_for()
    assert cio.locator("#invitation").is_visible()
    assert "IT lead" in cio.content()
    meeting = Meeting.objects.get(pk=meeting.pk)
    assert meeting.starts_at == dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    # moving it asks why and raises the invitation's sequence
    cio.get_by_label("Start (date and time)").fill("2026-11-24T10:00")
    cio.get_by_label("Why it moves").fill("Board meeting moved")
    cio.get_by_role("button", name="Move").click()
    cio.get_by_text("moved 1×").wait_for()


def test_a_reset_whose_facilitator_access_expires(
    crew: Crew, session_for: Callable[..., Any]
) -> None:
    _amber(crew)
    facilitator = person_upsert(
        name="Fay Cilitator", email="facilitator@example.org", role=Role.FACILITATOR
    )
    account_set_password(person=facilitator, password=PASSWORD)
    cio = session_for("cio")
    cio.goto("/reset/")
    cio.get_by_label("radar").check()
    cio.get_by_label("decisions").check()
    cio.get_by_label("Goals").fill("Agree decision rights and the escalation protocol")
    cio.get_by_label("Access (days)").fill("7")
    cio.get_by_role("button", name="Propose and sign the scope").click()
    cio.get_by_text("Reset proposed.").wait_for()
    # the proposer cannot also grant
    cio.get_by_role("button", name="Sign the scope (grant access)").click()
    cio.get_by_text("separation of duties").wait_for()
    ciso = session_for("ciso")
    ciso.goto("/reset/")
    ciso.get_by_role("button", name="Sign the scope (grant access)").click()
    ciso.get_by_text("Signed.").wait_for()
    assert ResetEngagement.objects.get().status == ResetStatus.ACTIVE

    reader = session_for(None)
    sign_in(reader, "facilitator@example.org")
    reader.wait_for_url("**/reset/facilitator")
    assert "Defer the core-banking patch" in reader.content()
    reader.goto("/findings")  # any other page sends the facilitator back to the door
    reader.wait_for_url("**/reset/facilitator")
    # a week on, the same browser session finds the door shut (no job ran)
    clock.set_now(NOW + dt.timedelta(days=7, minutes=1))
    reader.reload()
    assert "no open facilitator access" in reader.locator("#access-ended").inner_text()
    assert "Defer the core-banking patch" not in reader.content()
