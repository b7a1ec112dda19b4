"""Signals for the tension radar (listed in ``tension/contributed.py``): period → value +
evidence, as ``planning/signals.py`` contributes them.

- ``apis_exposed_without_valid_test``: APIs at an exposed stage at the period's end whose spec
  version then had no pen test within the stage gate's age: a test of that exact digest, or, as
  the promotion gate credits it (``accept_unchanged_versions``), a test of an earlier version
  whose diff to it is not material (no new operation, no security change). Value: their number.
  Evidence: API ids.
- ``pentest_backlog_age``: for APIs that are exposed, or whose promotion was refused, without a
  valid test at the period's end: the days since their spec version at that time was uploaded;
  value is the oldest wait (0 when none waits). Evidence: API ids, number waiting.
- ``promotions_refused_then_forced``: promotions forced past the gate in the period, for an API
  whose promotion to the same stage had been refused before. Value: their number. Evidence:
  promotion ids.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from detente.api_register.models import Api, Outcome, Promotion
from detente.api_register.selectors import api_policy, versions_diff
from detente.core.radar import Reading, SignalMeta
from detente.policy.api_register import StageGate

MOVES = (Outcome.PROMOTED, Outcome.FORCED, Outcome.DEMOTED)


def _state_at(api: Api, end: dt.datetime, first_stage: str) -> tuple[str, Any, bool]:
    """(stage, spec version, had a refused promotion) of ``api`` just before ``end``."""
    moves = [p for p in api.promotions.all() if p.at < end]
    moved = [p for p in moves if p.outcome in MOVES]
    stage = max(moved, key=lambda p: (p.at, p.pk)).to_stage if moved else first_stage
    versions = [v for v in api.versions.all() if v.created_at < end]
    version = max(versions, key=lambda v: v.number) if versions else None
    refused = any(p.outcome == Outcome.REFUSED for p in moves)
    return stage, version, refused


def _tested(api: Api, version: Any, end: dt.datetime, gate: StageGate | None) -> bool:
    """Whether a pen test ended before ``end`` (within the gate's age) covers ``version``: one of
    its digest, or, where the gate accepts unchanged versions, one of an earlier version whose
    diff to it is not material, as ``selectors.pentest_status`` judges it for the gate."""
    max_age = gate.pentest_max_age_days if gate else 365
    oldest = (end - dt.timedelta(days=max_age)).date()
    recent = [t for t in api.pentests.all() if oldest <= t.ended_on < end.date()]
    if any(t.spec_digest == version.digest for t in recent):
        return True
    if gate is not None and not gate.accept_unchanged_versions:
        return False
    versions = {v.pk: v for v in api.versions.all()}
    # a test of a later version says nothing of this one; each tested version is diffed once
    tested = {t.version_id for t in recent if versions[t.version_id].number < version.number}
    return any(not versions_diff(versions[pk], version).material for pk in sorted(tested))


def _untested(end: dt.datetime) -> list[tuple[Api, Any, str, bool]]:
    policy = api_policy()
    found = []
    apis = Api.objects.filter(created_at__lt=end).prefetch_related(
        "promotions", "versions", "pentests"
    )
    for api in apis.order_by("id"):
        stage, version, refused = _state_at(api, end, policy.stages[0])
        if version is None:
            continue
        gate = policy.gates.get(stage) or next(
            (policy.gates[s] for s in policy.exposed_stages if s in policy.gates), None
        )
        if not _tested(api, version, end, gate):
            found.append((api, version, stage, refused))
    return found


def apis_exposed_without_valid_test(start: dt.datetime, end: dt.datetime) -> Reading:
    """APIs at an exposed stage at the period's end without a valid pen test (count)."""
    exposed = set(api_policy().exposed_stages)
    ids = [api.pk for api, _, stage, _ in _untested(end) if stage in exposed]
    return Reading("apis_exposed_without_valid_test", len(ids), {"apis": ids})


def pentest_backlog_age(start: dt.datetime, end: dt.datetime) -> Reading:
    """Days the oldest exposed or refused API has waited for a pen test of its spec version."""
    exposed = set(api_policy().exposed_stages)
    waiting = [
        (api.pk, (end - version.created_at).days)
        for api, version, stage, refused in _untested(end)
        if stage in exposed or refused
    ]
    return Reading(
        "pentest_backlog_age",
        max((days for _, days in waiting), default=0),
        {"apis": [pk for pk, _ in waiting], "waiting": len(waiting)},
    )


def promotions_refused_then_forced(start: dt.datetime, end: dt.datetime) -> Reading:
    """Promotions forced past the gate in the period after a refusal to the same stage (count)."""
    forced = Promotion.objects.filter(outcome=Outcome.FORCED, at__gte=start, at__lt=end)
    ids = [
        p.pk
        for p in forced.order_by("at", "id")
        if Promotion.objects.filter(
            api_id=p.api_id, to_stage=p.to_stage, outcome=Outcome.REFUSED, at__lte=p.at
        ).exists()
    ]
    return Reading("promotions_refused_then_forced", len(ids), {"promotions": ids})


SIGNALS = (apis_exposed_without_valid_test, pentest_backlog_age, promotions_refused_then_forced)

META: dict[str, SignalMeta] = {
    "apis_exposed_without_valid_test": SignalMeta(
        "Apis exposed without valid test", "covert", None,
        "APIs at an exposed stage at the period's end without a valid pen test (count).",
        ("apis",),
    ),
    "pentest_backlog_age": SignalMeta(
        "Pentest backlog age", "covert", None,
        "Days the oldest exposed or refused API has waited for a pen test of its spec version.",
        ("apis",),
    ),
    "promotions_refused_then_forced": SignalMeta(
        "Promotions refused then forced", "covert", None,
        "Promotions forced past the gate in the period after a refusal to the same stage (count).",
        ("promotions",),
    ),
}  # fmt: skip
