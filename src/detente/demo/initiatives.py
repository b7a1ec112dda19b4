"""The demo's customer-facing rollout: MFA for online banking, with its metric history. Phase 1
(the pilot) is done; phase 2 paused on a drop-off spike three weeks ago and resumed the next day
after a go/no-go decision; phase 3 waits for the CISO side's signature.

Everything goes through the services, on a clock moved through the story (then put back).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from collections.abc import Callable
from importlib import resources

from detente.core import clock
from detente.decisions.services import decision_decide
from detente.initiatives.csvfile import Point
from detente.initiatives.document import parse_initiative
from detente.initiatives.models import Initiative, Phase
from detente.initiatives.services import (
    comms_complete,
    guardrails_evaluate,
    guardrails_sign,
    initiative_create,
    initiative_record_risk,
    metrics_record,
    phase_complete,
    phase_resume,
    phase_start,
)
from detente.people.models import Person

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
SOURCE = "mfa_online_banking.yaml"


def demo_text() -> str:
    return resources.files("detente.demo").joinpath(SOURCE).read_text(encoding="utf-8")


def _series(start: dt.datetime, end: dt.datetime, spike: dt.datetime) -> list[Point]:
    """Hourly points with a daily rhythm and a little noise; a four-hour drop-off spike."""
    rng = random.Random(17)  # noqa: S311 - demo noise, not security
    points: list[Point] = []
    moment = start
    while moment <= end:
        daily = math.sin(2 * math.pi * moment.hour / 24)
        in_spike = spike <= moment < spike + 4 * H
        points += [
            Point("login_success_rate", moment,
                  round(98.6 + 0.25 * daily + rng.uniform(-0.2, 0.2)
                        - (1.1 if in_spike else 0.0), 2)),
            Point("drop_off_rate", moment,
                  round(10.5 + rng.uniform(-0.8, 0.8) if in_spike
                        else 4.0 + 0.3 * daily + rng.uniform(-0.3, 0.3), 2)),
            Point("support_tickets_per_1000", moment, round(1.2 + rng.uniform(-0.3, 0.4), 2)),
            Point("latency_p95", moment, round(420 + 40 * daily + rng.uniform(-25, 25))),
        ]  # fmt: skip
        moment += H
    return points


def build_initiatives_demo(
    people: dict[str, Person], *, progress: Callable[[str], None] = lambda _msg: None
) -> Initiative:
    cio, ciso = people["cio@demo.detente"], people["ciso@demo.detente"]
    now = clock.now().replace(minute=0, second=0, microsecond=0)
    start = now - 42 * D
    spike = (now - 21 * D).replace(hour=10)  # a Thursday morning, 10:00 UTC
    spec = parse_initiative(demo_text(), source=SOURCE)
    # Planned dates follow the story: pilot two weeks, Germany four, everyone from next week.
    plans = [(start, now - 29 * D), (now - 28 * D, now + 6 * D), (now + 7 * D, now + 50 * D)]
    spec = dataclasses.replace(spec, phases=[
        dataclasses.replace(p, start=a.date(), end=b.date())
        for p, (a, b) in zip(spec.phases, plans, strict=True)
    ])  # fmt: skip
    with clock.frozen_at(start - 7 * D):
        initiative = initiative_create(actor=ciso, spec=spec, source=SOURCE)
        phases = list(Phase.objects.filter(initiative=initiative).order_by("number"))
        for phase in phases[:2]:
            guardrails_sign(actor=cio, phase=phase)
            guardrails_sign(actor=ciso, phase=phase)
        guardrails_sign(actor=cio, phase=phases[2])
        for phase in phases:
            for item, entry in enumerate(phase.comms, start=1):
                if phase.number < 3:
                    owner = next(p for p in people.values() if p.email == entry["owner"])
                    comms_complete(actor=owner, phase=phase, item=item)
    with clock.frozen_at(start):
        phase_start(actor=cio, phase=phases[0])
    # The history arrives as it happens: the pilot's part before the pilot ends, judged while the
    # pilot is live (so its guardrails show real states, not "not evaluated"), the rest later.
    history = _series(start, now, spike)
    pilot_end = now - 29 * D
    with clock.frozen_at(pilot_end):
        metrics_record(actor=None, initiative=initiative, source="demo history",
                       points=[p for p in history if p.at <= pilot_end])  # fmt: skip
        guardrails_evaluate(initiatives=[initiative.pk])  # the pilot's last round: healthy
        phase_complete(actor=ciso, phase=phases[0])
    with clock.frozen_at(now - 28 * D):
        phase_start(actor=cio, phase=phases[1])
    metrics_record(actor=None, initiative=initiative, source="demo history",
                   points=[p for p in history if p.at > pilot_end])  # fmt: skip
    with clock.frozen_at(spike + 2 * H):
        guardrails_evaluate(initiatives=[initiative.pk])  # the spike's window: paused
    phases[1].refresh_from_db()
    decision = phases[1].go_no_go
    assert decision is not None
    with clock.frozen_at(spike + 20 * H):
        decision_decide(
            actor=cio, record=decision, chosen_option=0, ciso_recommendation_followed=True,
            decision="Go: the spike was the SMS code text in German; reworded, resume phase 2 "
            "with drop-off watched at 7 %",
            why_blank="go/no-go in the rollout call; the guardrail data are the facts",
        )  # fmt: skip
        phase_resume(actor=ciso, phase=phases[1])
    with clock.frozen_at(now):
        guardrails_evaluate(initiatives=[initiative.pk])
        initiative_record_risk(actor=ciso, initiative=initiative, observed=17)
    progress(
        f"initiative IN-{initiative.pk}: {initiative.title}, {len(history)} metric points; "
        f"phase 2 paused on a drop-off spike and resumed after DR-{decision.pk}"
    )
    return initiative
