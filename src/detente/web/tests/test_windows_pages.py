"""Change windows and blackouts, created and edited on the web by the roles the services allow."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.audit.models import AuditEvent
from detente.core import clock
from detente.inventory.models import BusinessService
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.planning.models import Blackout, ChangeWindow
from detente.reports.tests.test_needs import _client

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def org(db: None) -> tuple[dict[Role, Person], BusinessService]:
    clock.set_now(NOW)
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    return people, service_upsert(slug="shop", name="Shop", owner=people[Role.SERVICE_OWNER])


WINDOW = {
    "service": "shop", "name": "Tuesday night", "rrule": "FREQ=WEEKLY;BYDAY=TU",
    "start_time": "22:00", "duration_minutes": "180", "capacity": "3", "capacity_unit": "slots",
}  # fmt: skip


def test_the_change_manager_adds_and_edits_a_window_and_a_blackout(
    org: tuple[dict[Role, Person], BusinessService],
) -> None:
    people, _ = org
    client = _client(people[Role.CHANGE_MANAGER])
    # when: a window is added, then made longer
    added = client.post("/plan/windows/new", WINDOW)
    window = ChangeWindow.objects.get()
    edited = client.post(
        f"/plan/windows/{window.pk}", WINDOW | {"duration_minutes": "240", "name": "Tue night"}
    )
    # and: a global blackout is added, then moved
    first = {"service": "", "starts_at": "2026-11-28T00:00", "ends_at": "2026-12-03T00:00"}
    client.post("/plan/blackouts/new", first | {"reason": "Close"})
    blackout = Blackout.objects.get()
    client.post(f"/plan/blackouts/{blackout.pk}", {"starts_at": "2026-11-29T00:00",
                                                   "ends_at": "2026-12-03T00:00",
                                                   "reason": "Month-end close"})  # fmt: skip
    # then: both are stored as edited, audited with before and after, and listed
    assert (added.status_code, edited.status_code) == (302, 302)
    window.refresh_from_db()
    assert (window.name, window.duration_minutes) == ("Tue night", 240)
    blackout.refresh_from_db()
    assert (blackout.starts_at, blackout.reason) == (
        dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
        "Month-end close",
    )
    changed = AuditEvent.objects.get(verb="planning.window_changed")
    before, after = dict(changed.before or {}), dict(changed.after or {})
    assert (before["duration_minutes"], after["duration_minutes"]) == ("180", "240")
    assert AuditEvent.objects.filter(verb="planning.blackout_changed").count() == 1
    page = client.get("/plan/windows").content.decode()
    assert "Tue night" in page
    assert "Month-end close" in page


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.AUDITOR, Role.CISO])
def test_other_roles_cannot_add_or_edit_and_nothing_changes(
    org: tuple[dict[Role, Person], BusinessService], role: Role
) -> None:
    people, _ = org
    _client(people[Role.IT_LEAD]).post("/plan/windows/new", WINDOW)
    window = ChangeWindow.objects.get()
    events = AuditEvent.objects.count()
    client = _client(people[role])
    page = client.get("/plan/windows").content.decode()
    assert "Add a window" not in page
    client.post("/plan/windows/new", WINDOW | {"name": "Sneaky"})
    refused = client.post(f"/plan/windows/{window.pk}", WINDOW | {"name": "Sneaky"}, follow=True)
    assert "cannot change the patch plan" in refused.content.decode()
    window.refresh_from_db()
    assert window.name == "Tuesday night"
    assert ChangeWindow.objects.count() == 1
    assert AuditEvent.objects.count() == events + 1  # the sign-in password only


def test_a_bad_time_is_named_and_nothing_is_written(
    org: tuple[dict[Role, Person], BusinessService],
) -> None:
    people, _ = org
    client = _client(people[Role.IT_LEAD])
    answer = client.post("/plan/windows/new", WINDOW | {"start_time": "25:99"}, follow=True)
    assert "start_time" in answer.content.decode()
    assert not ChangeWindow.objects.exists()
