"""The facilitated reset: a scope both leaders sign, a facilitator's read-only access that ends by
itself, joint sessions, a charter of decision records, 30/60/90-day check-ins with the pulse
retaken, and an end both leaders sign."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.meetings.models import MeetingKind, ResetEngagement, ResetStatus
from detente.meetings.selectors import access_open, action_state, reset_state
from detente.meetings.services import (
    reset_charter_add,
    reset_checkin,
    reset_end,
    reset_grant,
    reset_read,
    reset_session_propose,
    reset_start,
)
from detente.meetings.tests.conftest import NOW, Org, both_answer_pulse
from detente.tension.models import TensionSnapshot


def _started(org: Org, scope: tuple[str, ...] = ("radar", "pulse", "decisions")) -> ResetEngagement:
    return reset_start(
        actor=org.cio,
        facilitator=org.facilitator,
        scope=list(scope),
        goals="Agree decision rights and the escalation protocol",
        access_days=30,
    )


def test_starting_a_reset_checks_who_what_and_for_how_long(
    org: Org, amber: TensionSnapshot
) -> None:
    for wrong, match in (
        ({"facilitator": org.engineer}, "not an active facilitator"),
        ({"scope": ["radar", "payroll"]}, "payroll"),
        ({"scope": []}, "empty"),
        ({"access_days": 365}, "1 to 120"),
    ):
        args = {"facilitator": org.facilitator, "scope": ["radar"], "access_days": 30, **wrong}
        with pytest.raises(InputError, match=match):
            reset_start(actor=org.cio, goals="g", **args)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        reset_start(actor=org.delegate, facilitator=org.facilitator, scope=["radar"], goals="g")
    assert not ResetEngagement.objects.exists()
    reset = _started(org)
    assert reset.status == ResetStatus.PROPOSED
    assert reset.baseline["index"] == amber.index
    assert reset.baseline["zone"] == "amber"
    with pytest.raises(RuleViolation, match="end it first"):
        _started(org)


def test_both_leaders_sign_the_scope_before_the_facilitator_reads_anything(
    org: Org, amber: TensionSnapshot
) -> None:
    reset = _started(org)
    # proposed only: no access yet
    with pytest.raises(PermissionDenied, match="no open facilitator access"):
        reset_read(actor=org.facilitator)
    # separation of duties: the proposer does not sign twice
    with pytest.raises(RuleViolation, match="separation of duties"):
        reset_grant(actor=org.cio, reset=reset)
    with pytest.raises(PermissionDenied):
        reset_grant(actor=org.facilitator, reset=reset)
    reset = reset_grant(actor=org.ciso, reset=reset)
    assert reset.status == ResetStatus.ACTIVE
    assert reset.access_until == NOW + dt.timedelta(days=30)
    assert [c.day for c in reset.checkins.all()] == [30, 60, 90]
    pack = reset_read(actor=org.facilitator)
    # only the signed scope is shared
    assert set(pack) == {"reset", "scope", "goals", "radar", "pulse", "decisions"}
    assert pack["radar"][0]["period"] == "2026-11"
    assert [d["id"] for d in pack["decisions"]] == [org.escalated.pk]
    # each read is audited
    assert AuditEvent.objects.filter(verb="reset.facilitator_read", actor_id=org.facilitator.pk)
    # others do not read through the facilitator's door
    with pytest.raises(PermissionDenied):
        reset_read(actor=org.engineer)


def test_ending_the_reset_closes_an_open_window_at_once(org: Org, amber: TensionSnapshot) -> None:
    reset = reset_grant(actor=org.ciso, reset=_started(org))
    clock.set_now(NOW + dt.timedelta(days=3))
    reset_end(actor=org.cio, reset=reset)
    assert reset_read(actor=org.facilitator)["reset"] == reset.pk
    reset = reset_end(actor=org.ciso, reset=reset)
    assert reset.access_until == clock.now()
    with pytest.raises(PermissionDenied, match="ended"):
        reset_read(actor=org.facilitator)


def test_the_facilitators_access_ends_by_itself(org: Org, amber: TensionSnapshot) -> None:
    reset = reset_grant(actor=org.ciso, reset=_started(org))
    clock.set_now(NOW + dt.timedelta(days=30) - dt.timedelta(seconds=1))
    assert reset_read(actor=org.facilitator)["reset"] == reset.pk
    # no job ran: the next read after the window is refused, the reset is still active
    clock.set_now(NOW + dt.timedelta(days=30))
    with pytest.raises(PermissionDenied, match="ended"):
        reset_read(actor=org.facilitator)
    reset.refresh_from_db()
    assert reset.status == ResetStatus.ACTIVE
    assert not access_open(reset)


def test_sessions_charter_checkins_and_an_end_both_sign(org: Org, amber: TensionSnapshot) -> None:
    reset = reset_grant(actor=org.ciso, reset=_started(org))
    session = reset_session_propose(
        actor=org.ciso,
        reset=reset,
        title="First joint session",
        agenda=["Decision rights for patch deferrals", "Escalation protocol"],
    )
    assert session.kind == MeetingKind.RESET_SESSION
    assert {a.person_id for a in session.attendees.all()} == {
        org.cio.pk,
        org.ciso.pk,
        org.facilitator.pk,
    }
    reset_charter_add(actor=org.cio, reset=reset, record=org.escalated)
    assert reset_state(reset)["charter"] == [org.escalated.pk]
    # day 30: the pulse must be retaken by both leaders first
    clock.set_now(NOW + dt.timedelta(days=31))
    with pytest.raises(RuleViolation, match="retake the pulse"):
        reset_checkin(actor=org.cio, reset=reset, day=30)
    both_answer_pulse(org)
    with pytest.raises(InputError, match="day"):
        reset_checkin(actor=org.cio, reset=reset, day=45)
    checkin = reset_checkin(actor=org.cio, reset=reset, day=30, notes="Calmer.")
    assert checkin.comparison["before"]["index"] == amber.index
    assert checkin.comparison["after"]["pulse"]["answers"].keys() == {"cio", "ciso"}
    with pytest.raises(RuleViolation, match="was done"):
        reset_checkin(actor=org.ciso, reset=reset, day=30)
    # ending: one signature is not enough, the same leader cannot sign twice
    reset = reset_end(actor=org.ciso, reset=reset)
    assert reset.status == ResetStatus.ACTIVE
    with pytest.raises(RuleViolation, match="other leader"):
        reset_end(actor=org.ciso, reset=reset)
    reset = reset_end(actor=org.cio, reset=reset)
    assert reset.status == ResetStatus.ENDED
    assert reset.access_until is not None
    assert reset.access_until <= clock.now()
    with pytest.raises(PermissionDenied):
        reset_read(actor=org.facilitator)
    state = action_state(amber)
    assert state["reset"]["id"] == reset.pk
    assert state["reset"]["checkins"][0] == {
        "day": 30,
        "due_on": "2026-12-20",
        "done": True,
        "index_change": checkin.comparison["index_change"],
    }
