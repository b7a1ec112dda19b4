"""The minutes recorded on the meeting page: attendance, each item decided on the five principles
or deferred to a date, the actions; through the same service as the CLI and the API."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from detente.access.testing import signed_in_client
from detente.core import clock
from detente.decisions.models import DecisionRecord, DecisionStatus
from detente.meetings.models import ItemOutcome, Meeting, MeetingStatus
from detente.meetings.services import meeting_propose, meeting_schedule
from detente.meetings.tests.conftest import Org, make_amber, make_org
from detente.tension.models import TensionSnapshot

START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def org(db: None) -> Org:
    return make_org()


@pytest.fixture
def amber(org: Org) -> TensionSnapshot:
    return make_amber(org)


def _taken_place(org: Org) -> Meeting:
    meeting = meeting_propose(actor=None)
    meeting_schedule(actor=org.cio, meeting=meeting, starts_at=START, delegates=[org.delegate])
    clock.set_now(START + dt.timedelta(hours=1))
    return meeting


def _form(meeting: Meeting, org: Org) -> dict[str, Any]:
    """The CIO and the CISO came; the escalated record decided; the other items: the first
    decided as a new record on the five principles, the rest deferred; one action."""
    data: dict[str, Any] = {
        "minutes": "We agreed the January window.",
        f"attended_{org.cio.pk}": "on",
        f"attended_{org.ciso.pk}": "on",
        "action_2_title": "Book the January window",
        "action_2_owner": org.delegate.email,
        "action_2_due": "2026-12-01",
        "action_2_item": "1",
    }
    new_record_done = False
    for item in meeting.items.all():
        p = f"item_{item.position}_"
        if item.decision_id:
            data |= {p + "outcome": "decided", p + "decision": "Patch in January",
                     p + "chosen": "1", p + "followed": "no",
                     p + "why_blank": "agreed in the room"}  # fmt: skip
        elif not new_record_done:
            new_record_done = True
            data |= {p + "outcome": "decided", p + "decision": "Leaders decide first",
                     p + "option": "Leaders first", p + "benefit": "Faster decisions",
                     p + "facts": "One executive escalation",
                     p + "company_first": "Accountable", p + "informed": "CEO, Board",
                     p + "win_win": "Both keep their say"}  # fmt: skip
        else:
            data |= {p + "outcome": "deferred", p + "defer_to": "2026-12-15",
                     p + "reason": "the CMDB owners report first"}  # fmt: skip
    return data


def test_a_leader_records_the_minutes_on_the_meeting_page(org: Org, amber: TensionSnapshot) -> None:
    meeting = _taken_place(org)
    cio = signed_in_client(org.cio)
    page = cio.get(f"/meetings/{meeting.pk}").content.decode()
    assert 'id="minutes-form"' in page
    assert "Item 1: outcome" in page
    # the escalated record's blank principles are prompted beside its item
    text = re.sub(r"<[^>]+>", "", page)
    assert f"DR-{org.escalated.pk} still lacks: Company first" in text
    # an engineer reads the meeting but gets no form
    assert (
        'id="minutes-form"'
        not in signed_in_client(org.engineer).get(f"/meetings/{meeting.pk}").content.decode()
    )
    data = _form(meeting, org)
    records = DecisionRecord.objects.count()

    # an item without an outcome: the form says which, nothing written
    first = meeting.items.get(position=1)
    missing = {k: v for k, v in data.items() if k != "item_1_outcome"}
    response = cio.post(f"/meetings/{meeting.pk}/minutes", missing)
    assert response.status_code == 400
    assert 'id="id_item_1_outcome-error"' in response.content.decode()
    # a new decision without a business benefit: the service refuses, on that field
    new = next(i for i in meeting.items.all() if not i.decision_id)
    no_benefit = data | {f"item_{new.position}_benefit": ""}
    response = cio.post(f"/meetings/{meeting.pk}/minutes", no_benefit)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_item_{new.position}_benefit-error"' in html
    assert "business benefit" in html
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SCHEDULED
    assert DecisionRecord.objects.count() == records
    assert not meeting.items.exclude(outcome=ItemOutcome.OPEN).exists()

    response = cio.post(f"/meetings/{meeting.pk}/minutes", data)
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD
    assert meeting.minutes == "We agreed the January window."
    first.refresh_from_db()
    assert first.outcome == ItemOutcome.DECIDED
    org.escalated.refresh_from_db()
    assert (org.escalated.status, org.escalated.chosen_option) == (DecisionStatus.DECIDED, 1)
    assert org.escalated.ciso_recommendation_followed is False
    new.refresh_from_db()
    assert new.decision is not None
    assert new.decision.informed == ["CEO", "Board"]
    assert new.decision.options[0]["facts"] == ["One executive escalation"]
    assert new.decision.win_win == "Both keep their say"
    attended = dict(meeting.attendees.values_list("person__email", "attended"))
    assert attended == {org.cio.email: True, org.ciso.email: True, org.delegate.email: False}
    action = meeting.actions.get()
    assert (action.owner, action.due, action.item_id) == (
        org.delegate,
        dt.date(2026, 12, 1),
        first.pk,
    )
    page = cio.get(f"/meetings/{meeting.pk}").content.decode()
    assert 'id="minutes-form"' not in page
    text = re.sub(r"<[^>]+>", "", page)
    assert "deferred to 2026-12-15: the CMDB owners report first" in text


def test_the_minutes_form_waits_for_the_meeting(org: Org, amber: TensionSnapshot) -> None:
    meeting = meeting_propose(actor=None)
    cio = signed_in_client(org.cio)
    assert 'id="minutes-form"' not in cio.get(f"/meetings/{meeting.pk}").content.decode()
    response = cio.post(f"/meetings/{meeting.pk}/minutes", _form(meeting, org))
    assert response.status_code == 409
    assert "has not taken place yet" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PROPOSED
