"""Writes: take a profile, answer the pulse, compute the radar for a period (or a range).

Keyword-only, typed, atomic and audited like every service. The radar computation is a write (it
stores a ``TensionSnapshot``); both leaders read the same snapshot.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from detente.audit.services import audit_record
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.decisions.models import DecisionRecord, DecisionStatus
from detente.people.models import Person, Role
from detente.policy.document import PolicyDocument
from detente.policy.models import PolicyVersion
from detente.policy.services import active_policy
from detente.tension import index as dti
from detente.tension import profiles
from detente.tension.models import LeaderProfile, PulseResponse, TensionSnapshot
from detente.tension.signals import (
    SUB_INDICES,
    Period,
    PeriodContext,
    RangeFacts,
    SignalValue,
    compute_all,
    registered,
    tuned,
)

LEADER_ROLES = (Role.CIO, Role.CISO)


# ----------------------------------------------------------------------------- profiles


def profile_take(
    *,
    actor: Person,
    answers: dict[str, int],
    conflict_answers: dict[str, int] | None = None,
) -> LeaderProfile:
    """Score the actor's questionnaire (their role's set) and store it as their current profile."""
    if not actor.has_any_role(LEADER_ROLES):
        raise PermissionDenied("the questionnaire is for the CIO and the CISO")
    score = profiles.score_profile(actor.leader_role, answers, conflict_answers)
    with transaction.atomic():
        profile = LeaderProfile.objects.create(
            person=actor,
            role=actor.leader_role,
            answers=dict(answers),
            conflict_answers=dict(conflict_answers) if conflict_answers else None,
            dimensions=score.dimensions,
            primary=score.primary,
            secondary=score.secondary,
            weights=score.weights,
            kind=score.kind,
            conflict=score.conflict.as_dict() if score.conflict else None,
            taken_at=clock.now(),
        )
        audit_record(
            actor=actor, verb="tension.profile_taken", subject_type="leader_profile",
            subject_id=profile.pk,
            after={"role": actor.leader_role, "primary": score.primary,
                   "secondary": score.secondary, "kind": score.kind},
        )  # fmt: skip
        return profile


# ----------------------------------------------------------------------------- pulse


def pulse_answer(
    *,
    actor: Person,
    answers: dict[str, int],
    meta: dict[str, int],
    period: Period | None = None,
) -> PulseResponse:
    """The actor's pulse for a month (default: this month): P1-P10 and the meta guesses."""
    if not actor.has_any_role(LEADER_ROLES):
        raise PermissionDenied("the pulse is answered by the CIO and the CISO")
    model = profiles.pulse_model()
    ids = [i.id for i in model.items]
    for key, values, wanted in (("answers", answers, ids), ("meta", meta, model.meta)):
        if set(values) != set(wanted):
            raise InputError(f"answer exactly {', '.join(wanted)}", field=key)
        for item, value in values.items():
            if not isinstance(value, int) or not 1 <= value <= 5:
                raise InputError("answers are whole numbers 1-5", field=f"{key}.{item}")
    current = Period.of(clock.now())
    period = period or current
    if period > current:
        raise RuleViolation(f"the pulse for {period.label} opens in that month")
    with transaction.atomic():
        if PulseResponse.objects.filter(period=period.label, role=actor.leader_role).exists():
            raise RuleViolation(
                f"the {actor.leader_role} pulse for {period.label} is already answered"
            )
        response = PulseResponse.objects.create(
            person=actor, role=actor.leader_role, period=period.label, answers=dict(answers),
            meta=dict(meta), submitted_at=clock.now(),
        )  # fmt: skip
        # Content stays between the two leaders: the audit records that, not what, was answered.
        audit_record(
            actor=actor, verb="tension.pulse_answered", subject_type="pulse",
            subject_id=response.pk, after={"period": period.label, "role": actor.leader_role},
        )  # fmt: skip
        return response


# ----------------------------------------------------------------------------- the radar


def _readings(ctx: PeriodContext, doc: PolicyDocument) -> list[dti.Reading]:
    signals = registered()
    values = compute_all(ctx, signals)
    readings = []
    for s in signals:
        weight, healthy, red_line = tuned(s, doc)
        got: SignalValue = values[s.key]
        readings.append(
            dti.Reading(
                key=s.key, name=s.name, tag=s.tag, sub_index=s.sub_index, formula=s.formula,
                value=got.value,
                normalised=(
                    None if got.value is None else dti.normalise(got.value, healthy, red_line)
                ),
                weight=weight, evidence=got.evidence, facts=got.facts,
            )
        )  # fmt: skip
    return readings


def _pulse_alarm(period: Period, doc: PolicyDocument) -> bool:
    """Red line 6 for one month: P8 ≥ limit or P9 ≤ limit from either leader."""
    t = doc.tension
    for p in PulseResponse.objects.filter(period=period.label):
        if (
            int(p.answers["P8"]) >= t.pulse_conflict_red
            or int(p.answers["P9"]) <= t.pulse_voice_red
        ):
            return True
    return False


def _quiet(ctx: PeriodContext) -> bool:
    """No escalation, no override and (if asked) no open disagreement in the period."""
    from detente.tension.signals import escalations, override_rate

    if escalations(ctx).facts["this_period"] or override_rate(ctx).facts["this_period"]:
        return False
    p7 = ctx.pulse_values("P7")
    return not p7 or max(p7) <= 1


def _triggers(
    ctx: PeriodContext,
    doc: PolicyDocument,
    by_key: dict[str, dti.Reading],
    subs: dict[str, float | None],
) -> list[dti.Trigger]:
    t = doc.tension
    out: list[dti.Trigger] = []
    kev = by_key["overdue_kev"]
    if kev.value:
        out.append(dti.Trigger("red_line_1", "Known-exploited flaw on an exposed asset open past "
                               "its deadline", "amber", kev.evidence))  # fmt: skip
    ren, exp = by_key["acceptance_renewals"], by_key["expired_open"]
    if ren.facts.get("max_renewals", 0) >= t.renewals_red_line or exp.facts.get(
        "undecided_past_limit"
    ):
        out.append(dti.Trigger(
            "red_line_2", f"Acceptance renewed {t.renewals_red_line}× or more, or expired over "
            f"{t.expired_open_days} days with its risk undecided", "amber",
            {"acceptances": sorted({*ren.evidence.get("acceptances", []),
                                    *exp.evidence.get("acceptances", [])})[:20]},
        ))  # fmt: skip
    lat = by_key["briefing_latency"]
    if lat.facts.get("sev1_missed_this_period"):
        out.append(dti.Trigger("red_line_3", "SEV1: the CIO's first briefing missed the policy "
                               "time", "amber", lat.evidence))  # fmt: skip
    gate = by_key.get("gate_overrides_undecided")  # contributed by detente.gates.signals
    if gate is not None and gate.value:
        out.append(dti.Trigger("red_line_4", "Security gate overridden without a decision "
                               "(no second signature)", "amber", gate.evidence))  # fmt: skip
    esc = by_key["escalations"]
    if esc.facts.get("executive_this_period"):
        out.append(dti.Trigger("red_line_5", "Escalation to the executive level", "amber",
                               esc.evidence))  # fmt: skip
    if _pulse_alarm(ctx.period, doc) and _pulse_alarm(ctx.period.previous(), doc):
        out.append(dti.Trigger(
            "red_line_6", f"Relationship conflict ≥ {t.pulse_conflict_red} or voice ≤ "
            f"{t.pulse_voice_red} in two consecutive pulses", "red",
            {"pulses": list(PulseResponse.objects.filter(
                period__in=(ctx.period.label, ctx.period.previous().label)
            ).values_list("id", flat=True))},
        ))  # fmt: skip
    # The silence detector: quiet for N periods while risk debt grows = suppressed tension.
    risk = subs.get("risk_debt") or 0.0
    downplay = by_key["downplay"].value or 0.0
    if risk >= t.silence_risk_debt or downplay >= t.silence_downplay:
        quiet = _quiet(ctx)
        period = ctx.period
        for _ in range(t.silence_periods - 1):
            if not quiet:
                break
            period = period.previous()
            quiet = _quiet(PeriodContext(period, doc, ctx.shared))
        if quiet:
            out.append(dti.Trigger(
                "silence", "Suppressed tension: no open disagreement while risk debt grows",
                "amber", {k: v for r in (by_key["expired_open"], by_key["overdue_findings"])
                          for k, v in r.evidence.items()},
            ))  # fmt: skip
    return out


PRINCIPLES = (
    ("company_first", "Company first: say why the choice serves the company first."),
    ("facts", "Fact-driven: put the facts behind each option."),
    ("informed", "Transparent: record who is informed."),
    ("win_win", "Win-win: record the win-win option considered."),
)


def _open_decisions(end: dt.datetime) -> list[DecisionRecord]:
    return list(
        DecisionRecord.objects.filter(created_at__lt=end)
        .exclude(status=DecisionStatus.DECIDED, decided_at__lt=end)
        .order_by("created_at")[:10]
    )


def _prompts(record: DecisionRecord) -> list[str]:
    missing = []
    for key, prompt in PRINCIPLES:
        if key == "facts":
            if any(not o.get("facts") for o in record.options):
                missing.append(prompt)
        elif not getattr(record, key):
            missing.append(prompt)
    return missing or ["Business benefit: check each option still states it."]


def _actions(
    zone: str,
    readings: list[dti.Reading],
    triggers: list[dti.Trigger],
    end: dt.datetime,
    trend: list[float],
) -> dict[str, Any]:
    decisions = _open_decisions(end)
    open_rows = [{"id": d.pk, "title": d.title, "prompts": _prompts(d)} for d in decisions]
    top = sorted((r for r in readings if r.contribution > 0), key=lambda r: -r.contribution)[:3]
    top_rows = [{"key": r.key, "name": r.name, "contribution": round(r.contribution, 1),
                 "evidence": r.evidence} for r in top]  # fmt: skip
    if zone == "green":
        return {
            "zone": zone,
            "action": "Reinforce the five principles on the open decisions; "
            "quarterly joint review.",
            "prompts": open_rows,
        }
    if zone == "amber":
        agenda = [f"Hotspot: {r.name} ({r.contribution:.1f} points)" for r in top]
        agenda += [f"Decide DR-{d.pk}: {d.title}" for d in decisions]
        if any(t.key == "silence" for t in triggers):
            agenda.insert(0, "What are we not saying? (the silence detector fired)")
        return {
            "zone": zone,
            "action": "Structured decision meeting within 10 business days: facts, the benefit of "
            "each option, a win-win option, a decision record with owner, expiry and dissent; "
            "RACI; pulse fortnightly.",
            "agenda": agenda,
            "top_signals": top_rows,
            "open_decisions": open_rows,
        }
    return {
        "zone": zone,
        "action": "Reset facilitated by an independent third party, sponsored by the CEO or CRO: "
        "goals, decision rights, risk appetite, escalation and communication protocols; "
        "check-ins at 30, 60 and 90 days.",
        "briefing_pack": {
            "index_trend": trend[-6:],
            "red_lines": [t.as_dict() for t in triggers],
            "top_signals": top_rows,
            "open_decisions": open_rows,
        },
    }


def _may_compute(actor: Person | None, doc: PolicyDocument) -> None:
    """Who computes the radar is policy (``tension.radar_computers``); system work may."""
    if actor is None:
        return
    if actor.has_role(Role.AUDITOR):
        raise PermissionDenied("an auditor reads the radar; it does not compute it")
    if not actor.has_any_role(doc.tension.radar_computers):
        raise PermissionDenied(
            f"a {actor.get_role_display()} does not compute the radar (policy: "
            f"tension.radar_computers is {', '.join(doc.tension.radar_computers)})"
        )


def radar_compute(*, period: Period, actor: Person | None = None) -> TensionSnapshot:
    """Compute and store the radar for ``period`` (replacing an earlier computation of it)."""
    policy = active_policy()
    _may_compute(actor, policy[0])
    return _compute(period, actor, None, policy)


def _compute(
    period: Period,
    actor: Person | None,
    shared: RangeFacts | None,
    policy: tuple[PolicyDocument, PolicyVersion],
) -> TensionSnapshot:
    doc, version = policy
    t = doc.tension
    ctx = PeriodContext(period, doc, shared)
    readings = _readings(ctx, doc)
    subs = dti.sub_indices(readings, SUB_INDICES)
    weights: dict[str, float] = {str(k): v for k, v in t.weights.items()}
    value = dti.combine(subs, weights)
    readings = dti.contributions(readings, subs, weights)
    by_key = {r.key: r for r in readings}
    triggers = _triggers(ctx, doc, by_key, subs)
    raw = dti.raw_zone(value, triggers, amber_at=t.amber_at, red_at=t.red_at)
    earlier = list(
        TensionSnapshot.objects.filter(period__lt=period.label)
        .order_by("-period")
        .values("period", "zone", "raw_zone", "index", "signals", "triggers")[
            : max(t.periods_to_step_down, 6)
        ]
    )[::-1]
    # Hysteresis (and the zone change's explanation) only follow an unbroken run of months up to
    # this one.
    run: list[dict[str, Any]] = []
    expected = period.previous().label
    for row in reversed(earlier):
        if row["period"] != expected:
            break
        run.insert(0, dict(row))
        expected = Period.parse(row["period"]).previous().label
    history = [(row["zone"], row["raw_zone"]) for row in run]
    zone = dti.with_hysteresis(raw, history, periods=t.periods_to_step_down)
    signals = [r.as_dict() for r in readings]
    trigger_dicts = [tr.as_dict() for tr in triggers]
    change = dti.explain_change(
        run, period=period.label, index=value, zone=zone, raw=raw, signals=signals,
        triggers=trigger_dicts, periods_to_step_down=t.periods_to_step_down,
    )  # fmt: skip
    trend = [row["index"] for row in earlier] + [value]
    actions = _actions(zone, readings, triggers, ctx.end, trend)
    actions["slope"] = dti.slope(trend)
    with transaction.atomic():
        snapshot, _ = TensionSnapshot.objects.update_or_create(
            period=period.label,
            defaults={
                "index": value, "zone": zone, "raw_zone": raw,
                "sub_indices": {k: None if v is None else round(v, 4) for k, v in subs.items()},
                "triggers": trigger_dicts, "actions": actions, "signals": signals,
                "policy_version": version.version, "change": change, "computed_at": clock.now(),
            },
        )  # fmt: skip
        audit_record(
            actor=actor, verb="tension.radar_computed", subject_type="tension_snapshot",
            subject_id=snapshot.pk,
            after={"period": period.label, "index": value, "zone": zone, "raw_zone": raw,
                   "triggers": [tr.key for tr in triggers],
                   "change": None if change is None else
                   {"from": change["from_zone"], "to": change["to_zone"],
                    "signals": [m["key"] for m in change["signals"][:5]]}},
        )  # fmt: skip
        return snapshot


def radar_compute_range(
    *, first: Period, last: Period, actor: Person | None = None
) -> list[TensionSnapshot]:
    """Every month from ``first`` to ``last`` in order (hysteresis needs the earlier months)."""
    if last < first:
        raise InputError("the range ends before it starts", field="to")
    policy = active_policy()
    _may_compute(actor, policy[0])
    periods = first.until(last)
    # The big tables are read once for every period end of the range, not once per month.
    shared = RangeFacts(periods)
    return [_compute(p, actor, shared, policy) for p in periods]


# How often the worker recomputes the running month (each computation is an audited write).
REFRESH_EVERY = dt.timedelta(hours=1)


def radar_refresh(*, actor: Person | None = None) -> list[TensionSnapshot]:
    """The worker's round: close last month if its snapshot was judged before the month ended
    (or never computed while there is a history), then recompute this month as of now when its
    snapshot is missing or older than ``REFRESH_EVERY``."""
    current = Period.of(clock.now())
    previous = current.previous()
    done = []
    last = TensionSnapshot.objects.filter(period=previous.label).first()
    if (last is not None and last.month_to_date) or (
        last is None and TensionSnapshot.objects.filter(period__lt=previous.label).exists()
    ):
        done.append(radar_compute(period=previous, actor=actor))
    mine = TensionSnapshot.objects.filter(period=current.label).first()
    if done or mine is None or mine.computed_at <= clock.now() - REFRESH_EVERY:
        done.append(radar_compute(period=current, actor=actor))
    return done
