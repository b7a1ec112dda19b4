"""Writes on initiatives: create from a checked file, sign guardrails, complete the comms
checklist, move phases through ``ALLOWED``, change a threshold through a decision, record metrics,
evaluate guardrails (a breach pauses the phase and opens a go/no-go decision).

Every write locks the phase row, checks the move against ``ALLOWED``, writes its audit event in the
same transaction and raises a domain error — changing nothing — when a rule refuses it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from detente.acceptances.models import AcceptanceStatus, RiskAcceptance
from detente.acceptances.services import acceptance_revoke
from detente.audit.services import audit_record
from detente.core import clock
from detente.core.errors import InputError, NotFound, PermissionDenied, RuleViolation
from detente.decisions.models import DecisionRecord, DecisionStatus, PressurePoint
from detente.decisions.services import decision_create
from detente.initiatives.csvfile import Point
from detente.initiatives.document import InitiativeSpec, quantity
from detente.initiatives.guardrails import Verdict, judge
from detente.initiatives.models import (
    ALLOWED,
    ENDED,
    LIVE,
    Guardrail,
    GuardrailAction,
    GuardrailChange,
    GuardrailSignature,
    GuardrailState,
    Initiative,
    MetricPoint,
    MetricToken,
    Phase,
    PhaseStatus,
    PhaseTransition,
    Side,
)
from detente.inventory.selectors import service_by_slug
from detente.notifications.services import notify
from detente.people.models import Person, Role

P = PhaseStatus
CIO_SIDE_ROLES = frozenset({Role.CIO, Role.IT_LEAD, Role.SERVICE_OWNER})
CISO_SIDE_ROLES = frozenset({Role.CISO, Role.SECURITY_LEAD})
GO, NO_GO = 0, 1  # the go/no-go decision's options
SERIES_FACTS = 48  # points of each breached series copied into the decision's facts
TOKEN_PREFIX = "dtm"  # noqa: S105 - a public marker, not a secret


def _move(phase: Phase, to: str) -> None:
    if to not in ALLOWED[phase.status]:
        raise RuleViolation(f"{phase} is {phase.status}; it cannot become {to}")
    phase.status = to


def _locked(phase: Phase | int) -> Phase:
    pk = phase if isinstance(phase, int) else phase.pk
    found = Phase.objects.select_for_update().select_related("initiative").filter(pk=pk).first()
    if found is None:
        raise NotFound(f"phase {pk} does not exist")
    return found


def side_of(person: Person, initiative: Initiative) -> str | None:
    if person.pk == initiative.cio_sponsor_id:
        return Side.CIO
    if person.pk == initiative.ciso_sponsor_id:
        return Side.CISO
    return None


def _sponsor(actor: Person, initiative: Initiative, what: str) -> str:
    side = side_of(actor, initiative)
    if side is None:
        raise PermissionDenied(f"only the initiative's two sponsors {what}")
    return side


def _leaders(initiative: Initiative) -> list[Person]:
    """Both sponsors and the CIO and CISO themselves."""
    people = [initiative.cio_sponsor, initiative.ciso_sponsor]
    people += list(Person.objects.holding(Role.CIO, Role.CISO).filter(active=True))
    return people


def _transition(
    phase: Phase,
    *,
    to: str,
    actor: Person | None,
    reason: str = "",
    decision: DecisionRecord | None = None,
    facts: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> PhaseTransition:
    before = phase.status
    _move(phase, to)
    now = at or clock.now()
    if to == P.RUNNING:
        phase.started_at = now
    if to in ENDED:
        phase.ended_at = now
    phase.save()
    row = PhaseTransition.objects.create(
        phase=phase, from_status=before, to_status=to, actor=actor, reason=reason,
        decision=decision, facts=facts or {}, at=now,
    )  # fmt: skip
    audit_record(
        actor=actor, verb=f"initiative.phase_{to}", subject_type="phase", subject_id=phase.pk,
        before={"status": before},
        after={"status": to, "reason": reason, "decision": decision.pk if decision else None},
        actor_label=None if actor else "guardrail evaluation",
    )  # fmt: skip
    return row


# ------------------------------------------------------------------------------ create


def initiative_create(*, actor: Person, spec: InitiativeSpec, source: str = "") -> Initiative:
    """Create an initiative and its planned phases from a checked file."""
    if actor.has_role(Role.AUDITOR):
        raise PermissionDenied("auditors read; they do not start initiatives")
    sponsors = {}
    for name, email, roles in (
        ("cio_side", spec.cio_sponsor, CIO_SIDE_ROLES),
        ("ciso_side", spec.ciso_sponsor, CISO_SIDE_ROLES),
    ):
        person = Person.objects.filter(email=email, active=True).first()
        if person is None:
            raise InputError(f"no active person with e-mail {email!r}", file=source or None,
                             record="sponsors", field=name)  # fmt: skip
        if not person.has_any_role(roles):
            allowed = ", ".join(sorted(str(r.label) for r in roles))
            raise InputError(f"{person} cannot sponsor the {name.replace('_', ' ')} ({allowed})",
                             file=source or None, record="sponsors", field=name)  # fmt: skip
        sponsors[name] = person
    if sponsors["cio_side"].pk == sponsors["ciso_side"].pk:  # one person holding both sides' roles
        raise InputError(
            f"separation of duties: the two sponsors are two people, not {spec.cio_sponsor} twice",
            file=source or None, record="sponsors", field="ciso_side",
        )  # fmt: skip
    services = []
    for index, slug in enumerate(spec.services):
        try:
            services.append(service_by_slug(slug))
        except NotFound as exc:
            raise InputError(str(exc), file=source or None, record=f"services[{index}]") from None
    now = clock.now()
    with transaction.atomic():
        initiative = Initiative.objects.create(
            title=spec.title, description=spec.description, cio_sponsor=sponsors["cio_side"],
            ciso_sponsor=sponsors["ciso_side"], risk_measure=spec.risk.reduces.strip(),
            risk_baseline=spec.risk.baseline, risk_expected=spec.risk.expected,
            risk_links={"findings": spec.risk.findings, "threats": spec.risk.threats,
                        "incident_types": spec.risk.incident_types},
            source=source, created_by=actor, created_at=now,
        )  # fmt: skip
        initiative.services.set(services)
        for number, item in enumerate(spec.phases, start=1):
            phase = Phase.objects.create(
                initiative=initiative, number=number, name=item.name, cohorts=item.cohorts,
                share=item.share, planned_start=item.start, planned_end=item.end,
                entry_criteria=item.entry_criteria, comms=item.comms,
            )  # fmt: skip
            Guardrail.objects.bulk_create(
                Guardrail(
                    phase=phase,
                    metric=g.metric,
                    label=g.label,
                    unit=g.unit,
                    direction=g.direction,
                    baseline=g.baseline,
                    threshold=g.threshold,
                    window_minutes=g.window_minutes,
                    min_points=g.min_points,
                    action=g.action,
                    promql=g.promql,
                )
                for g in item.guardrails
            )
        audit_record(
            actor=actor, verb="initiative.created", subject_type="initiative",
            subject_id=initiative.pk,
            after={"title": initiative.title, "phases": len(spec.phases), "source": source,
                   "cio_sponsor": sponsors["cio_side"].pk,
                   "ciso_sponsor": sponsors["ciso_side"].pk},
        )  # fmt: skip
        return initiative


# ------------------------------------------------------------------------------ guardrails


def guardrail_snapshot(phase: Phase) -> list[dict[str, Any]]:
    return [
        {"metric": g.metric, "unit": g.unit, "direction": g.direction, "baseline": g.baseline,
         "threshold": g.threshold, "window_minutes": g.window_minutes, "action": g.action}
        for g in Guardrail.objects.filter(phase=phase).order_by("id")
    ]  # fmt: skip


def guardrails_sign(*, actor: Person, phase: Phase | int) -> GuardrailSignature:
    """A sponsor agrees to a planned phase's guardrails (each side signs once, for itself)."""
    with transaction.atomic():
        locked = _locked(phase)
        side = _sponsor(actor, locked.initiative, "sign its guardrails")
        if locked.status != P.PLANNED:
            raise RuleViolation(
                f"{locked} is {locked.status}; guardrails are signed before it starts"
            )
        if GuardrailSignature.objects.filter(phase=locked, side=side).exists():
            raise RuleViolation(f"the {Side(side).label} has already signed {locked}")
        signature = GuardrailSignature.objects.create(
            phase=locked, side=side, person=actor, guardrails=guardrail_snapshot(locked),
            signed_at=clock.now(),
        )  # fmt: skip
        audit_record(
            actor=actor, verb="initiative.guardrails_signed", subject_type="phase",
            subject_id=locked.pk, after={"side": side, "guardrails": signature.guardrails},
        )  # fmt: skip
        return signature


def guardrail_change_threshold(
    *,
    actor: Person,
    guardrail: Guardrail | int,
    threshold: str | float,
    decision: DecisionRecord | None = None,
) -> GuardrailChange:
    """Change a threshold. Once a sponsor has signed the phase, only through a decided
    customer-change decision record."""
    pk = guardrail if isinstance(guardrail, int) else guardrail.pk
    with transaction.atomic():
        found = Guardrail.objects.filter(pk=pk).first()
        if found is None:
            raise NotFound(f"guardrail {pk} does not exist")
        phase = _locked(found.phase_id)
        _sponsor(actor, phase.initiative, "change a guardrail")
        locked = Guardrail.objects.select_for_update().get(pk=pk)
        value = quantity(threshold, unit=locked.unit, record=f"guardrail {pk}", field="threshold")
        if phase.status in ENDED:
            raise RuleViolation(f"{phase} is {phase.status}; its guardrails are history")
        signed = GuardrailSignature.objects.filter(phase=phase).exists()
        if signed:
            if decision is None:
                raise RuleViolation(
                    "the sponsors signed these guardrails; a threshold changes only through a "
                    "decision record (--decision)"
                )
            if decision.status != DecisionStatus.DECIDED:
                raise RuleViolation(f"DR-{decision.pk} is not decided yet")
            if decision.pressure_point != PressurePoint.CUSTOMER_CHANGE:
                raise RuleViolation(f"DR-{decision.pk} is not about a customer-facing change")
        if (locked.direction == "below" and value > locked.baseline) or (
            locked.direction == "above" and value < locked.baseline
        ):
            raise InputError(
                f"the baseline {locked.baseline:g} {locked.unit} would breach {value:g}",
                record=f"guardrail {pk}", field="threshold",
            )  # fmt: skip
        change = GuardrailChange.objects.create(
            guardrail=locked, old_threshold=locked.threshold, new_threshold=value,
            decision=decision, actor=actor, changed_at=clock.now(),
        )  # fmt: skip
        audit_record(
            actor=actor, verb="initiative.threshold_changed", subject_type="guardrail",
            subject_id=locked.pk, before={"threshold": locked.threshold},
            after={"threshold": value, "decision": decision.pk if decision else None,
                   "signed": signed},
        )  # fmt: skip
        locked.threshold = value
        locked.save(update_fields=["threshold"])
        return change


# ------------------------------------------------------------------------------ comms, acceptance


def comms_complete(*, actor: Person, phase: Phase | int, item: int) -> Phase:
    """Tick item ``item`` (1-based) of a phase's communications checklist: its owner or a
    sponsor."""
    with transaction.atomic():
        locked = _locked(phase)
        if not 1 <= item <= len(locked.comms):
            raise InputError(f"{locked} has {len(locked.comms)} communication item(s)",
                             field="item")  # fmt: skip
        entry = dict(locked.comms[item - 1])
        if actor.email != entry["owner"] and side_of(actor, locked.initiative) is None:
            raise PermissionDenied("the item's owner or a sponsor ticks it")
        if entry.get("done_at"):
            raise RuleViolation(f"item {item} is already done")
        entry["done_by"] = actor.email
        entry["done_at"] = clock.now().isoformat()
        comms = list(locked.comms)
        comms[item - 1] = entry
        locked.comms = comms
        locked.save(update_fields=["comms"])
        audit_record(
            actor=actor, verb="initiative.comms_done", subject_type="phase", subject_id=locked.pk,
            after={"item": item, "audience": entry["audience"], "channel": entry["channel"]},
        )  # fmt: skip
        return locked


def phase_link_acceptance(
    *, actor: Person, phase: Phase | int, acceptance: RiskAcceptance
) -> Phase:
    """Cover the window of partial enforcement by a temporary risk acceptance that ends no later
    than the phase's planned end."""
    with transaction.atomic():
        locked = _locked(phase)
        _sponsor(actor, locked.initiative, "link a risk acceptance")
        if locked.status in ENDED:
            raise RuleViolation(f"{locked} is {locked.status}")
        if acceptance.status not in (AcceptanceStatus.REQUESTED, AcceptanceStatus.APPROVED):
            raise RuleViolation(f"RA-{acceptance.pk} is {acceptance.status}")
        if acceptance.requested_until > locked.planned_end:
            raise RuleViolation(
                f"RA-{acceptance.pk} runs until {acceptance.requested_until.isoformat()}; a "
                f"phase's acceptance ends with the phase ({locked.planned_end.isoformat()})"
            )
        locked.acceptance = acceptance
        locked.save(update_fields=["acceptance"])
        audit_record(
            actor=actor, verb="initiative.acceptance_linked", subject_type="phase",
            subject_id=locked.pk, after={"acceptance": acceptance.pk},
        )  # fmt: skip
        return locked


# ------------------------------------------------------------------------------ phase moves


def phase_start(*, actor: Person, phase: Phase | int) -> Phase:
    """Start a planned phase: both sponsors signed its guardrails, its communications are done,
    the phase before it is done."""
    with transaction.atomic():
        locked = _locked(phase)
        _sponsor(actor, locked.initiative, "start a phase")
        if P.RUNNING not in ALLOWED[locked.status]:
            raise RuleViolation(f"{locked} is {locked.status}; it cannot become running")
        sides = set(GuardrailSignature.objects.filter(phase=locked).values_list("side", flat=True))
        missing = [Side(s).label for s in (Side.CIO, Side.CISO) if s not in sides]
        if missing:
            raise RuleViolation(f"{locked}: guardrails not signed by the {' and '.join(missing)}")
        open_items = [
            f"{index}. {item['audience']} ({item['channel']})"
            for index, item in enumerate(locked.comms, start=1)
            if not item.get("done_at")
        ]
        if open_items:
            raise RuleViolation(f"{locked}: communications not done: {'; '.join(open_items)}")
        before = (
            Phase.objects.filter(initiative=locked.initiative, number__lt=locked.number)
            .exclude(status=P.DONE)
            .order_by("number")
            .first()
        )
        if before is not None:
            raise RuleViolation(f"{locked}: phase {before.number} is {before.status}, not done")
        _transition(locked, to=P.RUNNING, actor=actor, reason="started",
                    facts={"entry_criteria_confirmed": locked.entry_criteria})  # fmt: skip
        return locked


def _series(initiative: Initiative, metric: str, until: dt.datetime) -> list[list[Any]]:
    rows = (
        MetricPoint.objects.filter(initiative=initiative, metric=metric, at__lte=until)
        .order_by("-at")
        .values_list("at", "value")[:SERIES_FACTS]
    )
    return [[at.isoformat(), value] for at, value in reversed(list(rows))]


def _open_go_no_go(
    phase: Phase, *, reason: str, breached: Sequence[tuple[Guardrail, Verdict]]
) -> DecisionRecord:
    initiative = phase.initiative
    risk = (
        f"{initiative.risk_measure}: baseline {initiative.risk_baseline:g}, expected "
        f"{initiative.risk_expected:g}"
        + (f", observed {initiative.risk_observed:g}" if initiative.risk_observed is not None
           else ", not observed yet")
    )  # fmt: skip
    facts = [f"{g.label}: {v.detail}; baseline {g.baseline:g} {g.unit}" for g, v in breached]
    facts.append(f"Phase {phase.number} covers {phase.share:g} % of users")
    return decision_create(
        # The CISO sponsor owns the record the evaluation opens (a decision needs an author).
        actor=initiative.ciso_sponsor,
        title=f"Go/no-go: {initiative.title}, phase {phase.number} paused",
        pressure_point=PressurePoint.CUSTOMER_CHANGE,
        question=f"Phase {phase.number} ({phase.name}) paused: {reason}. Resume or roll back?",
        options=[
            {"title": f"Go: resume phase {phase.number}",
             "business_benefit": f"keeps reducing the risk ({risk})", "facts": facts},
            {"title": f"No-go: roll phase {phase.number} back",
             "business_benefit": "protects the customer experience the guardrails measure",
             "facts": facts},
        ],
        informed=[p.email for p in _leaders(initiative)],
        escalation_level="leaders",
    )  # fmt: skip


def _pause(
    phase: Phase,
    *,
    actor: Person | None,
    reason: str,
    breached: Sequence[tuple[Guardrail, Verdict]] = (),
    now: dt.datetime | None = None,
) -> Phase:
    now = now or clock.now()
    decision = _open_go_no_go(phase, reason=reason, breached=breached)
    facts = {
        "breached": [
            {"metric": g.metric, "threshold": g.threshold, "unit": g.unit, "detail": v.detail,
             "series": _series(phase.initiative, g.metric, now)}
            for g, v in breached
        ],
        "risk": {"measure": phase.initiative.risk_measure,
                 "baseline": phase.initiative.risk_baseline,
                 "expected": phase.initiative.risk_expected,
                 "observed": phase.initiative.risk_observed},
    }  # fmt: skip
    # The move is recorded when it happens (the clock); ``now`` is the evaluation's moment,
    # which cuts the series copied into the facts.
    _transition(phase, to=P.PAUSED, actor=actor, reason=reason, decision=decision, facts=facts)
    phase.go_no_go = decision
    phase.save(update_fields=["go_no_go"])
    notify(
        event="initiative.paused",
        title=f"{phase.initiative.title}: phase {phase.number} paused",
        text=f"{reason}. A go/no-go decision is open: DR-{decision.pk}.",
        people=_leaders(phase.initiative),
        facts={"initiative": phase.initiative_id, "phase": phase.number, "reason": reason,
               "decision": f"DR-{decision.pk}"},
    )  # fmt: skip
    return phase


def phase_pause(*, actor: Person, phase: Phase | int, reason: str) -> Phase:
    """A sponsor pauses a live phase by hand; like a breach, it opens a go/no-go decision."""
    if not reason.strip():
        raise InputError("a pause says why", field="reason")
    with transaction.atomic():
        locked = _locked(phase)
        _sponsor(actor, locked.initiative, "pause a phase")
        if P.PAUSED not in ALLOWED[locked.status]:
            raise RuleViolation(f"{locked} is {locked.status}; it cannot become paused")
        return _pause(locked, actor=actor, reason=reason.strip())


def phase_resume(*, actor: Person, phase: Phase | int) -> Phase:
    """Resume a paused phase: its go/no-go decision is decided for "go"."""
    with transaction.atomic():
        locked = _locked(phase)
        _sponsor(actor, locked.initiative, "resume a phase")
        if P.RESUMED not in ALLOWED[locked.status]:
            raise RuleViolation(f"{locked} is {locked.status}; it cannot become resumed")
        decision = locked.go_no_go
        if decision is None:  # pragma: no cover - every pause opens one
            raise RuleViolation(f"{locked} has no go/no-go decision")
        decision.refresh_from_db()
        if decision.status != DecisionStatus.DECIDED:
            raise RuleViolation(f"resuming needs the go/no-go decision DR-{decision.pk} decided")
        if decision.chosen_option != GO:
            raise RuleViolation(f"DR-{decision.pk} decided against going on; roll back instead")
        _transition(locked, to=P.RESUMED, actor=actor, reason=decision.decision,
                    decision=decision)  # fmt: skip
        locked.go_no_go = None
        locked.save(update_fields=["go_no_go"])
        Guardrail.objects.filter(phase=locked).update(
            state=GuardrailState.UNKNOWN, state_detail="resumed; not evaluated since"
        )
        return locked


def phase_rollback(*, actor: Person, phase: Phase | int, reason: str) -> Phase:
    """Roll a live or paused phase back (recorded with its reason and any open decision)."""
    if not reason.strip():
        raise InputError("a rollback says why", field="reason")
    with transaction.atomic():
        locked = _locked(phase)
        _sponsor(actor, locked.initiative, "roll a phase back")
        _transition(locked, to=P.ROLLED_BACK, actor=actor, reason=reason.strip(),
                    decision=locked.go_no_go)  # fmt: skip
        _end_acceptance(locked, actor, "was rolled back")
        notify(
            event="initiative.rolled_back",
            title=f"{locked.initiative.title}: phase {locked.number} rolled back",
            text=reason.strip(), people=_leaders(locked.initiative),
            facts={"initiative": locked.initiative_id, "phase": locked.number,
                   "by": actor.email},
        )  # fmt: skip
        return locked


def _objecting_side(actor: Person, initiative: Initiative) -> str:
    """The side a leader objects for: a sponsor's own side, or the CIO's or the CISO's."""
    side = side_of(actor, initiative)
    if side is not None:
        return side
    if actor.has_role(Role.CIO):
        return Side.CIO
    if actor.has_role(Role.CISO):
        return Side.CISO
    raise PermissionDenied("only the initiative's sponsors, the CIO or the CISO cancel it")


def phase_cancel(*, actor: Person, phase: Phase | int, reason: str) -> Phase:
    """A leader objects and the rollout is cancelled: this phase (planned, live or paused) and
    every later phase not started become "cancelled after objection", each move recorded with the
    objecting side and the reason; the phase's temporary acceptance ends with it; both leaders are
    told. Unlike a rollback (the initiative may retry in a new phase), nothing of it goes on."""
    if not reason.strip():
        raise InputError("an objection says why", field="reason")
    with transaction.atomic():
        locked = _locked(phase)
        side = _objecting_side(actor, locked.initiative)
        if P.CANCELLED not in ALLOWED[locked.status]:
            raise RuleViolation(f"{locked} is {locked.status}; it cannot be cancelled")
        text = reason.strip()
        facts = {"objection": side}
        _transition(locked, to=P.CANCELLED, actor=actor, reason=text,
                    decision=locked.go_no_go, facts=facts)  # fmt: skip
        # An open go/no-go is moot: the move names it; the phase waits for nothing any more.
        locked.go_no_go = None
        locked.save(update_fields=["go_no_go"])
        _end_acceptance(locked, actor, "was cancelled after an objection")
        later = (
            Phase.objects.select_for_update()
            .select_related("initiative")
            .filter(initiative_id=locked.initiative_id, number__gt=locked.number)
            .exclude(status__in=ENDED)
            .order_by("number")
        )
        for other in later:
            _transition(other, to=P.CANCELLED, actor=actor,
                        reason=f"cancelled with phase {locked.number}: {text}",
                        facts={**facts, "with_phase": locked.number})  # fmt: skip
            _end_acceptance(other, actor, "was cancelled after an objection")
        notify(
            event="initiative.cancelled",
            title=f"{locked.initiative.title}: cancelled after an objection",
            text=f"The {Side(side).label} objected: {text}",
            people=_leaders(locked.initiative),
            facts={"initiative": locked.initiative_id, "phase": locked.number,
                   "by": actor.email, "side": side},
        )  # fmt: skip
        return locked


def _end_acceptance(phase: Phase, actor: Person, how: str) -> None:
    """The phase's temporary acceptance ends with it: revoked by the sponsor ending the phase when
    their role may revoke it; otherwise it expires on its own date (never after the phase's
    planned end, checked when it was linked)."""
    acceptance = phase.acceptance
    if acceptance is None or acceptance.status not in (
        AcceptanceStatus.DRAFT, AcceptanceStatus.REQUESTED, AcceptanceStatus.APPROVED
    ):  # fmt: skip
        return
    try:
        with transaction.atomic():
            acceptance_revoke(
                actor=actor, acceptance=acceptance,
                reason=f"phase {phase.number} of IN-{phase.initiative_id} {how}",
            )  # fmt: skip
    except PermissionDenied:
        return


def phase_complete(*, actor: Person, phase: Phase | int) -> Phase:
    with transaction.atomic():
        locked = _locked(phase)
        _sponsor(actor, locked.initiative, "complete a phase")
        _transition(locked, to=P.DONE, actor=actor, reason="completed")
        _end_acceptance(locked, actor, "is done")
        return locked


# ------------------------------------------------------------------------------ metrics


def guarded_metrics(initiative: Initiative) -> set[str]:
    return set(
        Guardrail.objects.filter(phase__initiative=initiative).values_list("metric", flat=True)
    )


def metrics_record(
    *, actor: Person | None, initiative: Initiative, points: Sequence[Point], source: str
) -> int:
    """Store points (a point already stored for the same metric and time is replaced: uploads
    and pulls are idempotent). Returns how many were written."""
    if actor is not None and actor.has_role(Role.AUDITOR):
        raise PermissionDenied("auditors read; they do not record metrics")
    known = guarded_metrics(initiative)
    seen: set[tuple[str, dt.datetime]] = set()
    for index, point in enumerate(points):
        if point.metric not in known:
            raise InputError(f"IN-{initiative.pk} guards no metric {point.metric!r}",
                             file=source, record=f"points[{index}]", field="metric")  # fmt: skip
        key = (point.metric, point.at)
        if key in seen:
            raise InputError(f"{point.metric} at {point.at.isoformat()} appears twice",
                             file=source, record=f"points[{index}]", field="at")  # fmt: skip
        seen.add(key)
    with transaction.atomic():
        MetricPoint.objects.bulk_create(
            [MetricPoint(initiative=initiative, metric=p.metric, at=p.at, value=p.value)
             for p in points],
            update_conflicts=True, unique_fields=["initiative", "metric", "at"],
            update_fields=["value"], batch_size=2000,
        )  # fmt: skip
        audit_record(
            actor=actor, verb="initiative.metrics_recorded", subject_type="initiative",
            subject_id=initiative.pk,
            after={"points": len(points), "source": source,
                   "metrics": sorted({p.metric for p in points})},
        )  # fmt: skip
    return len(points)


def guardrail_mark_unavailable(*, guardrail: Guardrail, detail: str) -> None:
    """A source failed (a Prometheus down or answering an error): recorded, never healthy."""
    with transaction.atomic():
        Guardrail.objects.filter(pk=guardrail.pk).update(
            state=GuardrailState.UNAVAILABLE,
            state_detail=f"source: {detail}"[:500],
            evaluated_at=clock.now(),
        )
        audit_record(
            actor=None, verb="initiative.metric_unavailable", subject_type="guardrail",
            subject_id=guardrail.pk, after={"detail": detail[:500]},
            actor_label="metrics pull",
        )  # fmt: skip


def metric_token_issue(*, actor: Person, initiative: Initiative) -> tuple[MetricToken, str]:
    """A token that can only push metrics into this initiative; its plaintext is shown once."""
    _sponsor(actor, initiative, "issue a metrics token")
    raw = f"{TOKEN_PREFIX}_{initiative.pk}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = MetricToken.objects.create(
            initiative=initiative, digest=hashlib.sha256(raw.encode()).hexdigest(),
            created_by=actor, created_at=clock.now(),
        )  # fmt: skip
        audit_record(
            actor=actor, verb="initiative.metric_token_issued", subject_type="initiative",
            subject_id=initiative.pk, after={"token": token.pk},
        )  # fmt: skip
    return token, raw


def metric_token_check(raw: str, initiative_id: int) -> bool:
    """True when ``raw`` is a live metrics token of exactly this initiative."""
    digest = hashlib.sha256(raw.strip().encode()).hexdigest()
    token = MetricToken.objects.filter(digest=digest, revoked_at__isnull=True).first()
    return token is not None and hmac.compare_digest(str(token.initiative_id), str(initiative_id))


# ------------------------------------------------------------------------------ evaluation


@dataclass
class EvaluationReport:
    guardrails: int = 0
    healthy: int = 0
    breached: int = 0
    unavailable: int = 0
    paused: list[int] = field(default_factory=list)  # phase ids


# The evaluation's reads and writes bypass the ORM: compiling a filtered queryset cost ~4 ms a
# guardrail on this project's shared machine (600 guardrails: 2.4 s, over the 2 s budget); the
# same SQL through the cursor is a tenth of a millisecond (docs/initiatives.md, "Measured").
_WINDOW_SQL = (
    "SELECT value FROM initiatives_metricpoint WHERE initiative_id = %s AND metric = %s "
    "AND at > %s AND at <= %s ORDER BY at"
)
_STATE_SQL = (
    "UPDATE initiatives_guardrail SET state = %s, state_detail = %s, evaluated_at = %s "
    "WHERE id = %s"
)


def _window_values(
    cursor: Any, initiative_id: int, metric: str, now: dt.datetime, window: dt.timedelta
) -> list[float]:
    adapt = connection.ops.adapt_datetimefield_value
    cursor.execute(_WINDOW_SQL, [initiative_id, metric, adapt(now - window), adapt(now)])
    return [float(row[0]) for row in cursor.fetchall()]


def guardrails_evaluate(
    *, now: dt.datetime | None = None, initiatives: Iterable[int] | None = None
) -> EvaluationReport:
    """Judge every guardrail of every live phase; a breached "pause" guardrail pauses its phase,
    opens the go/no-go decision and tells both leaders; a newly breached "notify" guardrail tells
    them. The states are written in one transaction (a commit per phase cost 10 ms each on SQLite:
    see docs/initiatives.md); each pause in its own, on the locked phase."""
    moment = now or clock.now()
    report = EvaluationReport()
    query = Guardrail.objects.filter(phase__status__in=LIVE).order_by("phase_id", "id")
    if initiatives is not None:
        query = query.filter(phase__initiative_id__in=list(initiatives))
    breached: dict[int, list[tuple[Guardrail, Verdict, bool]]] = {}
    written: list[tuple[str, str, Any, int]] = []
    cursor = connection.cursor()
    for guardrail in query.select_related("phase"):
        report.guardrails += 1
        window = dt.timedelta(minutes=guardrail.window_minutes)
        if (
            guardrail.state == GuardrailState.UNAVAILABLE
            and guardrail.evaluated_at is not None
            and guardrail.evaluated_at >= moment - window
            and guardrail.state_detail.startswith("source:")
        ):
            # A failed pull in this window stays on record until a pull succeeds.
            report.unavailable += 1
            continue
        verdict = judge(
            _window_values(cursor, guardrail.phase.initiative_id, guardrail.metric, moment, window),
            direction=guardrail.direction, threshold=guardrail.threshold,
            min_points=guardrail.min_points, window=window, unit=guardrail.unit,
        )  # fmt: skip
        setattr(report, verdict.state, getattr(report, verdict.state) + 1)
        newly = guardrail.state != GuardrailState.BREACHED
        written.append(
            (verdict.state, verdict.detail[:500],
             connection.ops.adapt_datetimefield_value(moment), guardrail.pk)
        )  # fmt: skip
        if verdict.state == GuardrailState.BREACHED:
            breached.setdefault(guardrail.phase_id, []).append((guardrail, verdict, newly))
    cursor.close()
    with transaction.atomic(), connection.cursor() as writer:
        writer.executemany(_STATE_SQL, written)
    for phase_id, items in breached.items():
        with transaction.atomic():
            phase = _locked(phase_id)
            if phase.status not in LIVE:
                continue
            found = [(g, v) for g, v, _ in items]
            pausing = [(g, v) for g, v in found if g.action == GuardrailAction.PAUSE]
            if pausing:
                reason = "guardrail breached: " + "; ".join(
                    f"{g.label} {v.detail}" for g, v in pausing
                )
                _pause(phase, actor=None, reason=reason, breached=found, now=moment)
                report.paused.append(phase.pk)
            elif any(newly for _, _, newly in items):
                notify(
                    event="initiative.guardrail_breached",
                    title=f"{phase.initiative.title}: phase {phase.number} guardrail breached",
                    text="; ".join(f"{g.label} {v.detail}" for g, v in found),
                    people=_leaders(phase.initiative),
                    facts={"initiative": phase.initiative_id, "phase": phase.number},
                )  # fmt: skip
    return report


def initiative_record_risk(*, actor: Person, initiative: Initiative, observed: float) -> None:
    """The risk figure observed so far (e.g. account takeovers this quarter)."""
    _sponsor(actor, initiative, "record the observed risk")
    with transaction.atomic():
        before = initiative.risk_observed
        Initiative.objects.filter(pk=initiative.pk).update(risk_observed=observed)
        initiative.risk_observed = observed
        audit_record(
            actor=actor, verb="initiative.risk_observed", subject_type="initiative",
            subject_id=initiative.pk, before={"observed": before}, after={"observed": observed},
        )  # fmt: skip


def phases_of(initiative: Initiative) -> list[Phase]:
    return list(Phase.objects.filter(initiative=initiative).order_by("number"))
