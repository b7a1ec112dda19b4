"""The tension API: the questionnaire and the blend, the blind pulse, the radar computed over a few
months of data built through the services (down to each signal's evidence), and an auditor who
reads but cannot write."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Any

from django.test import Client

from detente.api.tests.conftest import World
from detente.core import clock
from detente.decisions.services import decision_create, decision_decide
from detente.people.models import Person
from detente.tension import selectors
from detente.tension.models import LeaderProfile, PulseResponse, TensionSnapshot
from detente.tension.services import pulse_answer
from detente.tension.signals import Period

NOW = dt.datetime(2026, 4, 6, 9, tzinfo=dt.UTC)
MONTHS = (Period(2026, 1), Period(2026, 2), Period(2026, 3))


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
    return response.status_code, response.json()


def cio_answers() -> dict[str, int]:
    """Operator first (as in the tension unit tests)."""
    base = {f"A{n}": 3 for n in range(1, 16)} | {"A16": 4}
    return base | {"A1": 5, "A2": 5, "A3": 1, "A7": 1, "A8": 2, "A9": 1}


def ciso_answers() -> dict[str, int]:
    base = {f"B{n}": 3 for n in range(1, 16)} | {"B16": 2}
    return base | {"B4": 5, "B5": 5, "B6": 5, "B10": 1, "B11": 1, "B12": 2}


def pulse(value: int) -> dict[str, int]:
    return {f"P{n}": value for n in range(1, 11)}


def build_months(cio: Person, ciso: Person) -> None:
    """Three months: escalated decisions against the CISO's advice, and both leaders' pulses."""
    for number, period in enumerate(MONTHS):
        clock.set_now(period.start + dt.timedelta(days=2, hours=9))
        for level in ("executive", "leaders")[: number + 1]:
            record = decision_create(
                actor=ciso, title=f"Patch window {period.label} {level}", pressure_point="patching",
                question="Patch now or defer?",
                options=[{"title": "Patch now", "business_benefit": "Closes the exposure",
                          "facts": ["Exploit code is public"]},
                         {"title": "Defer", "business_benefit": "No change during close",
                          "facts": ["Close runs until the 5th"]}],
                escalation_level=level,
            )  # fmt: skip
            decision_decide(
                actor=cio, record=record, decision="Defer.", chosen_option=1,
                ciso_recommendation_followed=False, why_blank="test record",
            )  # fmt: skip
        clock.set_now(period.start + dt.timedelta(days=24, hours=9))
        pulse_answer(actor=cio, answers=pulse(3 - number % 2), meta={"P3": 3, "P9": 3},
                     period=period)  # fmt: skip
        pulse_answer(actor=ciso, answers=pulse(2 + number), meta={"P3": 4, "P9": 2},
                     period=period)  # fmt: skip
    clock.set_now(NOW)


def test_take_the_questionnaire_and_see_the_blend_and_the_pairing(
    client: Client, world: World
) -> None:
    clock.set_now(NOW)
    cio, ciso = world.tokens["cio"], world.tokens["ciso"]

    status, form = _call(client, "get", "/api/tension/profile/questionnaire", cio)
    assert status == 200, form
    assert form["role"] == "cio"
    assert [i["id"] for i in form["items"]][:2] == ["A1", "A2"]
    assert form["scale"] == [1, 5]
    status, _ = _call(client, "get", "/api/tension/profile", cio)
    assert status == 404
    status, _ = _call(client, "get", "/api/tension/pairing", cio)
    assert status == 404  # neither has a profile yet

    status, mine = _call(client, "post", "/api/tension/profile", cio, {"answers": cio_answers()})
    assert status == 201, mine
    assert (mine["role"], mine["primary"], mine["kind"]) == ("cio", "operator", "single")
    assert sum(mine["weights"].values()) == 1.0
    assert {d["key"] for d in mine["dimensions"]} >= {"operator", "transformational"}
    status, again = _call(client, "get", "/api/tension/profile", cio)
    assert (status, again["id"]) == (200, mine["id"])
    status, theirs = _call(
        client, "get", f"/api/tension/profile/{world.people['cio'].pk}", world.tokens["ciso"]
    )
    assert (status, theirs["primary"]) == (200, "operator")

    # A refusal (the attention check) changes nothing.
    status, refused = _call(
        client, "post", "/api/tension/profile", ciso, {"answers": ciso_answers() | {"B16": 5}}
    )
    assert status == 422, refused
    assert refused["error"]["field"] == "B16"
    status, _ = _call(client, "post", "/api/tension/profile", ciso, {"answers": ciso_answers()})
    assert status == 201

    status, pair = _call(client, "get", "/api/tension/pairing", cio)
    assert status == 200, pair
    assert (pair["cell"]["cio"], pair["cell"]["ciso"], pair["cell"]["hypothesis"]) == (
        "operator", "compliance", True,
    )  # fmt: skip
    assert [g["pressure_point"] for g in pair["guidance"]] == ["PP1", "PP2", "PP3", "PP4", "PP5"]
    assert pair == asdict(selectors.pair_guidance())

    status, _ = _call(client, "get", "/api/tension/profile/questionnaire", world.tokens["engineer"])
    assert status == 403
    status, _ = _call(
        client, "post", "/api/tension/profile", world.tokens["engineer"], {"answers": cio_answers()}
    )
    assert status == 403
    assert LeaderProfile.objects.count() == 2


def test_the_pulse_is_blind_until_both_leaders_answer(client: Client, world: World) -> None:
    clock.set_now(NOW)
    cio, ciso = world.tokens["cio"], world.tokens["ciso"]
    status, items = _call(client, "get", "/api/tension/pulse/items", ciso)
    assert status == 200
    assert [i["id"] for i in items["items"]] == [f"P{n}" for n in range(1, 11)]
    assert items["meta"] == ["P3", "P9"]

    status, shown = _call(
        client, "post", "/api/tension/pulse", cio, {"answers": pulse(4), "meta": {"P3": 4, "P9": 4}}
    )
    assert status == 201, shown
    assert (shown["period"], shown["mine"], shown["counterpart"]) == ("2026-04", pulse(4), None)
    status, early = _call(client, "get", "/api/tension/pulse?period=2026-04", ciso)
    assert (status, early["mine"], early["counterpart_answered"], early["counterpart"]) == (
        200, None, True, None,
    )  # fmt: skip
    status, again = _call(
        client, "post", "/api/tension/pulse", cio, {"answers": pulse(4), "meta": {"P3": 4, "P9": 4}}
    )
    assert status == 409, again
    status, future = _call(
        client, "post", "/api/tension/pulse", ciso,
        {"period": "2026-05", "answers": pulse(2), "meta": {"P3": 5, "P9": 5}},
    )  # fmt: skip
    assert status == 409, future

    status, both = _call(
        client,
        "post",
        "/api/tension/pulse",
        ciso,
        {"answers": pulse(2), "meta": {"P3": 5, "P9": 5}},
    )
    assert status == 201
    assert both["counterpart"] == pulse(4)
    assert both["gaps"] == {f"P{n}": 2 for n in range(1, 11)}
    status, cio_view = _call(client, "get", "/api/tension/pulse", cio)
    assert (status, cio_view["counterpart"], cio_view["my_guess_off_by"]) == (
        200, pulse(2), {"P3": 2, "P9": 2},
    )  # fmt: skip
    assert PulseResponse.objects.count() == 2


def test_the_radar_over_a_few_months_down_to_its_evidence(client: Client, world: World) -> None:
    build_months(world.people["cio"], world.people["ciso"])
    ciso = world.tokens["ciso"]
    status, _ = _call(client, "get", "/api/tension/radar", ciso)
    assert status == 404

    status, done = _call(
        client, "post", "/api/tension/radar/compute", ciso, {"first": "2026-01", "last": "2026-03"}
    )
    assert status == 200, done
    assert [d["period"] for d in done] == ["2026-01", "2026-02", "2026-03"]

    status, latest = _call(client, "get", "/api/tension/radar", world.tokens["cio"])
    assert status == 200, latest
    snap = selectors.snapshot_get(Period(2026, 3))
    assert latest["period"] == "2026-03"
    assert (latest["index"], latest["zone"], latest["sub_indices"]) == (
        snap.index, snap.zone, snap.sub_indices,
    )  # fmt: skip
    by_key = {s["key"]: s for s in latest["signals"]}
    stored = {s["key"]: s for s in snap.signals}
    assert set(by_key) == set(stored)
    for key, signal in by_key.items():
        assert signal["value"] == stored[key]["value"]
        assert signal["contribution"] == stored[key]["contribution"]
        assert [(link["kind"], link["id"]) for link in signal["links"]] == [
            (kind, pk) for kind, ids in stored[key]["evidence"].items() for pk in ids
        ]
    decision_links = [
        link for s in latest["signals"] for link in s["links"] if link["kind"] == "decisions"
    ]
    assert decision_links, latest["signals"]
    status, record = _call(client, "get", decision_links[0]["href"], ciso)
    assert status == 200, record  # evidence links resolve to the resource
    assert any(t["key"] == "red_line_5" for t in latest["triggers"])
    assert latest["zone"] in ("amber", "red")
    assert latest["actions"]["action"]

    status, february = _call(client, "get", "/api/tension/radar/2026-02", ciso)
    assert (status, february["index"]) == (200, selectors.snapshot_get(Period(2026, 2)).index)
    status, history = _call(client, "get", "/api/tension/radar/history", ciso)
    assert status == 200
    assert [(h["period"], h["index"], h["zone"]) for h in history] == [
        (s.period, s.index, s.zone) for s in TensionSnapshot.objects.order_by("period")
    ]
    status, ranged = _call(
        client, "get", "/api/tension/radar/history?first=2026-02&last=2026-02", ciso
    )
    assert [h["period"] for h in ranged] == ["2026-02"]
    status, missing = _call(client, "get", "/api/tension/radar/2025-01", ciso)
    assert status == 404, missing
    status, too_long = _call(
        client, "post", "/api/tension/radar/compute", ciso, {"first": "2020-01", "last": "2026-03"}
    )
    assert status == 422, too_long
    status, backwards = _call(
        client, "post", "/api/tension/radar/compute", ciso, {"first": "2026-03", "last": "2026-01"}
    )
    assert status == 422, backwards


def test_an_auditor_reads_and_cannot_write(client: Client, world: World) -> None:
    build_months(world.people["cio"], world.people["ciso"])
    _call(client, "post", "/api/tension/radar/compute", world.tokens["ciso"],
          {"first": "2026-01", "last": "2026-03"})  # fmt: skip
    auditor = world.tokens["auditor"]

    status, latest = _call(client, "get", "/api/tension/radar", auditor)
    assert (status, latest["period"]) == (200, "2026-03")
    status, _ = _call(client, "get", "/api/tension/radar/history", auditor)
    assert status == 200
    before = list(TensionSnapshot.objects.values_list("period", "computed_at"))
    for url, body in (
        ("/api/tension/radar/compute", {"first": "2026-01", "last": "2026-03"}),
        ("/api/tension/profile", {"answers": cio_answers()}),
        ("/api/tension/pulse", {"answers": pulse(3), "meta": {"P3": 3, "P9": 3}}),
    ):
        status, refused = _call(client, "post", url, auditor, body)
        assert status == 403, (url, refused)
    # A leader's read-only token may not write either.
    status, _ = _call(
        client, "post", "/api/tension/pulse", world.tokens["cio:read"],
        {"answers": pulse(3), "meta": {"P3": 3, "P9": 3}},
    )  # fmt: skip
    assert status == 403
    assert list(TensionSnapshot.objects.values_list("period", "computed_at")) == before
    status, shown = _call(client, "get", "/api/tension/pulse?period=2026-03", auditor)
    assert (status, shown["mine"], shown["counterpart"]) == (200, None, None)
    status, _ = _call(client, "get", "/api/tension/radar", None)
    assert status == 401
