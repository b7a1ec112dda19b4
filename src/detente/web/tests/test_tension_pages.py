"""Tension pages through Django's test client (no browser): the questionnaire and the blend, the
blind pulse, the radar and its drill-down (the same numbers as the API and the selector), and an
auditor who reads but cannot write."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from django.test import Client

from detente.access.services import account_set_password
from detente.core import clock
from detente.decisions.services import decision_create, decision_decide
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.tension import selectors
from detente.tension.models import LeaderProfile, PulseResponse, TensionSnapshot
from detente.tension.services import pulse_answer, radar_compute_range
from detente.tension.signals import Period

PASSWORD = "correct horse battery staple"
NOW = dt.datetime(2026, 4, 6, 9, tzinfo=dt.UTC)
MONTHS = (Period(2026, 1), Period(2026, 2), Period(2026, 3))


# The same data as the API tests (the web may not import the API, not even its tests).
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


@dataclass
class Leaders:
    cio: Person
    ciso: Person
    auditor: Person
    engineer: Person


def signed_in(person: Person) -> Client:
    account_set_password(person=person, password=PASSWORD)
    person.refresh_from_db()
    client = Client()
    client.force_login(person.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client


@pytest.fixture
def leaders(db: None) -> Leaders:
    clock.set_now(NOW)
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in (Role.CIO, Role.CISO, Role.AUDITOR, Role.ENGINEER)
    }
    return Leaders(
        cio=people[Role.CIO], ciso=people[Role.CISO], auditor=people[Role.AUDITOR],
        engineer=people[Role.ENGINEER],
    )  # fmt: skip


def test_take_the_questionnaire_on_the_page_and_see_the_blend(leaders: Leaders) -> None:
    cio = signed_in(leaders.cio)
    page = cio.get("/profile").content.decode()
    assert "<fieldset><legend>A1. " in page
    assert 'type="radio" id="A1-5" name="A1" value="5" required' in page
    assert '<label for="A1-5">' in page
    assert "Your blend" not in page

    # A missing answer is refused with a message; the answers given stay chosen.
    partial = {k: str(v) for k, v in cio_answers().items() if k != "A7"}
    page = cio.post("/profile", partial, follow=True).content.decode()
    assert "missing A7" in page
    assert 'id="A1-5" name="A1" value="5" required checked' in page
    assert LeaderProfile.objects.count() == 0

    response = cio.post("/profile", {k: str(v) for k, v in cio_answers().items()}, follow=True)
    page = response.content.decode()
    assert "Profile saved" in page
    blend = re.search(r'<p id="blend">(.*?)</p>', page, re.S)
    assert blend is not None
    current = selectors.profile_current(leaders.cio)
    assert current.primary == "operator"
    assert "Operator" in blend.group(1) or "operator" in blend.group(1).lower()
    assert f"{round(current.weights['operator'] * 100)}%" in blend.group(1)

    # The pairing waits for the CISO, then shows guidance with hypotheses marked.
    assert "has not taken the questionnaire" in cio.get("/pairing").content.decode()
    signed_in(leaders.ciso).post("/profile", {k: str(v) for k, v in ciso_answers().items()})
    page = cio.get("/pairing").content.decode()
    assert "PP1" in page
    assert "PP5" in page
    assert '<em class="warn">Hypothesis</em>' in page

    engineer = signed_in(leaders.engineer).get("/profile").content.decode()
    assert "is for the CIO and the CISO" in engineer
    assert "<fieldset>" not in engineer


def _pulse_form(value: int, guess: int) -> dict[str, str]:
    return {k: str(v) for k, v in pulse(value).items()} | {
        "meta_P3": str(guess), "meta_P9": str(guess), "period": "2026-04",
    }  # fmt: skip


def test_both_leaders_answer_the_pulse_and_only_then_see_the_results(leaders: Leaders) -> None:
    cio, ciso = signed_in(leaders.cio), signed_in(leaders.ciso)
    page = cio.get("/pulse").content.decode()
    assert "Pulse for 2026-04" in page
    assert "<legend>P1. " in page
    assert 'name="meta_P3"' in page

    page = cio.post("/pulse", _pulse_form(4, 4), follow=True).content.decode()
    assert "Pulse for 2026-04 recorded" in page
    assert 'id="waiting"' in page
    assert 'id="results"' not in page
    page = ciso.get("/pulse").content.decode()
    assert 'id="results"' not in page
    assert "<legend>P1. " in page

    page = ciso.post("/pulse", _pulse_form(2, 5), follow=True).content.decode()
    assert 'id="results"' in page
    assert "Your guess of P3: 5 (off by 1)" in page
    page = cio.get("/pulse?period=2026-04").content.decode()
    rows = re.findall(
        r"<th scope=\"row\">(P\d+) .*?</th><td>(\d)</td><td>(\d)</td><td>(\d)</td>", page
    )
    assert rows == [(f"P{n}", "4", "2", "2") for n in range(1, 11)]

    # Answering twice is refused with a message.
    page = cio.post("/pulse", _pulse_form(1, 1), follow=True).content.decode()
    assert "already answered" in page
    assert PulseResponse.objects.count() == 2


def _numbers(page: str) -> tuple[str, dict[str, str], dict[str, str]]:
    index = re.search(r'<span class="n" id="index">([^<]+)</span>', page)
    assert index is not None
    subs = dict(re.findall(r'<span data-sub="([a-z_]+)">([^<]+)</span>', page))
    signals = dict(re.findall(r'<td data-signal="([a-z_0-9]+)">([^<]+)</td>', page))
    return index.group(1), subs, signals


def test_the_radar_page_shows_the_numbers_of_the_api_and_the_selector(leaders: Leaders) -> None:
    build_months(leaders.cio, leaders.ciso)
    cio, ciso = signed_in(leaders.cio), signed_in(leaders.ciso)
    assert "has not been computed yet" in cio.get("/radar").content.decode()

    response = ciso.post("/radar/compute", {"first": "2026-01", "last": "2026-03"}, follow=True)
    page = response.content.decode()
    assert "Radar computed for 3 month(s)" in page
    assert response.redirect_chain[-1][0] == "/radar/2026-03"

    snap = selectors.snapshot_get(Period(2026, 3))
    api = cio.get("/api/tension/radar/2026-03").json()
    for viewer in (cio, ciso):  # both leaders see the same numbers
        index, subs, signals = _numbers(viewer.get("/radar/2026-03").content.decode())
        assert index == f"{snap.index:.1f}" == f"{api['index']:.1f}"
        assert (
            subs
            == {k: f"{v:.4f}" for k, v in api["sub_indices"].items() if v is not None}
            == {k: f"{v:.4f}" for k, v in snap.sub_indices.items() if v is not None}
        )
        assert signals == {
            s["key"]: "no input" if s["value"] is None else str(s["value"]) for s in api["signals"]
        }
    page = cio.get("/radar/2026-03").content.decode()
    decisions = {pk for s in snap.signals for pk in s["evidence"].get("decisions", [])}
    assert decisions
    for pk in decisions:
        assert f'<a href="/decisions/{pk}">DR-{pk}</a>' in page
    assert "Escalation to the executive level" in page
    assert snap.actions["action"] in page

    overview = cio.get("/radar").content.decode()
    assert '<svg class="chart"' in overview
    for s in TensionSnapshot.objects.all():
        assert f'<a href="/radar/{s.period}">{s.period}</a>' in overview
    assert cio.get("/radar/2025-01").status_code == 404
    assert cio.get("/radar/nonsense").status_code == 404
    refused = ciso.post("/radar/compute", {"first": "2026-03", "last": "2026-01"}, follow=True)
    assert "ends before it starts" in refused.content.decode()


def test_an_auditor_reads_the_radar_and_cannot_write(leaders: Leaders) -> None:
    build_months(leaders.cio, leaders.ciso)
    radar_compute_range(first=Period(2026, 1), last=Period(2026, 3), actor=leaders.ciso)
    auditor = signed_in(leaders.auditor)
    before = list(TensionSnapshot.objects.values_list("period", "computed_at"))

    overview = auditor.get("/radar").content.decode()
    assert "Compute the radar" not in overview
    index, _, _ = _numbers(auditor.get("/radar/2026-03").content.decode())
    assert index == f"{selectors.snapshot_get(Period(2026, 3)).index:.1f}"
    page = auditor.post("/radar/compute", {"first": "2026-01", "last": "2026-03"}, follow=True)
    assert "an auditor reads the radar" in page.content.decode()
    assert list(TensionSnapshot.objects.values_list("period", "computed_at")) == before

    page = auditor.post("/profile", {k: str(v) for k, v in cio_answers().items()}, follow=True)
    assert "is for the CIO and the CISO" in page.content.decode()
    page = auditor.post("/pulse", _pulse_form(3, 3), follow=True)
    assert "answered by the CIO and the CISO" in page.content.decode()
    assert LeaderProfile.objects.count() == 0
    assert PulseResponse.objects.filter(period="2026-04").count() == 0
    shown = auditor.get("/pulse?period=2026-03").content.decode()
    assert 'id="results"' not in shown
