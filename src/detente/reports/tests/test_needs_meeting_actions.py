"""Decision meetings' actions on the "needs you now" block: the owner's own, every open one on
both leaders' homes (followed, counted only when theirs), overdue ones first and urgent."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.access.testing import signed_in_client
from detente.core import clock
from detente.meetings.services import action_done
from detente.meetings.tests.conftest import Org, make_amber, make_org
from detente.meetings.tests.test_follow_through import _minuted
from detente.people.models import Person
from detente.reports.needs import needs_count, needs_for


@pytest.fixture
def org(db: None) -> Org:
    built = make_org()
    make_amber(built)
    return built


def _actions(person: Person) -> list[tuple[str, bool, bool]]:
    return [
        (n.label, n.urgent, n.actionable) for n in needs_for(person).items if n.kind == "action"
    ]


def test_actions_show_on_the_owners_home_and_both_leaders_overdue_first(
    org: Org,
) -> None:
    held = _minuted(org)
    m = f"M-{held.pk}"
    # the delegate sees their own action; the engineer sees none
    assert _actions(org.delegate) == [
        (f"{m} your action: Book the January window (due 2026-12-01)", False, True)
    ]
    assert _actions(org.engineer) == []
    # both leaders follow every action; only their own counts in the navigation
    for leader in (org.cio, org.ciso):
        labels = [label for label, _, _ in _actions(leader)]
        assert len(labels) == 2
        assert "Book the January window" in labels[0]
    assert _actions(org.cio)[1][2] is True
    assert _actions(org.ciso)[1][2] is False
    cio_before, ciso_before = needs_count(org.cio), needs_count(org.ciso)
    # on 2026-12-05 the delegate's action is overdue: urgent, first on every home
    clock.set_now(dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC))
    for person in (org.delegate, org.cio, org.ciso):
        first = needs_for(person).items[0]
        assert (first.kind, first.urgent) == ("action", True)
        assert "Book the January window (overdue since 2026-12-01)" in first.label
    html = signed_in_client(org.ciso).get("/ciso").content.decode()
    assert f'href="/meetings/{held.pk}">{m} action of Dee Legate: Book the January window' in html
    # done: it leaves every home
    action_done(actor=org.delegate, action=held.actions.get(owner=org.delegate))
    assert _actions(org.delegate) == []
    assert len(_actions(org.ciso)) == 1
    assert needs_count(org.ciso) == ciso_before
    action_done(actor=org.cio, action=held.actions.get(owner=org.cio))
    assert needs_count(org.cio) == cio_before - 1
