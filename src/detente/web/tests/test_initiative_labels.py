"""Initiative states read as labels with a badge each: every state of the phase transition table
and every guardrail state has a label (not its key) and a CSS badge, and the pages show them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from detente.access.testing import signed_in_client
from detente.initiatives.csvfile import Point
from detente.initiatives.models import ALLOWED, GuardrailState
from detente.initiatives.services import guardrails_evaluate, metrics_record, phase_cancel
from detente.initiatives.tests.conftest import NOW, Org, build_org, create, started
from detente.web.templatetags import labels

CSS = Path(__file__).resolve().parents[1] / "static" / "web" / "app.css"
H = dt.timedelta(hours=1)


def _badges() -> set[str]:
    return set(re.findall(r"\.status\.([a-z_]+)", CSS.read_text(encoding="utf-8")))


def test_every_phase_state_in_the_transition_table_has_a_badge_and_a_label() -> None:
    states = set(ALLOWED) | {s for targets in ALLOWED.values() for s in targets}
    assert "cancelled" in states
    missing = sorted(states - _badges())
    assert missing == []
    for state in states:
        label = labels.phase_status_label(state)
        assert label, state
        assert label != state, state
        assert "_" not in label, state
    assert labels.phase_status_label("cancelled") == "Cancelled after objection"
    assert labels.phase_status_label("rolled_back") == "Rolled back"


def test_every_guardrail_state_has_a_badge_and_a_label() -> None:
    assert sorted(set(GuardrailState.values) - _badges()) == []
    assert labels.guardrail_state_label("unavailable") == "Metric unavailable"
    assert labels.guardrail_label("above", "direction") == "breached above the threshold"
    assert labels.guardrail_label("pause", "action") == "Pause the phase"
    assert labels.minutes_span(120) == "2 h"
    assert labels.stamp("2026-10-05T08:00:00+00:00") == "2026-10-05 08:00"
    assert labels.stamp("2026-10-05") == "2026-10-05"


@pytest.fixture
def org(db: None) -> Org:
    return build_org()


def test_the_initiative_pages_show_labels_not_keys(org: Org) -> None:
    # given a rollout paused by a drop-off breach, and a second one cancelled after an objection
    paused = create(org)
    phase = started(org, paused)
    metrics_record(actor=None, initiative=paused, source="t", points=[
        Point("drop_off_rate", NOW + i * H, v) for i, v in enumerate([4.0, 4.2, 9.0, 9.6])
    ])  # fmt: skip
    guardrails_evaluate(now=NOW + 3 * H)
    phase.refresh_from_db()
    assert phase.status == "paused"
    cancelled = create(org)
    started(org, cancelled)
    phase_cancel(actor=org.ciso, phase=cancelled.phases.get(number=1), reason="Passkeys first")
    client = signed_in_client(org.cio)
    # when the list and both initiatives' pages are read
    listing = client.get("/initiatives/").content.decode()
    page = client.get(f"/initiatives/{paused.pk}/").content.decode()
    other = client.get(f"/initiatives/{cancelled.pk}/").content.decode()
    # then states, directions, actions, windows and moments read as labels in one date format
    assert '<span class="status paused">Paused</span>' in listing
    assert '<span class="status breached">Breached</span>' in listing
    assert '<span class="status cancelled">Cancelled after objection</span>' in listing
    assert '<span class="status paused">Paused</span></h2>' in page
    assert "<td>breached above the threshold</td>" in page
    assert "<td>breached below the threshold</td>" in page
    assert "<td>Pause the phase</td>" in page
    assert "<td>Notify both sponsors</td>" in page
    assert "<td>2 h</td>" in page
    assert "<td>1 d</td>" in page
    assert "Running → Paused" in page
    assert "Cancelled after objection" in other
    for text in (page, other, listing):
        assert not re.search(r">(paused|breached|rolled_back|cancelled|running|planned)<", text)
        outside_charts = re.sub(r"<svg.*?</svg>", "", text, flags=re.S)
        assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", outside_charts)
    assert "<td>120 min</td>" not in page
    assert "<td>above</td>" not in page
    assert "<td>pause</td>" not in page
