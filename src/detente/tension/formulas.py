"""The built-in formulas: each maps a period (``facts.PeriodContext``) to a value plus evidence.

Their names, tags, thresholds and evidence kinds are declared in ``registry.py``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import QuerySet

from detente.acceptances.models import RiskAcceptance
from detente.decisions.models import EscalationLevel
from detente.incidents.models import Incident
from detente.tension.facts import EVIDENCE_LIMIT, QUARTER, PeriodContext


@dataclass(frozen=True)
class SignalValue:
    value: float | None  # None: no input this period (left out, weights renormalised)
    evidence: dict[str, list[int]] = field(default_factory=dict)
    facts: dict[str, float] = field(default_factory=dict)  # counts behind the value


ESCALATED = (EscalationLevel.EXECUTIVE, EscalationLevel.FACILITATOR)


def escalations(ctx: PeriodContext) -> SignalValue:
    ids = [
        pk
        for pk, level, created, _, _ in ctx.decisions_quarter
        if level in ESCALATED and ctx.end - QUARTER <= created < ctx.end
    ]
    executive_now = [
        pk
        for pk, level, created, _, _ in ctx.decisions_quarter
        if level == EscalationLevel.EXECUTIVE and ctx.start <= created < ctx.end
    ]
    return SignalValue(
        value=float(len(ids)),
        evidence={"decisions": sorted(ids)[:EVIDENCE_LIMIT]},
        facts={
            "executive_this_period": len(executive_now),
            "this_period": sum(
                1
                for pk, level, created, _, _ in ctx.decisions_quarter
                if level in ESCALATED and ctx.start <= created < ctx.end
            ),
        },
    )


def override_rate(ctx: PeriodContext) -> SignalValue:
    decided = [
        (pk, followed)
        for pk, _, _, decided_at, followed in ctx.decisions_quarter
        if decided_at is not None
        and ctx.end - QUARTER <= decided_at < ctx.end
        and followed is not None
    ]
    against = [pk for pk, followed in decided if followed is False]
    this_period = [
        pk
        for pk, _, _, decided_at, followed in ctx.decisions_quarter
        if followed is False and decided_at is not None and ctx.start <= decided_at < ctx.end
    ]
    return SignalValue(
        value=len(against) / len(decided) if decided else 0.0,
        evidence={"decisions": sorted(against)[:EVIDENCE_LIMIT]},
        facts={
            "decided": len(decided),
            "against_ciso": len(against),
            "this_period": len(this_period),
        },
    )


def acceptance_requests(ctx: PeriodContext) -> SignalValue:
    ids = list(
        RiskAcceptance.objects.filter(
            requested_at__gte=ctx.start, requested_at__lt=ctx.end, renewal_of__isnull=True
        ).values_list("id", flat=True)
    )
    return SignalValue(
        float(len(ids)), {"acceptances": sorted(ids)[:EVIDENCE_LIMIT]}, {"count": len(ids)}
    )


def _in_force(ctx: PeriodContext) -> QuerySet[RiskAcceptance]:
    return RiskAcceptance.objects.filter(approved_at__lt=ctx.end, expires_at__gte=ctx.end).exclude(
        closed_at__lt=ctx.end
    )


def acceptance_renewals(ctx: PeriodContext) -> SignalValue:
    rows = list(_in_force(ctx).values_list("id", "renewals"))
    renewals = dict(rows)
    chronic = sorted((pk for pk, n in rows if n >= 1), key=lambda pk: -renewals[pk])
    most = max((n for _, n in rows), default=0)
    return SignalValue(
        value=statistics.fmean(n for _, n in rows) if rows else 0.0,
        evidence={"acceptances": chronic[:EVIDENCE_LIMIT]},
        facts={"in_force": len(rows), "max_renewals": most},
    )


def expired_open(ctx: PeriodContext) -> SignalValue:
    """Expired acceptances, not renewed by the end of the period, whose findings are still open."""
    rows = ctx.shared.expired_open(ctx.end)
    limit = ctx.doc.tension.expired_open_days
    long_open = [
        pk
        for pk, closed in rows
        if closed is not None and closed < ctx.end - dt.timedelta(days=limit)
    ]
    return SignalValue(
        value=float(len(rows)),
        evidence={"acceptances": sorted(pk for pk, _ in rows)[:EVIDENCE_LIMIT]},
        facts={"count": len(rows), "undecided_past_limit": len(long_open)},
    )


def overdue_findings(ctx: PeriodContext) -> SignalValue:
    counts = ctx.findings
    present = counts["present"]
    return SignalValue(
        value=counts["overdue"] / present if present else 0.0,
        evidence={"findings": ctx.overdue_ids(kev=False)} if counts["overdue"] else {},
        facts={"present": present, "overdue": counts["overdue"]},
    )


def overdue_kev(ctx: PeriodContext) -> SignalValue:
    count = ctx.findings["kev_overdue"]
    return SignalValue(
        value=float(count),
        evidence={"findings": ctx.overdue_ids(kev=True)} if count else {},
        facts={"count": count},
    )


def briefing_latency(ctx: PeriodContext) -> SignalValue:
    """Declaration to the CIO's first acknowledgement, in multiples of the policy's first-brief
    time."""
    cadence = {str(k): v for k, v in ctx.doc.incidents.cadence.items()}
    ratios: list[float] = []
    late: list[int] = []
    missed_sev1: list[int] = []
    rows = Incident.objects.filter(
        declared_at__gte=ctx.end - QUARTER, declared_at__lt=ctx.end, severity__in=("sev1", "sev2")
    ).values_list("id", "severity", "declared_at", "cio_informed_at")
    for pk, severity, declared, informed in rows:
        hours = cadence[severity].first_within_hours
        if not hours:
            continue
        reached = informed if informed is not None and informed < ctx.end else ctx.end
        ratio = (reached - declared) / dt.timedelta(hours=hours)
        ratios.append(ratio)
        if ratio > 1:
            late.append(pk)
            if severity == "sev1" and declared >= ctx.start:
                missed_sev1.append(pk)
    return SignalValue(
        value=statistics.median(ratios) if ratios else None,
        evidence={"incidents": sorted(late)[:EVIDENCE_LIMIT]},
        facts={
            "incidents": len(ratios),
            "late": len(late),
            "sev1_missed_this_period": len(missed_sev1),
        },
    )


def coordination(ctx: PeriodContext) -> SignalValue:
    values = [v for item in ("P1", "P2", "P3", "P4", "P5", "P6") for v in ctx.pulse_values(item)]
    return SignalValue(
        statistics.fmean(values) if values else None, ctx.pulse_evidence(), {"answers": len(values)}
    )


def pulse_max(item: str) -> Callable[[PeriodContext], SignalValue]:
    def compute(ctx: PeriodContext) -> SignalValue:
        values = ctx.pulse_values(item)
        return SignalValue(float(max(values)) if values else None, ctx.pulse_evidence())

    compute.__name__ = f"pulse_max_{item}"
    return compute


def perception_gap(ctx: PeriodContext) -> SignalValue:
    """Mean |CIO - CISO| over P1-P9, together with each side's guess of the other on meta items."""
    cio, ciso = ctx.pulses.get("cio"), ctx.pulses.get("ciso")
    if cio is None or ciso is None:
        return SignalValue(None, ctx.pulse_evidence())
    diffs = [abs(int(cio.answers[f"P{n}"]) - int(ciso.answers[f"P{n}"])) for n in range(1, 10)]
    meta: list[int] = []
    for me, other in ((cio, ciso), (ciso, cio)):
        meta.extend(abs(int(guess) - int(other.answers[item])) for item, guess in me.meta.items())
    between = statistics.fmean(diffs)
    return SignalValue(
        statistics.fmean(diffs + meta),
        ctx.pulse_evidence(),
        {"between": round(between, 3), "meta": round(statistics.fmean(meta), 3) if meta else 0.0},
    )


def voice(ctx: PeriodContext) -> SignalValue:
    values = ctx.pulse_values("P9")
    return SignalValue(float(min(values)) if values else None, ctx.pulse_evidence())
