"""Each zone change carries its explanation: which signals moved it, by how many index points,
their evidence records, the triggers that appeared or cleared, and how hysteresis bore on it —
stored with the snapshot, shown in the API, on the radar page and the month's page."""

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
from detente.tension.index import MOVED_AT, explain_change
from detente.tension.models import PulseResponse, TensionSnapshot

STEP = 2


def _signal(key: str, points: float, **evidence: list[int]) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "sub_index": "process", "value": points / 10,
            "contribution": points, "evidence": evidence}  # fmt: skip


def _month(
    period: str, zone: str, index: float, signals: list[dict[str, Any]], raw: str | None = None,
    triggers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {"period": period, "zone": zone, "raw_zone": raw or zone, "index": index,
            "signals": signals, "triggers": triggers or []}  # fmt: skip


def _explain(history: list[dict[str, Any]], now: dict[str, Any]) -> dict[str, Any] | None:
    return explain_change(
        history, period=now["period"], index=now["index"], zone=now["zone"], raw=now["raw_zone"],
        signals=now["signals"], triggers=now["triggers"], periods_to_step_down=STEP,
    )  # fmt: skip


def test_no_change_no_explanation() -> None:
    march = _month("2026-03", "amber", 40, [_signal("escalations", 20)])
    april = _month("2026-04", "amber", 45, [_signal("escalations", 25)])
    assert _explain([march], april) is None
    assert _explain([], _month("2026-04", "green", 5, [_signal("escalations", 5)])) is None


def test_a_rise_names_the_signals_that_rose_most_with_their_evidence() -> None:
    march = _month("2026-03", "green", 20, [_signal("escalations", 10, decisions=[1]),
                                            _signal("overdue", 10, findings=[7])])  # fmt: skip
    april = _month(
        "2026-04", "amber", 38,
        [_signal("escalations", 25, decisions=[1, 2]), _signal("overdue", 8, findings=[7]),
         _signal("silence", 5, pulses=[3]), _signal("steady", 0.02)],
        triggers=[{"key": "red_line_5", "label": "P8 at 4", "severity": "amber",
                   "evidence": {"pulses": [3]}}],
    )  # fmt: skip
    change = _explain([march], april)
    assert change is not None
    assert (change["from_zone"], change["to_zone"], change["direction"]) == ("green", "amber", "up")
    assert (change["index_before"], change["index_after"], change["index_delta"]) == (20, 38, 18)
    assert [(m["key"], m["before"], m["after"], m["delta"]) for m in change["signals"]] == [
        ("escalations", 10, 25, 15),
        ("silence", 0, 5, 5),
        ("overdue", 10, 8, -2),  # moved against the change: listed last
    ]  # "steady" moved less than MOVED_AT points: not a reason
    assert change["signals"][0]["evidence"] == {"decisions": [1, 2]}
    assert [t["key"] for t in change["triggers_added"]] == ["red_line_5"]
    assert change["triggers_cleared"] == []
    assert change["since"] == "2026-03"
    assert "at once" in change["hysteresis"]


def test_a_first_month_that_opens_amber_is_explained_against_nothing() -> None:
    change = _explain(
        [], _month("2026-01", "amber", 41, [_signal("escalations", 41, decisions=[4])])
    )
    assert change is not None
    assert (change["from_zone"], change["since"], change["index_before"]) == ("green", None, 0)
    assert [(m["key"], m["delta"]) for m in change["signals"]] == [("escalations", 41)]


def test_a_step_down_is_explained_against_the_last_month_that_held_the_zone() -> None:
    """Hysteresis kept red for a month after the raw zone fell: the signals that brought it down
    moved between February (red on its own) and April, not only between March and April."""
    feb = _month("2026-02", "red", 70, [_signal("escalations", 40, decisions=[1]),
                                        _signal("gap", 30, pulses=[2])],
                 triggers=[{"key": "red_line_6", "label": "P9 at 2", "severity": "amber",
                            "evidence": {"pulses": [2]}}])  # fmt: skip
    mar = _month("2026-03", "red", 30, [_signal("escalations", 28, decisions=[1]),
                                        _signal("gap", 2, pulses=[5])], raw="amber")  # fmt: skip
    apr = _month("2026-04", "amber", 27, [_signal("escalations", 27, decisions=[1])])
    change = _explain([feb, mar], apr)
    assert change is not None
    assert (change["from_zone"], change["to_zone"], change["direction"]) == ("red", "amber", "down")
    assert change["since"] == "2026-02"
    assert change["index_before"] == 70
    # the biggest fall first; a signal gone to nothing shows the evidence it had
    assert [(m["key"], m["delta"]) for m in change["signals"]] == [
        ("gap", -30),
        ("escalations", -13),
    ]
    assert change["signals"][0]["evidence"] == {"pulses": [2]}
    assert [t["key"] for t in change["triggers_cleared"]] == ["red_line_6"]
    assert f"after {STEP} month(s)" in change["hysteresis"]


@pytest.mark.django_db
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
        models = {"pulses": PulseResponse, "decisions": DecisionRecord, "findings": Finding}
        for kind, ids in first["evidence"].items():
            if kind in models:
                assert models[kind].objects.filter(pk__in=ids).count() == len(ids), (kind, ids)
        event = AuditEvent.objects.get(verb="tension.radar_computed", subject_id=str(now.pk))
        assert event.after["change"]["to"] == now.zone
    assert changed >= 3  # up to amber, up to red, down again

    red = next(s for s in snapshots if s.change and s.change["to_zone"] == "red")
    stored = TensionSnapshot.objects.get(pk=red.pk).change
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
