"""The planning API on a small organisation: windows and blackouts, a plan and its misses with
their remedies, what-if side by side, the ICS calendar, deferring a miss into exactly one
acceptance request, and an auditor who reads but cannot write."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import icalendar
import pytest
from django.test import Client

from detente.acceptances.models import RiskAcceptance
from detente.access.services import token_issue
from detente.core import clock
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.planning.models import Blackout, ChangeWindow, PatchPlan
from detente.planning.tests.conftest import NOW, Org, asset, finding


@pytest.fixture
def org(db: None) -> Org:
    """The planning tests' organisation: every role, a shop with an owner, a billing service."""
    clock.set_now(NOW)
    people = {
        role.value: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    shop = service_upsert(slug="shop", name="Shop", owner=people["service_owner"])
    return Org(people=people, shop=shop, billing=service_upsert(slug="billing", name="Billing"))


def _token(person: Person, scope: str = "write") -> str:
    return token_issue(actor=person, person=person, name="t", scope=scope)[1]


def _call(
    client: Client, method: str, url: str, token: str | None, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "get":
        response = client.get(url, headers=headers)
    else:
        response = client.post(
            url, data=json.dumps(body or {}), content_type="application/json", headers=headers
        )
    if response["Content-Type"].startswith("application/json"):
        return response.status_code, response.json()
    return response.status_code, response.content


WINDOW = {
    "service": "shop", "name": "Saturday night", "rrule": "FREQ=WEEKLY;BYDAY=SA",
    "start_time": "02:00", "duration_minutes": 240, "capacity": 1, "capacity_unit": "slots",
    "timezone": "UTC",
}  # fmt: skip


def _small_org(client: Client, org: Org) -> str:
    """One slot a Saturday for the shop; three 14-day images: the third is a week late."""
    manager = _token(org.people["change_manager"])
    status, window = _call(client, "post", "/api/plan/windows", manager, WINDOW)
    assert status == 201, window
    assert window["next"][0].startswith("2026-11-07T02:00")
    for _ in range(3):
        finding(asset(org.shop), days=14)
    return manager


def test_a_plan_its_misses_what_if_and_the_calendar(client: Client, org: Org) -> None:
    manager = _small_org(client, org)
    status, missing = _call(client, "get", "/api/plan", manager)
    assert status == 404
    assert missing["error"]["code"]

    status, plan = _call(client, "post", "/api/plan", manager, {"method": "exact"})
    assert status == 201, plan
    assert (plan["items"], plan["planned"], plan["missed"]) == (3, 3, 1)
    assert plan["extra_windows"] == 1
    status, current = _call(client, "get", "/api/plan", manager)
    assert status == 200
    assert current["id"] == plan["id"]

    status, items = _call(client, "get", "/api/plan/items", manager)
    assert status == 200
    assert len(items) == 3
    status, misses = _call(client, "get", "/api/plan/items?misses_only=true", manager)
    assert status == 200
    (late,) = misses
    assert late["miss"] == "capacity"
    assert late["starts_at"].startswith("2026-11-21")
    assert late["remedy"]["kind"] == "extra_window"
    assert [r["kind"] for r in late["remedies"]] == ["extra_window", "deferral", "emergency_change"]
    status, page = _call(client, "get", "/api/plan/items?limit=1&offset=1", manager)
    assert status == 200
    assert [i["id"] for i in page] == [items[1]["id"]]

    status, compared = _call(
        client, "post", "/api/plan/what-if", manager,
        {"scenarios": ["add-window:shop", "freeze:2026-11-01:2026-11-30", "defer:14d:30"],
         "method": "exact"},
    )  # fmt: skip
    assert status == 200, compared
    assert compared["baseline"]["missed"] == 1
    added, frozen, deferred = compared["scenarios"]
    assert added["metrics"]["missed"] == 0
    assert added["delta"]["missed"] == -1
    assert frozen["metrics"]["missed"] == 3
    assert deferred["metrics"]["missed"] == 3
    assert PatchPlan.objects.count() == 1  # what-if stores nothing

    status, body = _call(client, "get", "/api/plan/ics", manager)
    assert status == 200
    calendar = icalendar.Calendar.from_ical(body)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 3
    assert sorted(e.decoded("dtstart").date() for e in events) == [
        dt.date(2026, 11, 7), dt.date(2026, 11, 14), dt.date(2026, 11, 21),
    ]  # fmt: skip


def test_bad_scenarios_and_windows_are_refused(client: Client, org: Org) -> None:
    manager = _small_org(client, org)
    for spec in ("defer:14d:99999999999", "freeze:0001-01-01:0001-01-02", "add-window:shop:BAD",
                 "nothing", "add-window:nowhere"):  # fmt: skip
        status, refused = _call(client, "post", "/api/plan/what-if", manager, {"scenarios": [spec]})
        assert status in (400, 404, 422), (spec, refused)
    bad = WINDOW | {"rrule": "FREQ=NEVER"}
    status, refused = _call(client, "post", "/api/plan/windows", manager, bad)
    assert status in (400, 422)
    assert ChangeWindow.objects.count() == 1
    status, _ = _call(
        client, "post", "/api/plan/blackouts", manager,
        {"starts_at": "2026-12-18T00:00:00Z", "ends_at": "2027-01-02T00:00:00Z",
         "reason": "year-end freeze"},
    )  # fmt: skip
    assert status == 201
    assert Blackout.objects.count() == 1
    status, windows = _call(client, "get", "/api/plan/windows?service=shop", manager)
    assert status == 200
    assert [w["name"] for w in windows] == ["Saturday night"]


def test_deferring_a_miss_asks_once(client: Client, org: Org) -> None:
    manager = _small_org(client, org)
    _call(client, "post", "/api/plan", manager, {"method": "exact"})
    (late,) = _call(client, "get", "/api/plan/items?misses_only=true", manager)[1]
    lead = _token(org.people["it_lead"])
    url = f"/api/plan/items/{late['id']}/defer"
    status, done = _call(client, "post", url, lead, {"justification": "Ships with the release."})
    assert status == 201, done
    assert done["requested_until"] == "2026-11-21"
    assert done["findings"] == 1
    assert RiskAcceptance.objects.count() == 1
    status, again = _call(client, "post", url, lead, {})
    assert status == 409, again
    assert RiskAcceptance.objects.count() == 1
    (late,) = _call(client, "get", "/api/plan/items?misses_only=true", manager)[1]
    assert late["acceptance_id"] == done["acceptance_id"]
    status, _ = _call(client, "post", "/api/plan/items/999999/defer", lead, {})
    assert status == 404


def test_an_auditor_reads_but_cannot_write(client: Client, org: Org) -> None:
    manager = _small_org(client, org)
    _call(client, "post", "/api/plan", manager, {"method": "exact"})
    (late,) = _call(client, "get", "/api/plan/items?misses_only=true", manager)[1]
    auditor = _token(org.people["auditor"], scope="read")
    assert _call(client, "get", "/api/plan", auditor)[0] == 200
    assert _call(client, "get", "/api/plan/items", auditor)[0] == 200
    assert _call(client, "get", "/api/plan/ics", auditor)[0] == 200
    writes = [
        ("/api/plan", {}),
        (f"/api/plan/items/{late['id']}/defer", {}),
        ("/api/plan/windows", WINDOW),
        ("/api/plan/blackouts", {"starts_at": "2026-12-18T00:00:00Z",
                                 "ends_at": "2027-01-02T00:00:00Z", "reason": "freeze"}),
    ]  # fmt: skip
    for url, body in writes:
        status, refused = _call(client, "post", url, auditor, body)
        assert status == 403, (url, refused)
    assert PatchPlan.objects.count() == 1
    assert RiskAcceptance.objects.count() == 0
    assert ChangeWindow.objects.count() == 1
    assert Blackout.objects.count() == 0
    # A write token of someone who may not plan is refused by the service, not the scope.
    engineer = _token(org.people["engineer"])
    status, _ = _call(client, "post", "/api/plan/windows", engineer, WINDOW)
    assert status == 403
