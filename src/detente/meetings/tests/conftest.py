"""An organisation with both leaders, a delegate, an engineer, an auditor and a facilitator, and
an amber radar for November 2026 (an executive escalation: red line 5) made by the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from detente.core import clock
from detente.decisions.models import DecisionRecord
from detente.decisions.services import decision_create
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.policy.services import policy_ensure_default
from detente.tension.models import TensionSnapshot
from detente.tension.services import pulse_answer, radar_compute
from detente.tension.signals import Period

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
NOVEMBER = Period(2026, 11)


@dataclass
class Org:
    cio: Person
    ciso: Person
    delegate: Person
    engineer: Person
    auditor: Person
    facilitator: Person
    escalated: DecisionRecord


def _person(name: str, role: Role) -> Person:
    return person_upsert(name=name, email=f"{role.value}@example.org", role=role)


@pytest.fixture
def org(db: None) -> Org:
    return make_org()


def make_org() -> Org:
    clock.set_now(NOW - dt.timedelta(days=2))
    policy_ensure_default()
    people = {
        role: _person(name, role)
        for name, role in (
            ("Chris Io", Role.CIO),
            ("Sam Iso", Role.CISO),
            ("Dee Legate", Role.SECURITY_LEAD),
            ("Eng Ineer", Role.ENGINEER),
            ("Audrey Tor", Role.AUDITOR),
            ("Fay Cilitator", Role.FACILITATOR),
        )
    }
    escalated = decision_create(
        actor=people[Role.CISO],
        title="Defer the core-banking patch past the freeze",
        pressure_point="patching",
        question="Patch core banking before the freeze or defer to January?",
        options=[
            {"title": "Patch now", "business_benefit": "No exposure over the holidays"},
            {"title": "Defer", "business_benefit": "No change risk in the freeze"},
        ],
        escalation_level="executive",
    )
    clock.set_now(NOW)
    return Org(
        cio=people[Role.CIO],
        ciso=people[Role.CISO],
        delegate=people[Role.SECURITY_LEAD],
        engineer=people[Role.ENGINEER],
        auditor=people[Role.AUDITOR],
        facilitator=people[Role.FACILITATOR],
        escalated=escalated,
    )


@pytest.fixture
def amber(org: Org) -> TensionSnapshot:
    return make_amber(org)


def make_amber(org: Org) -> TensionSnapshot:
    snapshot = radar_compute(period=NOVEMBER, actor=org.ciso)
    assert snapshot.zone == "amber", snapshot.triggers
    return snapshot


CALM = {f"P{n}": v for n, v in zip(range(1, 11), (4, 4, 4, 4, 4, 4, 2, 1, 5, 1), strict=True)}
META = {"P3": 4, "P9": 5}


def both_answer_pulse(org: Org, period: Period | None = None) -> None:
    for leader in (org.cio, org.ciso):
        pulse_answer(actor=leader, answers=dict(CALM), meta=dict(META), period=period)
