"""The release gate page through Django's test client: coverage per service, recent runs, and an
override co-signed from the page (the overrider's own signature refused, nothing changed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client

from detente.access.services import account_set_password
from detente.core import clock
from detente.gates.evaluate import GateRequest, evaluate
from detente.gates.models import GateOverride, OverrideStatus
from detente.gates.services import gate_override, gate_run_record
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _client(person: Person) -> Client:
    account_set_password(person=person, password=PASSWORD)
    person.refresh_from_db()
    client = Client()
    client.force_login(person.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client


def test_gate_page_shows_coverage_runs_and_lets_the_other_leader_co_sign(samples: Path) -> None:
    clock.set_now(NOW)
    cio = person_upsert(name="Ivo CIO", email="ivo@example.org", role=Role.CIO)
    ciso = person_upsert(name="Carla CISO", email="carla@example.org", role=Role.CISO)
    shop = service_upsert(slug="shop", name="Shop", owner=None, criticality="high")
    paths = [samples / "scans/anchore_grype/check_all_fields.json",
             samples / "scans/gitleaks/data_many.json"]  # fmt: skip
    blocked = gate_run_record(result=evaluate(GateRequest(shop, "2.4.0", paths)), service=shop)
    clock.set_now(NOW + dt.timedelta(hours=3))
    again = gate_run_record(result=evaluate(GateRequest(shop, "2.4.0", paths)), service=shop)
    override = gate_override(run=again, actor=cio, reason="Launch day")

    page = _client(ciso).get("/gate/")
    own = _client(cio).post(f"/gate/overrides/{override.pk}/sign", {"verdict": "approve"},
                            follow=True)  # fmt: skip
    still = GateOverride.objects.get().status
    signed = _client(ciso).post(f"/gate/overrides/{override.pk}/sign", {"verdict": "approve"})

    html = page.content.decode()
    assert page.status_code == 200
    assert f"GO-{override.pk}" in html
    assert "Launch day" in html
    assert f"#{blocked.pk}" in html
    assert f"#{again.pk}" in html
    assert "<td>3 h (1 release)</td>" in html  # first blocked run → the override 3 h later
    assert f"({cio.get_role_display()})</td>" in html  # the override's role as a label
    assert "(blocks a release)" in html
    assert "(block)" not in html
    assert html.count("not run") == 4  # container and secrets ran; sca, sast, iac, dast did not
    assert "separation of duties" in own.content.decode()
    assert still == OverrideStatus.PENDING
    assert signed.status_code == 302
    assert GateOverride.objects.get().status == OverrideStatus.CONFIRMED


def test_an_auditor_sees_the_page_without_the_signing_form(samples: Path) -> None:
    auditor = person_upsert(name="Ada", email="ada@example.org", role=Role.AUDITOR)

    page = _client(auditor).get("/gate/")

    assert page.status_code == 200
    assert "Co-sign" not in page.content.decode()
