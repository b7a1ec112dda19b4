"""Generated organisational years: many varied years of each kind, made through the real services.

``generate(kind, rng)`` draws a twelve-month plan (``scenarios.Month``) around the kind's base
months with noise — jittered volumes and pulse answers inside the kind's own band, a holiday month
without a pulse, a reorg month of weaker coordination, and a bad month of incidents that is task
conflict (several SEV2s briefed in time, more open disagreement) rather than relationship conflict.
``run_year(kind, seed)`` builds it with ``scenarios.build_year`` and returns the snapshots; a
*recovering* year is red, then a reset (both leaders sign, a facilitator) and calm months.

Kinds and what the radar must say (docs/tension.md, checked by ``demo/tests/test_scenarios_gen.py``
on a small fixed sample with hypothesis and by ``bench/scenario_years.py`` on 200 years a kind):

- calm — never red; a single bad month of incidents alone does not turn it amber;
- simmering — amber at some point, never red;
- overt — reaches red;
- covert — reaches at least amber (the silence detector, chronic renewals);
- recovering — leaves red within the hysteresis (``tension.periods_to_step_down``) months after its
  own month stops being red, and ends the year below red.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from detente.core import clock
from detente.demo.scenarios import _COVERT, _OVERT, _SIMMER, CALM, Month, Pulse, build_year
from detente.meetings.models import ResetEngagement
from detente.meetings.services import reset_grant, reset_start
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.policy.services import policy_ensure_default
from detente.tension.models import TensionSnapshot
from detente.tension.signals import Period

KINDS = ("calm", "simmering", "overt", "covert", "recovering")


def _jitter(values: Pulse, rng: random.Random, bands: dict[int, tuple[int, int]]) -> Pulse:
    """Each answer moved by -1/0/+1 and kept inside its band (index from 0)."""
    out = []
    for i, v in enumerate(values):
        low, high = bands.get(i, (1, 5))
        out.append(max(low, min(high, v + rng.choice((-1, 0, 0, 1)))))
    return tuple(out)  # type: ignore[return-value]


# Bands that keep a kind what it is: calm never crosses a red line (P8 ≤ 2, P9 ≥ 4, P10 ≤ 2).
CALM_BANDS = {**dict.fromkeys(range(6), (3, 5)), 6: (2, 3), 7: (1, 2), 8: (4, 5), 9: (1, 2)}
SIMMER_BANDS = {**dict.fromkeys(range(6), (2, 4)), 6: (2, 4), 7: (2, 3), 8: (3, 4), 9: (1, 3)}
OVERT_BANDS = {**dict.fromkeys(range(6), (1, 3)), 6: (4, 5), 7: (4, 5), 8: (1, 2), 9: (3, 5)}
COVERT_BANDS = {**dict.fromkeys(range(6), (4, 5)), 6: (1, 1), 7: (1, 1), 8: (4, 5), 9: (1, 2)}


def _noisy(base: Month, rng: random.Random, bands: dict[int, tuple[int, int]]) -> Month:
    return replace(
        base,
        new=max(1, base.new + rng.choice((-1, 0, 1))),
        cio=_jitter(base.cio, rng, bands),
        ciso=_jitter(base.ciso, rng, bands),
    )


def _calm_month(rng: random.Random, m: int) -> Month:
    return replace(_noisy(CALM, rng, CALM_BANDS), accept=1 if m % 3 == 0 else 0)


def generate(kind: str, rng: random.Random) -> list[Month]:
    """A twelve-month plan of ``kind`` with noise drawn from ``rng``."""
    if kind == "calm":
        plan = [_calm_month(rng, m) for m in range(12)]
        holiday = rng.choice((6, 7, 11))
        plan[holiday] = replace(plan[holiday], pulse=False)
        reorg = rng.randrange(12)
        plan[reorg] = replace(
            plan[reorg], cio=_jitter((3, 3, 3, 3, 3, 3, 2, 2, 4, 1), rng, CALM_BANDS)
        )
        bad = rng.randrange(1, 11)
        # A bad month of incidents: task conflict (more disagreement), not relationship conflict.
        plan[bad] = replace(
            plan[bad],
            incident="prompt",
            incidents=3,
            pulse=True,
            cio=replace_at(plan[bad].cio, 6, 3),
            ciso=replace_at(plan[bad].ciso, 6, 3),
        )
        return plan
    if kind == "simmering":
        return [_calm_month(rng, 0), _calm_month(rng, 1)] + [
            replace(
                _noisy(_SIMMER, rng, SIMMER_BANDS),
                decisions=_SIMMER.decisions + ((("facilitator", True),) if m % 3 == 0 else ()),
            )
            for m in range(10)
        ]
    if kind == "overt":
        first = rng.choice((1, 2, 3))
        return [_calm_month(rng, m) for m in range(first)] + [
            replace(_noisy(_OVERT, rng, OVERT_BANDS), incident="late" if m == 1 else None)
            for m in range(12 - first)
        ]
    if kind == "covert":
        return [replace(_noisy(_COVERT, rng, COVERT_BANDS), renew_chain=m > 0) for m in range(12)]
    if kind == "recovering":
        red = rng.choice((3, 4))
        return (
            [_noisy(_SIMMER, rng, SIMMER_BANDS)]
            + [_noisy(_OVERT, rng, OVERT_BANDS) for _ in range(red)]
            + [_calm_month(rng, m) for m in range(11 - red)]
        )
    raise ValueError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")


def replace_at(values: Pulse, index: int, value: int) -> Pulse:
    out = list(values)
    out[index] = value
    return tuple(out)  # type: ignore[return-value]


def _facilitator() -> Person:
    return person_upsert(
        name="Fay Facilitator", email="facilitator@scenario.detente", role=Role.FACILITATOR
    )


def organisation() -> dict[Role, Person]:
    """The generated years' organisation: the default policy, the CIO, CISO, IT lead and the
    facilitator. Made once and reused by every year (the bench builds each year in a savepoint
    rolled back afterwards, so every year starts from this organisation without history)."""
    policy_ensure_default()
    cast = {
        role: person_upsert(
            name=f"{role.label} Gen", email=f"{role.value}@scenario.detente", role=role
        )
        for role in (Role.CIO, Role.CISO, Role.IT_LEAD)
    }
    cast[Role.FACILITATOR] = _facilitator()
    return cast


def run_year(
    kind: str,
    seed: int,
    *,
    start: Period | None = None,
    cast: dict[Role, Person] | None = None,
    plan: list[Month] | None = None,
) -> list[TensionSnapshot]:
    """Build one generated year of ``kind`` from ``seed`` through the services (``cast``: an
    organisation made by ``organisation()``, made here when not given; ``plan``: the months,
    drawn by ``generate`` from the seed when not given)."""
    rng = random.Random(f"{kind}-{seed}")  # noqa: S311 - reproducible noise, not secrets
    plan = plan if plan is not None else generate(kind, rng)
    cast = cast or organisation()

    def between(number: int, snapshot: TensionSnapshot) -> None:
        """The recovering pair starts a reset the month the radar turns red."""
        if kind != "recovering" or snapshot.zone != "red" or ResetEngagement.objects.exists():
            return
        with clock.frozen_at(clock.now()):
            reset = reset_start(
                actor=cast[Role.CIO],
                facilitator=cast[Role.FACILITATOR],
                scope=["radar", "pulse", "decisions"],
                goals="Decision rights, risk appetite, escalation protocol",
            )
            reset_grant(actor=cast[Role.CISO], reset=reset)

    return build_year(plan, start=start or Period(2025, 1), cast=cast, between=between)


def judge(
    kind: str, seed: int, snapshots: list[TensionSnapshot], *, step_down: int
) -> dict[str, Any]:
    """One year's outcome as plain data (the bench's workers send it back to the parent)."""
    return {
        "kind": kind,
        "seed": seed,
        "zones": [s.zone for s in snapshots],
        "raw_zones": [s.raw_zone for s in snapshots],
        "right": verdict(kind, snapshots, step_down=step_down),
        "recovery": recovery_months(snapshots, step_down=step_down)
        if kind == "recovering"
        else None,
    }


def verdict(kind: str, snapshots: list[TensionSnapshot], *, step_down: int) -> bool:
    """Does the radar say what a year of ``kind`` is?"""
    zones = [s.zone for s in snapshots]
    if kind == "calm":
        return "red" not in zones
    if kind == "simmering":
        return "amber" in zones and "red" not in zones
    if kind == "overt":
        return "red" in zones
    if kind == "covert":
        return any(z in ("amber", "red") for z in zones)
    if kind == "recovering":
        return recovery_months(snapshots, step_down=step_down) is not None
    raise ValueError(kind)


def recovery_months(snapshots: list[TensionSnapshot], *, step_down: int) -> int | None:
    """Months from the first month after the red peak whose own (raw) zone is below red to the
    first month shown below red; None when that exceeds ``step_down`` or the year ends red."""
    zones = [s.zone for s in snapshots]
    if "red" not in zones or zones[-1] == "red":
        return None
    last_red = max(i for i, z in enumerate(zones) if z == "red")
    first_red = zones.index("red")
    calm_raw = next(
        (i for i in range(first_red, len(zones)) if snapshots[i].raw_zone != "red"), None
    )
    if calm_raw is None:
        return None
    took = last_red + 1 - calm_raw
    return took if took <= step_down else None
