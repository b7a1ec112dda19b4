"""Each zone change carries its explanation, on a generated recovering year built through the
services: stored with the snapshot (``TensionSnapshot.change``), audited, and shown in the API, on
the radar page's zone history and on the month's page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from detente.access.services import account_set_password, token_issue
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.decisions.models import DecisionRecord
from detente.demo.scenarios_gen import organisation, run_year
from detente.findings.models import Finding
from detente.people.models import Role
from detente.tension.index import MOVED_AT
from detente.tension.models import PulseResponse, TensionSnapshot

pytestmark = pytest.mark.django_db


def test_a_recovering_year_stores_each_change_and_shows_it_everywhere() -> None:
    with clock.frozen_at(clock.now()):
        cast = organisation()
        snapshots = run_year("recovering", 1, cast=cast)
    zones = [s.zone for s in snapshots]
    assert "red" in zones, zones
    assert zones[-1] != "red", zones
    changed = 0
    for before, now in zip([None, *snapshots], snapshots, strict=False):
        previous = before.zone if before is not None else "green"
        if now.zone == previous:
            assert now.change is None, now.period
            continue
        changed += 1
        change = now.change
        assert change is not None, now.period
        assert (change["from_zone"], change["to_zone"]) == (previous, now.zone)
        assert change["index_after"] == round(now.index, 1)
        assert change["signals"] or change["triggers_added"] or change["triggers_cleared"]
        # the contributions sum to the index, so the listed moves account for its change (less
        # what moved by under MOVED_AT points each)
        unlisted = len(now.signals) * MOVED_AT
        assert abs(sum(m["delta"] for m in change["signals"]) - change["index_delta"]) <= (
            unlisted + 0.2
        ), change
        # the first signal moved towards the new zone; its evidence records exist
        first = change["signals"][0]
        assert (first["delta"] > 0) == (change["direction"] == "up")
        managers: dict[str, Any] = {
            "pulses": PulseResponse.objects, "decisions": DecisionRecord.objects,
            "findings": Finding.objects,
        }  # fmt: skip
        for kind, ids in first["evidence"].items():
            if kind in managers:
                assert managers[kind].filter(pk__in=ids).count() == len(ids), (kind, ids)
        event = AuditEvent.objects.get(verb="tension.radar_computed", subject_id=str(now.pk))
        assert event.after is not None
        assert event.after["change"]["to"] == now.zone
    assert changed >= 3  # up to amber, up to red, down again

    red = next(s for s in snapshots if s.change and s.change["to_zone"] == "red")
    stored = TensionSnapshot.objects.get(pk=red.pk).change
    assert stored is not None
    # the API: the month and the history carry the change, the evidence as links
    ciso = cast[Role.CISO]
    token = token_issue(actor=ciso, person=ciso, name="t")[1]
    api = Client().get(
        f"/api/tension/radar/{red.period}", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 200, api.content
    body = api.json()["change"]
    assert (body["from_zone"], body["to_zone"], body["since"]) == (
        stored["from_zone"], "red", stored["since"],
    )  # fmt: skip
    assert [m["key"] for m in body["signals"]] == [m["key"] for m in stored["signals"]]
    assert body["signals"][0]["links"] == [
        {"kind": k, "id": pk, "href": body["signals"][0]["links"][i]["href"]}
        for i, (k, pk) in enumerate(
            (k, pk) for k, ids in stored["signals"][0]["evidence"].items() for pk in ids
        )
    ]
    history = (
        Client()
        .get(
            "/api/tension/radar/history?first=2025-01&last=2025-12",
            headers={"Authorization": f"Bearer {token}"},
        )
        .json()
    )
    assert [h["period"] for h in history if h["change"]] == [
        s.period for s in snapshots if s.change
    ]
    # the radar page's zone history and the month's page
    account_set_password(person=ciso, password="correct horse battery staple")
    ciso.refresh_from_db()
    client = Client()
    client.force_login(ciso.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    with clock.frozen_at(clock.now()):
        page = client.get("/radar").content.decode()
    assert "Zone changes and what moved them" in page
    for s in snapshots:
        if s.change:
            assert f'id="change-{s.period}"' in page
    top = stored["signals"][0]
    assert top["name"] in page
    month = client.get(f"/radar/{red.period}").content.decode()
    assert "Why the zone changed" in month
    assert f"{stored['from_zone'].capitalize()} to Red" in month
    assert top["name"] in month
