"""The patch plan page through Django's test client: making a plan, its misses with their cheapest
remedy, a deferral requested from a miss (once), what-if side by side, the ICS download, the CIO
view's plan section, and an auditor who is refused with nothing changed."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.test import Client

from detente.acceptances.models import RiskAcceptance
from detente.access.services import account_set_password
from detente.core import clock
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.planning.models import PatchPlan, PlanItem
from detente.planning.services import window_add
from detente.planning.tests.conftest import NOW, Org, asset, finding

PASSWORD = "correct horse battery staple"


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


def signed_in(person: Person) -> Client:
    account_set_password(person=person, password=PASSWORD)
    person.refresh_from_db()
    client = Client()
    client.force_login(person.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client


def _small_org(org: Org) -> None:
    """One slot a Saturday for the shop; three 14-day images: the third is a week late."""
    window_add(
        actor=org.people["change_manager"], service=org.shop, name="Saturday night",
        rrule="FREQ=WEEKLY;BYDAY=SA", start_time=dt.time(2, 0), duration_minutes=240,
        capacity=1, capacity_unit="slots", timezone="UTC",
    )  # fmt: skip
    for _ in range(3):
        finding(asset(org.shop), days=14)


def _messages(response: object) -> list[str]:
    return [str(m) for m in response.context["messages"]]  # type: ignore[attr-defined]


def test_make_a_plan_see_its_misses_and_request_a_deferral(org: Org) -> None:
    _small_org(org)
    client = signed_in(org.people["change_manager"])
    page = client.get("/plan")
    assert page.status_code == 200
    assert b"No plan yet" in page.content
    assert b'href="/plan"' in page.content
    made = client.post("/plan/make", follow=True)
    assert made.status_code == 200
    assert "1 deadline(s) at risk" in " ".join(_messages(made))
    (late,) = PlanItem.objects.exclude(miss="")
    text = made.content.decode()
    assert f"<td>Rebuild image {late.asset.name}</td>" in text  # the item by name, not its key
    assert late.key not in text
    assert "Extra change window (cost 5.0)" in text  # the cheapest remedy, by name
    assert "Request a deferral" in text
    assert 'href="/plan.ics"' in text

    lead = signed_in(org.people["it_lead"])
    done = lead.post(f"/plan/items/{late.pk}/defer", {"justification": "Ships in January."})
    assert done.status_code == 302
    (ra,) = RiskAcceptance.objects.all()
    assert done["Location"] == f"/acceptances/{ra.pk}"
    again = lead.post(f"/plan/items/{late.pk}/defer", follow=True)
    assert any("already became" in m for m in _messages(again))
    assert RiskAcceptance.objects.count() == 1
    assert f"RA-{ra.pk}" in lead.get("/plan").content.decode()

    calendar = lead.get("/plan.ics")
    assert calendar.status_code == 200
    assert calendar["Content-Type"].startswith("text/calendar")
    events = list(icalendar.Calendar.from_ical(calendar.content).walk("VEVENT"))
    assert len(events) == 3


def test_what_if_side_by_side(org: Org) -> None:
    _small_org(org)
    client = signed_in(org.people["cio"])
    page = client.post(
        "/plan/what-if",
        {"defer_class": "14d", "defer_days": "30", "freeze_start": "2026-11-01",
         "freeze_end": "2026-11-30", "window_service": "shop"},
    )  # fmt: skip
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="what-if-result"' in text
    for label in ("baseline", "defer 14d items 30 days", "freeze 2026-11-01..2026-11-30",
                  "add window shop (FREQ=WEEKLY)"):  # fmt: skip
        assert f'<th scope="col">{label}</th>' in text
    assert "<td>0 (-1)</td>" in text  # one more window: no miss
    assert PatchPlan.objects.count() == 0
    refused = client.post("/plan/what-if", {"window_service": "shop", "window_rrule": "BAD"})
    assert refused.status_code == 200
    assert _messages(refused)
    empty = client.post("/plan/what-if", {})
    assert any("at least one scenario" in m for m in _messages(empty))


def test_an_auditor_reads_but_cannot_change_the_plan(org: Org) -> None:
    _small_org(org)
    signed_in(org.people["change_manager"]).post("/plan/make")
    (late,) = PlanItem.objects.exclude(miss="")
    auditor = signed_in(org.people["auditor"])
    page = auditor.get("/plan")
    assert page.status_code == 200
    assert b"Request a deferral" not in page.content
    for url in ("/plan/make", f"/plan/items/{late.pk}/defer"):
        refused = auditor.post(url, follow=True)
        assert any("auditor" in m for m in _messages(refused)), url
    assert PatchPlan.objects.count() == 1
    assert RiskAcceptance.objects.count() == 0


def test_the_cio_view_shows_the_plan(org: Org) -> None:
    _small_org(org)
    cio = signed_in(org.people["cio"])
    assert b"No patch plan yet" in cio.get("/cio").content
    cio.post("/plan/make")
    text = cio.get("/cio").content.decode()
    assert 'id="patch-plan-heading">Patch plan</h2>' in text
    assert "<strong>1</strong> deadline(s)" in text
    plan = PatchPlan.objects.get()
    assert f"<strong>{plan.exposure_days}</strong> exposure-days" in text
    assert 'href="/plan">Open the patch plan' in text
