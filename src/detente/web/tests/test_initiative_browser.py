"""The initiative page in headless Chromium: both sponsors sign in their own browsers, the CIO
ticks the communication and starts the pilot; after a drop-off breach the page shows the phase
paused, the chart with its threshold, and the open go/no-go decision."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from detente.core import clock
from detente.initiatives.csvfile import Point
from detente.initiatives.document import parse_initiative
from detente.initiatives.models import Phase
from detente.initiatives.services import guardrails_evaluate, initiative_create, metrics_record
from detente.initiatives.tests.conftest import MFA
from detente.inventory.services import service_upsert
from detente.web.tests.conftest import Crew

pytestmark = pytest.mark.browser
H = dt.timedelta(hours=1)


def test_sponsors_sign_start_and_see_the_pause(crew: Crew, session_for: Callable[..., Any]) -> None:
    service_upsert(slug="online-banking", name="Online banking",
                   owner=crew.people["service_owner"])  # fmt: skip
    initiative = initiative_create(
        actor=crew.people["ciso"], spec=parse_initiative(MFA.read_text(), source="mfa.yaml")
    )
    url = f"/initiatives/{initiative.pk}/"

    ciso = session_for("ciso")
    ciso.goto(url)
    ciso.get_by_role("button", name="Sign the guardrails (CISO side)").first.click()
    ciso.get_by_text("You signed the guardrails of phase 1.").wait_for()

    cio = session_for("cio")
    cio.goto(url)
    cio.get_by_role("button", name="Sign the guardrails (CIO side)").first.click()
    cio.get_by_text("You signed the guardrails of phase 1.").wait_for()
    cio.get_by_role("button", name="Mark done").first.click()
    cio.get_by_text("Communication item 1 of phase 1 done.").wait_for()
    cio.get_by_role("button", name="Start phase 1").click()
    cio.get_by_text("Phase 1 is running.").wait_for()

    start = clock.now().replace(minute=0, second=0, microsecond=0)
    metrics_record(actor=None, initiative=initiative, source="test", points=[
        Point("drop_off_rate", start - (3 - i) * H, v) for i, v in enumerate([4.0, 4.1, 9.2, 9.9])
    ])  # fmt: skip
    guardrails_evaluate(now=start)
    phase = Phase.objects.get(initiative=initiative, number=1)
    assert phase.status == "paused"

    cio.goto(url)
    assert cio.locator("#guardrail-status").inner_text() == "Breached"
    assert cio.locator("#next-decision").inner_text() == f"go/no-go DR-{phase.go_no_go_id}"
    chart = cio.locator("#chart-drop_off_rate svg")
    assert chart.locator("line.threshold").count() == 1
    assert chart.locator("rect.band.paused").count() == 1
    cio.get_by_role("button", name="Resume (needs the go decision)").click()
    cio.get_by_text(
        f"resuming needs the go/no-go decision DR-{phase.go_no_go_id} decided"
    ).wait_for()
