"""Reading initiatives: one initiative with its phases, the list, a metric's series."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from detente.acceptances.models import RiskAcceptance
from detente.core.errors import InputError, NotFound
from detente.decisions.models import DecisionRecord, DecisionStatus
from detente.initiatives.models import (
    LIVE,
    Guardrail,
    GuardrailChange,
    GuardrailSignature,
    GuardrailState,
    Initiative,
    MetricPoint,
    Phase,
    PhaseStatus,
    PhaseTransition,
    Side,
)
from detente.people.models import Person, Role

# A phase between its start and its end: the one a move without a phase number means.
IN_FLIGHT = frozenset({PhaseStatus.RUNNING, PhaseStatus.PAUSED, PhaseStatus.RESUMED})


def initiative_get(pk: int) -> Initiative:
    found = Initiative.objects.select_related("cio_sponsor", "ciso_sponsor").filter(pk=pk).first()
    if found is None:
        raise NotFound(f"initiative {pk} does not exist")
    return found


def phase_get(
    initiative: Initiative, number: int | None = None, *, in_flight: bool = False
) -> Phase:
    """Phase ``number``; without one, the phase in flight (running, paused or resumed) or,
    unless ``in_flight`` (pause, resume, roll back, complete), the next planned one. Never a
    phase that has ended: with no such phase the caller must name one (bad input, field
    ``phase``)."""
    if number is not None:
        found = Phase.objects.filter(initiative=initiative, number=number).first()
        if found is None:
            raise NotFound(f"IN-{initiative.pk} has no phase {number}")
        return found
    phases = list(Phase.objects.filter(initiative=initiative).order_by("number"))
    found = _in_flight(phases)
    if found is None and not in_flight:
        found = next((p for p in phases if p.status == PhaseStatus.PLANNED), None)
    if found is None:
        wanted = "running or paused" if in_flight else "running, paused or planned"
        states = ", ".join(f"{p.number} {p.get_status_display().lower()}" for p in phases)
        raise InputError(
            f"IN-{initiative.pk} has no {wanted} phase (phases: {states or 'none'}); "
            "name the phase",
            record=f"IN-{initiative.pk}",
            field="phase",
        )
    return found


def _in_flight(phases: list[Phase]) -> Phase | None:
    return next((p for p in phases if p.status in IN_FLIGHT), None)


def guardrail_of(phase: Phase, metric: str) -> Guardrail:
    found = Guardrail.objects.filter(phase=phase, metric=metric).first()
    if found is None:
        raise NotFound(f"{phase} has no guardrail on {metric!r}")
    return found


def decision_get(pk: int) -> DecisionRecord:
    """A decision record an initiative move cites (a threshold change)."""
    found = DecisionRecord.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"decision record {pk} does not exist")
    return found


def acceptance_get(pk: int) -> RiskAcceptance:
    """A risk acceptance to link to a phase."""
    found = RiskAcceptance.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"risk acceptance {pk} does not exist")
    return found


def current_phase(initiative: Initiative) -> Phase | None:
    """The phase in flight (running, paused or resumed), else the next planned one, else the
    last phase (every phase ended); None without phases."""
    phases = list(Phase.objects.filter(initiative=initiative).order_by("number"))
    found = _in_flight(phases) or next((p for p in phases if p.status == PhaseStatus.PLANNED), None)
    return found or (phases[-1] if phases else None)


def guardrail_status(phase: Phase | None) -> str:
    """The worst state of a phase's guardrails: breached > unavailable > unknown > healthy."""
    if phase is None:
        return GuardrailState.UNKNOWN
    states = set(Guardrail.objects.filter(phase=phase).values_list("state", flat=True))
    for state in (
        GuardrailState.BREACHED,
        GuardrailState.UNAVAILABLE,
        GuardrailState.UNKNOWN,
    ):
        if state in states:
            return state
    return GuardrailState.HEALTHY if states else GuardrailState.UNKNOWN


def next_decision(phase: Phase | None) -> str:
    if phase is None:
        return "none"
    if phase.go_no_go_id is not None:
        return f"go/no-go DR-{phase.go_no_go_id}"
    if phase.status == "planned":
        sides = set(GuardrailSignature.objects.filter(phase=phase).values_list("side", flat=True))
        missing = [s for s in ("cio", "ciso") if s not in sides]
        if missing:
            return "guardrails to sign: " + ", ".join(f"{s.upper()} side" for s in missing)
        if any(not item.get("done_at") for item in phase.comms):
            return "communications to complete"
        return f"start phase {phase.number}"
    if phase.status in LIVE:
        return f"complete phase {phase.number} (due {phase.planned_end.isoformat()})"
    return "none"


def initiative_rows(*, running_only: bool = False) -> list[dict[str, Any]]:
    rows = []
    for initiative in Initiative.objects.select_related("cio_sponsor", "ciso_sponsor"):
        phase = current_phase(initiative)
        if running_only and (phase is None or phase.status not in (*LIVE, "paused")):
            continue
        rows.append(
            {
                "id": initiative.pk,
                "title": initiative.title,
                "cio_sponsor": initiative.cio_sponsor.email,
                "ciso_sponsor": initiative.ciso_sponsor.email,
                "phase": phase.number if phase else None,
                "phase_status": phase.status if phase else None,
                "share": phase.share if phase else None,
                "guardrails": guardrail_status(phase),
                "next_decision": next_decision(phase),
            }
        )
    return rows


def initiative_detail(initiative: Initiative) -> dict[str, Any]:
    phases = []
    for phase in Phase.objects.filter(initiative=initiative).order_by("number"):
        signatures = {
            s.side: {"by": s.person.email, "at": s.signed_at.isoformat()}
            for s in GuardrailSignature.objects.filter(phase=phase).select_related("person")
        }
        phases.append(
            {
                "number": phase.number,
                "name": phase.name,
                "status": phase.status,
                "cohorts": phase.cohorts,
                "share": phase.share,
                "planned_start": phase.planned_start.isoformat(),
                "planned_end": phase.planned_end.isoformat(),
                "started_at": phase.started_at.isoformat() if phase.started_at else None,
                "ended_at": phase.ended_at.isoformat() if phase.ended_at else None,
                "entry_criteria": phase.entry_criteria,
                "comms": phase.comms,
                "signatures": signatures,
                "go_no_go": phase.go_no_go_id,
                "acceptance": phase.acceptance_id,
                "guardrails": [
                    {
                        "id": g.pk,
                        "metric": g.metric,
                        "label": g.label,
                        "unit": g.unit,
                        "direction": g.direction,
                        "baseline": g.baseline,
                        "threshold": g.threshold,
                        "window_minutes": g.window_minutes,
                        "min_points": g.min_points,
                        "action": g.action,
                        "promql": g.promql,
                        "state": g.state,
                        "state_detail": g.state_detail,
                        "evaluated_at": g.evaluated_at.isoformat() if g.evaluated_at else None,
                        "latest": latest_point(initiative, g.metric, until=phase.ended_at),
                    }
                    for g in Guardrail.objects.filter(phase=phase).order_by("id")
                ],
            }
        )
    current = current_phase(initiative)
    history = [
        {
            "at": t.at.isoformat(),
            "phase": t.phase.number,
            "from": t.from_status,
            "to": t.to_status,
            "by": t.actor.email if t.actor else "guardrail evaluation",
            "reason": t.reason,
            "decision": t.decision_id,
        }
        for t in PhaseTransition.objects.filter(phase__initiative=initiative).select_related(
            "phase", "actor"
        )
    ]
    changes = [
        {
            "at": c.changed_at.isoformat(),
            "metric": c.guardrail.metric,
            "phase": c.guardrail.phase.number,
            "old": c.old_threshold,
            "new": c.new_threshold,
            "decision": c.decision_id,
            "by": c.actor.email,
        }
        for c in GuardrailChange.objects.filter(guardrail__phase__initiative=initiative)
        .select_related("guardrail__phase", "actor")
        .order_by("changed_at", "id")
    ]
    return {
        "id": initiative.pk,
        "title": initiative.title,
        "description": initiative.description,
        "objection": objection(initiative),
        "cio_sponsor": initiative.cio_sponsor.email,
        "ciso_sponsor": initiative.ciso_sponsor.email,
        "services": sorted(s.slug for s in initiative.services.all()),
        "risk": {
            "measure": initiative.risk_measure,
            "baseline": initiative.risk_baseline,
            "expected": initiative.risk_expected,
            "observed": initiative.risk_observed,
            **initiative.risk_links,
        },
        "current_phase": current.number if current else None,
        "guardrails": guardrail_status(current),
        "next_decision": next_decision(current),
        "phases": phases,
        "history": history,
        "threshold_changes": changes,
    }


def latest_point(
    initiative: Initiative, metric: str, *, until: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The metric's last point (up to ``until``, e.g. the end of the phase that guarded it)."""
    query = MetricPoint.objects.filter(initiative=initiative, metric=metric)
    if until is not None:
        query = query.filter(at__lte=until)
    row = query.order_by("-at").values_list("at", "value").first()
    return None if row is None else {"at": row[0].isoformat(), "value": row[1]}


def objection(initiative: Initiative) -> dict[str, Any] | None:
    """The objection that cancelled the rollout (who, which side, why, from which phase)."""
    move = (
        PhaseTransition.objects.filter(phase__initiative=initiative, to_status="cancelled")
        .select_related("phase", "actor")
        .order_by("at", "id")
        .first()
    )
    if move is None:
        return None
    return {
        "at": move.at.isoformat(),
        "phase": move.phase.number,
        "by": move.actor.email if move.actor else None,
        "side": move.facts.get("objection"),
        "reason": move.reason,
    }


def metric_series(
    initiative: Initiative,
    metric: str,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[tuple[dt.datetime, float]]:
    query = MetricPoint.objects.filter(initiative=initiative, metric=metric)
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lte=until)
    return list(query.order_by("at").values_list("at", "value"))


@dataclass(frozen=True)
class Waiting:
    """Something an initiative waits for from one person: ``kind`` is ``guardrails`` (sign a
    planned phase's guardrails for your side), ``go_no_go`` (decide a paused phase) or ``comms``
    (a communication item you own)."""

    kind: str
    initiative: Initiative
    phase: Phase
    text: str
    decision_id: int | None = None


def waiting_for(person: Person) -> list[Waiting]:
    """What initiatives wait for from ``person`` now: a sponsor's unsigned guardrails on the next
    planned phase, an open go/no-go decision on a paused phase (its sponsors and the CIO and
    CISO), communication items they own on a planned phase. One query per initiative."""
    out: list[Waiting] = []
    leader = person.has_any_role((Role.CIO, Role.CISO))
    for initiative in Initiative.objects.select_related("cio_sponsor", "ciso_sponsor"):
        sponsor = (
            Side.CIO
            if person.pk == initiative.cio_sponsor_id
            else Side.CISO
            if person.pk == initiative.ciso_sponsor_id
            else None
        )
        phase = current_phase(initiative)
        if phase is None:
            continue
        name = f"IN-{initiative.pk} “{initiative.title}” phase {phase.number}"
        if phase.status == "paused" and (sponsor or leader) and phase.go_no_go_id is not None:
            open_ = DecisionRecord.objects.filter(
                pk=phase.go_no_go_id, status=DecisionStatus.OPEN
            ).exists()
            if open_:
                out.append(
                    Waiting(
                        "go_no_go",
                        initiative,
                        phase,
                        f"Decide go/no-go DR-{phase.go_no_go_id}: {name} is paused",
                        phase.go_no_go_id,
                    )
                )
        if phase.status != "planned":
            continue
        if (
            sponsor is not None
            and not GuardrailSignature.objects.filter(phase=phase, side=sponsor).exists()
        ):
            out.append(
                Waiting(
                    "guardrails",
                    initiative,
                    phase,
                    f"Sign the guardrails of {name} ({Side(sponsor).label})",
                )
            )
        for number, item in enumerate(phase.comms, start=1):
            if item.get("owner") == person.email and not item.get("done_at"):
                out.append(
                    Waiting(
                        "comms",
                        initiative,
                        phase,
                        f"Send communication {number} of {name}: "
                        f"{item.get('audience', '')} by {item.get('channel', '')}"
                        f"{', ' + str(item['date']) if item.get('date') else ''}",
                    )
                )
    return out
