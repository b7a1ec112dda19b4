"""Does the radar tell the truth? Generated years of each kind, on a fixed small sample (the full
200 years: bench/scenario_years.py, figures in docs/tension.md)."""

from __future__ import annotations

import pytest

from detente.core import clock
from detente.demo.scenarios_gen import generate, recovery_months, run_year, verdict
from detente.meetings.models import ResetEngagement, ResetStatus
from detente.policy.services import policy_ensure_default
from detente.tension.selectors import tension_policy

pytestmark = pytest.mark.django_db
# (kind, seed): one year each; seeds fixed so a failure is reproducible with run_year(kind, seed).
SAMPLE = [
    ("calm", 1),
    ("calm", 2),
    ("simmering", 1),
    ("overt", 1),
    ("covert", 1),
    ("recovering", 1),
]


def test_the_generator_is_seeded_and_varies() -> None:
    import random

    a = generate("calm", random.Random("calm-1"))
    b = generate("calm", random.Random("calm-1"))
    c = generate("calm", random.Random("calm-2"))
    assert a == b
    assert a != c
    # the noise a calm year carries: a holiday without pulse, a bad month of incidents
    assert sum(not m.pulse for m in a) == 1
    assert [m.incidents for m in a if m.incident] == [3]


@pytest.mark.parametrize(("kind", "seed"), SAMPLE)
def test_the_radar_says_what_the_year_is(kind: str, seed: int) -> None:
    policy_ensure_default()
    step_down = tension_policy().periods_to_step_down
    with clock.frozen_at(clock.now()):
        snapshots = run_year(kind, seed)
    zones = [s.zone for s in snapshots]
    assert verdict(kind, snapshots, step_down=step_down), (kind, seed, zones)
    if kind == "calm":
        # the bad month of incidents alone did not turn the calm pair amber
        assert "amber" not in zones, zones
    if kind == "recovering":
        took = recovery_months(snapshots, step_down=step_down)
        assert took is not None
        assert took <= step_down
        assert ResetEngagement.objects.get().status == ResetStatus.ACTIVE
