"""Follow-through beyond one meeting: a deferred item comes back on the next meeting's agenda with
its history, and the radar shows what became of the zone's action beside its index. (The actions
on the homes: reports/tests/test_needs_meeting_actions.py.)"""

from __future__ import annotations

import datetime as dt
import re

from django.test import Client

from detente.access.services import token_issue
from detente.access.testing import signed_in_client
from detente.core import clock
from detente.meetings.models import ItemOutcome, Meeting
from detente.meetings.services import action_done, meeting_minutes, meeting_propose
from detente.meetings.services import meeting_schedule as schedule
from detente.meetings.tests.conftest import Org
from detente.meetings.tests.test_meetings import _held, _outcomes
from detente.tension.models import TensionSnapshot
from detente.tension.services import radar_compute
from detente.tension.signals import Period


def _minuted(org: Org) -> Meeting:
    """November's meeting held: the escalated decision taken, the signal items deferred to
    2026-12-15, one action for the delegate due 2026-12-01 and one for the CIO due 2026-12-10."""
    meeting = _held(org)
    return meeting_minutes(
        actor=org.ciso,
        meeting=meeting,
        minutes="Both agreed the January window.",
        attended=["cio@example.org", "ciso@example.org"],
        outcomes=_outcomes(meeting, org),
        actions=[
            {"title": "Book the January window", "owner": org.delegate.email, "due": "2026-12-01"},
            {"title": "Tell the board", "owner": org.cio.email, "due": "2026-12-10"},
        ],
    )


def test_a_deferred_item_is_on_the_next_meetings_agenda_with_its_history(
    org: Org, amber: TensionSnapshot
) -> None:
    held = _minuted(org)
    deferred = list(held.items.filter(outcome=ItemOutcome.DEFERRED))
    assert deferred
    clock.set_now(dt.datetime(2026, 12, 18, 9, 0, tzinfo=dt.UTC))
    radar_compute(period=Period(2026, 12), actor=org.ciso)
    december = meeting_propose(actor=org.cio)
    carried = list(december.items.filter(carried_from__isnull=False))
    assert [i.carried_from_id for i in carried] == [i.pk for i in deferred]
    first = carried[0]
    assert first.title == deferred[0].title
    assert first.evidence == deferred[0].evidence
    assert first.decide_by == dt.date(2026, 12, 15)  # the date it was deferred to
    assert first.framing["history"] == [
        {
            "meeting": held.pk,
            "item": deferred[0].position,
            "deferred_to": "2026-12-15",
            "reason": "the CMDB owners report first",
            "at": deferred[0].closed_at.isoformat() if deferred[0].closed_at else None,
        }
    ]
    assert first.position > max(
        december.items.filter(carried_from__isnull=True).values_list("position", flat=True)
    )
    page = signed_in_client(org.cio).get(f"/meetings/{december.pk}").content.decode()
    text = re.sub(r"<[^>]+>", "", page)
    assert f"Deferred at M-{held.pk} to 2026-12-15: the CMDB owners report first" in text
    # the API (as the CLI's JSON) names where it came from, with the history in its framing
    token = token_issue(actor=org.cio, person=org.cio, name="t", scope="read")[1]
    body = (
        Client()
        .get(f"/api/meetings/{december.pk}", headers={"Authorization": f"Bearer {token}"})
        .json()
    )
    row = next(i for i in body["items"] if i["position"] == first.position)
    assert row["carried_from"] == f"M-{held.pk} item {deferred[0].position}"
    assert row["framing"]["history"][0]["deferred_to"] == "2026-12-15"


def test_a_deferred_item_joins_a_pending_meeting_once_its_date_comes(
    org: Org, amber: TensionSnapshot
) -> None:
    # a meeting on October's radar is pending while November's defers its items to 2026-12-15
    radar_compute(period=Period(2026, 10), actor=org.ciso)
    pending = meeting_propose(actor=org.cio, period=Period(2026, 10))
    assert not pending.items.filter(carried_from__isnull=False).exists()
    held = _minuted(org)
    deferred = sorted(held.items.filter(outcome=ItemOutcome.DEFERRED).values_list("pk", flat=True))
    # scheduled before the date: not carried yet
    schedule(actor=org.cio, meeting=pending, starts_at=dt.datetime(2026, 12, 10, 10, tzinfo=dt.UTC))
    assert not pending.items.filter(carried_from__isnull=False).exists()
    # moved past the date: the deferred items join its agenda
    schedule(
        actor=org.cio,
        meeting=pending,
        starts_at=dt.datetime(2026, 12, 16, 10, tzinfo=dt.UTC),
        reason="after the CMDB report",
    )
    carried = pending.items.filter(carried_from__isnull=False)
    assert sorted(carried.values_list("carried_from_id", flat=True)) == deferred
    # and a later proposal does not bring them again
    clock.set_now(dt.datetime(2026, 12, 20, 9, 0, tzinfo=dt.UTC))
    radar_compute(period=Period(2026, 12), actor=org.ciso)
    december = meeting_propose(actor=org.cio)
    assert not december.items.filter(carried_from__isnull=False).exists()


def test_the_radar_shows_the_zones_follow_through_beside_the_index(
    org: Org, amber: TensionSnapshot
) -> None:
    def tile() -> str:
        page = signed_in_client(org.ciso).get("/radar").content.decode()
        found = re.search(r'id="zone-follow-through">(.*?)</span>\s*</div>', page, re.S)
        assert found is not None
        return re.sub(r"<[^>]+>", "", found.group(1))

    assert tile() == "No decision meeting on 2026-11 yet: propose one"
    held = _minuted(org)
    items = held.items.count()
    assert tile() == (f"M-{held.pk}: meeting held · decisions taken 1/{items} · actions done 0/2")
    action_done(actor=org.delegate, action=held.actions.get(owner=org.delegate))
    clock.set_now(dt.datetime(2026, 12, 11, 9, 0, tzinfo=dt.UTC))  # the CIO's is overdue
    assert tile().endswith("actions done 1/2 (1 overdue)")
