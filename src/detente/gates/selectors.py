"""Reads of the release gate: baselines, run lists, DevSecOps coverage per service."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from detente.core.errors import InputError, NotFound
from detente.findings.importer import Identifier, ImportOptions
from detente.findings.parsers.registry import parse_stream
from detente.findings.services import scan_paths
from detente.gates.models import GateDecision, GateOverride, GateRun, OverrideStatus
from detente.inventory.models import BusinessService
from detente.people.models import Person

SCAN_KINDS = ("sca", "sast", "secrets", "iac", "container", "dast")


@dataclass(frozen=True)
class Baseline:
    keys: frozenset[str]
    label: str
    run: GateRun | None = None


def baseline_for(
    *, service: BusinessService, baseline: str, options: ImportOptions, files: bool = True
) -> Baseline:
    """``--baseline``: a gate run's JSON output, scan reports (file or folder), or the name of a
    ref (branch) or version whose last recorded run of this service is the baseline. With
    ``files=False`` (the server) only recorded runs: a request never names a server path."""
    path = Path(baseline)
    if files and path.exists():
        if path.is_file() and path.suffix.lower() == ".json":
            try:
                data = json.loads(path.read_bytes())
            except (ValueError, UnicodeDecodeError):
                data = None
            if isinstance(data, dict) and "decision" in data and "keys" in data:
                keys = data["keys"]
                if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                    raise InputError("expected a list of fingerprints", file=str(path),
                                     field="keys")  # fmt: skip
                return Baseline(frozenset(keys), f"gate output {path.name}")
        identify = Identifier(options)
        keys_found: set[str] = set()
        for file in scan_paths([path]):
            with file.open("rb") as handle:
                findings = list(parse_stream(handle, str(file), fmt=options.fmt))
            keys_found.update(identify(findings, str(file)))
        return Baseline(frozenset(keys_found), f"reports {path.name}")
    run = (
        GateRun.objects.filter(service=service, ref=baseline).first()
        or GateRun.objects.filter(service=service, version=baseline).first()
    )
    if run is None:
        raise NotFound(
            f"no baseline {baseline!r}: neither a file nor a recorded gate run of "
            f"{service.slug} with that ref or version"
        )
    return Baseline(frozenset(run.keys), f"run #{run.pk} ({baseline})", run)


def runs(
    service: BusinessService | None = None, limit: int = 50, *, owner: Person | None = None
) -> QuerySet[GateRun]:
    """Recent runs; with ``owner`` (a service owner) only the runs of the services they own."""
    qs = GateRun.objects.select_related("service").order_by("-started_at", "-id")
    if service is not None:
        qs = qs.filter(service=service)
    if owner is not None:
        qs = qs.filter(service__owner=owner)
    return qs[:limit]


@dataclass
class Coverage:
    service: BusinessService
    runs: int = 0
    passed: int = 0
    blocked: int = 0
    overridden: int = 0
    # scan kind -> {"runs": releases it ran at, "last_age_hours": freshness at the last release}
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)
    lead_time_hours: float = 0.0  # summed time releases waited at the gate (blocked → released)
    waited: int = 0  # releases that waited
    pending_overrides: int = 0


def coverage(
    *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[Coverage]:
    """Per service: scan kinds at release, their freshness, pass/block/override counts and the
    lead time a release lost at the gate (first blocked run → first pass or override of the same
    version). With ``until`` (exclusive), runs from then on are left out and a run overridden
    only from then on counts as what it was before ``until``: blocked."""
    qs = GateRun.objects.select_related("service").order_by("started_at", "id")
    if since is not None:
        qs = qs.filter(started_at__gte=since)
    later: set[int] = set()
    if until is not None:
        qs = qs.filter(started_at__lt=until)
        later = set(
            GateOverride.objects.filter(run__in=qs, created_at__gte=until).values_list(
                "run_id", flat=True
            )
        )
    by_service: dict[int, Coverage] = {}
    first_blocked: dict[tuple[int, str], dt.datetime] = {}
    released: set[tuple[int, str]] = set()
    for run in qs:
        if run.pk in later:
            run.decision = GateDecision.BLOCKED
        cov = by_service.setdefault(run.service_id, Coverage(run.service))
        cov.runs += 1
        if run.decision == GateDecision.PASS:
            cov.passed += 1
        elif run.decision == GateDecision.BLOCKED:
            cov.blocked += 1
        else:
            cov.overridden += 1
        ages: dict[str, float] = {}
        for f in run.files:
            kind = f.get("kind", "sca")
            age = float(f.get("age_hours", 0.0))
            ages[kind] = min(age, ages.get(kind, age))
        for kind, age in ages.items():
            slot = cov.kinds.setdefault(kind, {"runs": 0, "last_age_hours": None})
            slot["runs"] += 1
            slot["last_age_hours"] = age
        key = (run.service_id, run.version)
        if key in released:
            continue
        if run.decision == GateDecision.BLOCKED:
            first_blocked.setdefault(key, run.started_at)
        else:
            released.add(key)
            started = first_blocked.get(key)
            if started is not None:
                cov.waited += 1
                cov.lead_time_hours += (run.started_at - started).total_seconds() / 3600
    open_overrides = GateOverride.objects.filter(
        status__in=(OverrideStatus.PENDING, OverrideStatus.ESCALATED)
    )
    if until is not None:
        open_overrides = open_overrides.filter(created_at__lt=until)
    pending = Counter(open_overrides.values_list("run__service_id", flat=True))
    for sid, cov in by_service.items():
        cov.pending_overrides = pending.get(sid, 0)
        cov.lead_time_hours = round(cov.lead_time_hours, 2)
    return sorted(by_service.values(), key=lambda c: c.service.slug)


def override_by_id(pk: int) -> GateOverride:
    found = GateOverride.objects.select_related("run__service", "actor").filter(pk=pk).first()
    if found is None:
        raise NotFound(f"gate override {pk} does not exist")
    return found


def run_by_id(pk: int) -> GateRun:
    found = GateRun.objects.select_related("service").filter(pk=pk).first()
    if found is None:
        raise NotFound(f"gate run {pk} does not exist")
    return found


def overrides_awaiting(person: Person) -> list[GateOverride]:
    """Overrides waiting for ``person``'s second signature (a leader's "needs you now"): pending
    or escalated, the person's role among the policy's second signers, not their own override,
    and of another role than the overrider's when policy asks for it. Oldest due first."""
    waiting = list(
        GateOverride.objects.filter(status__in=(OverrideStatus.PENDING, OverrideStatus.ESCALATED))
        .exclude(actor=person)
        .select_related("run__service", "actor")
        .order_by("second_due", "id")
    )
    if not waiting:
        return []  # no policy read (a first read would store the default policy)
    from detente.policy.services import active_policy

    rule = active_policy()[0].gate.override
    if not person.has_any_role(rule.second_signers):
        return []
    mine = [r for r in person.roles if r in rule.second_signers]
    return [o for o in waiting if not rule.other_role or any(r != o.role for r in mine)]


def overrides_list(*, status: str | None = None) -> QuerySet[GateOverride]:
    """Overrides newest first, optionally of one status, with their run's service and actor."""
    qs = GateOverride.objects.select_related("run__service", "actor").order_by("-created_at")
    return qs.filter(status=status) if status else qs


def overrides_open() -> QuerySet[GateOverride]:
    """Overrides still waiting for a second signature (pending or escalated), soonest due first."""
    return (
        GateOverride.objects.select_related("run__service", "actor", "decision")
        .filter(status__in=(OverrideStatus.PENDING, OverrideStatus.ESCALATED))
        .order_by("second_due")
    )


def override_signers(override: GateOverride) -> list[Person]:
    """Who can give ``override`` its second signature: active people of a role among the
    policy's second signers, not its author, and of another role than the author's when policy
    asks for it (the people an escalation is sent to; ``overrides_awaiting`` is its mirror)."""
    from detente.policy.services import active_policy

    rule = active_policy()[0].gate.override
    roles = [r for r in rule.second_signers if not (rule.other_role and r == override.role)]
    return list(
        Person.objects.holding(*roles)
        .filter(active=True)
        .exclude(pk=override.actor_id)
        .order_by("role", "email")
    )
