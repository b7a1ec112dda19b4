"""The meeting's follow-through as a tension signal: agenda items not decided by their date.

This app sits above ``detente.tension``, so it registers its signal into the tension registry
(one ``register`` call, run when the app is ready) instead of being listed as a contributor.
"""

from __future__ import annotations

from detente.meetings.models import AgendaItem
from detente.tension.signals import QUARTER, PeriodContext, Signal, SignalValue, register

EVIDENCE_LIMIT = 20


def meeting_items_undecided(ctx: PeriodContext) -> SignalValue:
    """Agenda items due in the trailing 91 days that were not decided (or deferred) by their
    date; no value when no item was due (the signal then leaves the index)."""
    first = (ctx.end - QUARTER).date()
    last = ctx.end.date()
    rows = list(
        AgendaItem.objects.filter(decide_by__gte=first, decide_by__lt=last)
        .filter(meeting__proposed_at__lt=ctx.end)
        .values_list("id", "decide_by", "closed_at", "meeting_id")
    )
    if not rows:
        return SignalValue(None)
    late = [
        (pk, meeting)
        for pk, due, closed, meeting in rows
        if closed is None or closed >= ctx.end or closed.date() > due
    ]
    return SignalValue(
        value=float(len(late)),
        evidence={
            "agenda_items": sorted(pk for pk, _ in late)[:EVIDENCE_LIMIT],
            "meetings": sorted({m for _, m in late})[:EVIDENCE_LIMIT],
        },
        facts={"due": len(rows), "late": len(late)},
    )


SIGNAL = register(
    Signal(
        "meeting_items_undecided",
        "Meeting items not decided by their date",
        "covert",
        "decision_friction",
        "agenda items of decision meetings due in the trailing 91 days and neither decided nor "
        "deferred by their date (count); no value when none was due",
        0.0,
        3.0,
        0.3,
        meeting_items_undecided,
        ("agenda_items", "meetings"),
        source="detente.meetings",
    )
)
