"""Profiles, the pulse, the index and its hysteresis, the registry."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.people.models import Role
from detente.people.services import person_upsert
from detente.tension import index as dti
from detente.tension import profiles
from detente.tension.models import LeaderProfile, PulseResponse
from detente.tension.selectors import pair_guidance, pulse_show
from detente.tension.services import profile_take, pulse_answer
from detente.tension.signals import Period, registered

NOW = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)


def _cio_answers(**over: int) -> dict[str, int]:
    base = {f"A{n}": 3 for n in range(1, 16)} | {"A16": 4}
    # Operator first (A3 reverse-keyed: 1 = strongly disagree = high RUN), Transformational low.
    base |= {"A1": 5, "A2": 5, "A3": 1, "A7": 1, "A8": 2, "A9": 1}
    return base | over


def _ciso_answers(**over: int) -> dict[str, int]:
    base = {f"B{n}": 3 for n in range(1, 16)} | {"B16": 2}
    base |= {"B4": 5, "B5": 5, "B6": 5, "B10": 1, "B11": 1, "B12": 2}
    return base | over


def test_scoring_reverse_keys_and_picks_the_top_two() -> None:
    score = profiles.score_profile("cio", _cio_answers())

    assert score.primary == "operator"
    assert score.kind == "single"
    assert set(score.weights) == {"operator", score.secondary}
    assert sum(score.weights.values()) == pytest.approx(1.0)
    assert min(score.dimensions, key=lambda k: score.dimensions[k]) == "transformational"


def test_a_near_tie_is_a_blend_and_a_flat_profile_is_undifferentiated() -> None:
    blend = profiles.score_profile("cio", _cio_answers(A10=5, A11=5, A12=5))
    flat = profiles.score_profile("cio", {f"A{n}": 3 for n in range(1, 16)} | {"A16": 4})

    assert blend.kind == "blend"
    assert {blend.primary, blend.secondary} == {"operator", "business"}
    assert flat.kind == "undifferentiated"


def test_a_failed_attention_check_is_refused() -> None:
    with pytest.raises(InputError, match="attention check A16"):
        profiles.score_profile("cio", _cio_answers(A16=2))


@pytest.mark.django_db
def test_profile_take_and_pair_guidance_marks_hypotheses() -> None:
    clock.set_now(NOW)
    cio = person_upsert(name="C", email="cio@x.org", role=Role.CIO)
    ciso = person_upsert(name="S", email="ciso@x.org", role=Role.CISO)
    engineer = person_upsert(name="E", email="eng@x.org", role=Role.ENGINEER)
    with pytest.raises(PermissionDenied):
        profile_take(actor=engineer, answers=_cio_answers())
    assert LeaderProfile.objects.count() == 0

    profile_take(actor=cio, answers=_cio_answers())
    profile_take(actor=ciso, answers=_ciso_answers())
    pairing = pair_guidance()

    assert pairing.cell.cio == "operator"
    assert pairing.cell.ciso == "compliance"
    assert pairing.cell.mark == "fit"
    assert pairing.cell.covert is True
    assert pairing.cell.hypothesis is True
    assert [g.pressure_point for g in pairing.guidance] == ["PP1", "PP2", "PP3", "PP4", "PP5"]
    assert pairing.guidance[0].ciso_to_cio == "blast radius, rollback, windows; KEV first"
    assert pairing.guidance[0].cio_to_ciso == "documented, time-bound, owner, control"
    assert all(g.hypothesis for g in pairing.guidance)
    assert AuditEvent.objects.filter(verb="tension.profile_taken").count() == 2


def _pulse(values: int) -> dict[str, int]:
    return {f"P{n}": values for n in range(1, 11)}


@pytest.mark.django_db
def test_pulse_is_blind_until_both_answer_and_gives_the_gap() -> None:
    clock.set_now(NOW)
    cio = person_upsert(name="C", email="cio@x.org", role=Role.CIO)
    ciso = person_upsert(name="S", email="ciso@x.org", role=Role.CISO)
    march = Period(2026, 3)

    pulse_answer(actor=cio, answers=_pulse(4), meta={"P3": 4, "P9": 4})
    assert pulse_show(viewer=cio, period=march)["counterpart"] is None
    with pytest.raises(RuleViolation):
        pulse_answer(actor=cio, answers=_pulse(4), meta={"P3": 4, "P9": 4})
    with pytest.raises(RuleViolation):
        pulse_answer(actor=ciso, answers=_pulse(4), meta={"P3": 4, "P9": 4}, period=Period(2026, 4))
    with pytest.raises(InputError):
        pulse_answer(actor=ciso, answers=_pulse(4) | {"P1": 6}, meta={"P3": 4, "P9": 4})
    assert PulseResponse.objects.count() == 1

    pulse_answer(actor=ciso, answers=_pulse(2), meta={"P3": 5, "P9": 5})
    shown = pulse_show(viewer=cio, period=march)

    assert shown["counterpart"] == _pulse(2)
    assert shown["gaps"] == {f"P{n}": 2 for n in range(1, 11)}
    assert shown["my_guess_off_by"] == {"P3": 2, "P9": 2}


def test_normalise_and_combine() -> None:
    assert dti.normalise(3.0, 1.0, 5.0) == 0.5
    assert dti.normalise(9.0, 1.0, 5.0) == 1.0
    assert dti.normalise(4.0, 5.0, 1.0) == 0.25  # lower is worse (pulse P1-P6)
    subs = {"decision_friction": 1.0, "risk_debt": 0.0, "communication": None, "relationship": 0.5}
    weights = {"decision_friction": 0.25, "risk_debt": 0.25, "communication": 0.2,
               "relationship": 0.3}  # fmt: skip
    assert dti.combine(subs, weights) == pytest.approx(100 * (0.25 + 0.15) / 0.8, abs=0.05)


def test_zones_red_lines_and_hysteresis() -> None:
    amber = dti.Trigger("red_line_1", "kev", "amber")
    two = [amber, dti.Trigger("red_line_2", "renewals", "amber")]
    assert dti.raw_zone(10, [], amber_at=35, red_at=60) == "green"
    assert dti.raw_zone(10, [amber], amber_at=35, red_at=60) == "amber"
    assert dti.raw_zone(10, two, amber_at=35, red_at=60) == "red"
    assert (
        dti.raw_zone(10, [dti.Trigger("red_line_6", "p8", "red")], amber_at=35, red_at=60) == "red"
    )
    assert dti.raw_zone(61, [], amber_at=35, red_at=60) == "red"
    # Up at once; down only after two consecutive periods below.
    assert dti.with_hysteresis("red", [("green", "green")], periods=2) == "red"
    assert dti.with_hysteresis("green", [("red", "red")], periods=2) == "red"
    assert dti.with_hysteresis("green", [("red", "red"), ("red", "green")], periods=2) == "green"
    assert dti.with_hysteresis("green", [("red", "red"), ("red", "amber")], periods=2) == "amber"


def test_registry_has_documented_tagged_signals() -> None:
    signals = registered()
    keys = [s.key for s in signals]
    assert len(keys) == len(set(keys))
    for key in ("escalations", "override_rate", "acceptance_requests", "acceptance_renewals",
                "expired_open", "overdue_findings", "overdue_kev", "briefing_latency",
                "coordination", "perception_gap", "downplay", "task_conflict"):  # fmt: skip
        assert key in keys
    assert all(s.formula and s.tag in ("overt", "covert", "perception") for s in signals)


def test_period_arithmetic() -> None:
    assert Period.parse("2026-12").next() == Period(2027, 1)
    assert Period(2026, 1).previous() == Period(2025, 12)
    assert len(Period(2026, 1).until(Period(2026, 12))) == 12
    with pytest.raises(InputError):
        Period.parse("2026-13")
