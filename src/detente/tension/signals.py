"""The signals registry: each signal maps a period to a value plus the evidence behind it.

A signal has a key, a name, an overt/covert tag, the sub-index it feeds, a documented formula and
default thresholds (``healthy`` normalises to 0, ``red_line`` to 1; the policy's ``tension.signals``
overrides them). The built-in signals read acceptances, findings, decisions, incidents and the
pulse. Domains below this layer contribute their own through ``CONTRIBUTORS``: such a module
exposes ``SIGNALS``, functions ``(start, end) -> obj`` with ``obj.value`` and ``obj.evidence``
(a dict of id lists and counts). They cannot import this module (layers), so the contract is
duck-typed and their metadata lives in ``CONTRIBUTED_META``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import statistics
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from django.db import connection
from django.db.models import Count, Q, QuerySet, TextField
from django.db.models.functions import Cast, Substr

from detente.acceptances.models import AcceptanceFinding, AcceptanceStatus, RiskAcceptance
from detente.core import clock
from detente.core.errors import InputError
from detente.decisions.models import DecisionRecord, EscalationLevel
from detente.findings.models import Finding, Status
from detente.incidents.models import Incident
from detente.initiatives import signals as initiative_signals
from detente.policy.document import PolicyDocument
from detente.tension.models import PulseResponse

Tag = Literal["overt", "covert", "perception"]
SubIndex = Literal["decision_friction", "risk_debt", "communication", "relationship"]
SUB_INDICES: tuple[SubIndex, ...] = (
    "decision_friction",
    "risk_debt",
    "communication",
    "relationship",
)
EVIDENCE_LIMIT = 20  # ids kept per kind of evidence; the count is in the facts
QUARTER = dt.timedelta(days=91)
# From this many period ends on, the findings are read once and bucketed in Python rather than
# counted by one conditional aggregate per end (see RangeFacts.counts).
ONE_PASS_FROM = 3
# Modules of lower layers that may contribute signals (imported only if present).
CONTRIBUTORS: tuple[str, ...] = (
    "detente.planning.signals",
    "detente.gates.signals",
    "detente.api_register.signals",
)


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month (UTC): ``start`` inclusive, ``end`` exclusive."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        try:
            year, month = (int(part) for part in text.split("-"))
        except ValueError:
            raise InputError(f"a period is YYYY-MM, not {text!r}", field="period") from None
        if not 1 <= month <= 12 or not 1970 <= year <= 9999:
            raise InputError(f"a period is YYYY-MM, not {text!r}", field="period")
        return cls(year, month)

    @classmethod
    def of(cls, moment: dt.datetime) -> Period:
        return cls(moment.year, moment.month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return self.next().start

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def until(self, last: Period) -> list[Period]:
        out, current = [], self
        while current <= last:
            out.append(current)
            current = current.next()
        return out


@dataclass(frozen=True)
class SignalValue:
    value: float | None  # None: no input this period (left out, weights renormalised)
    evidence: dict[str, list[int]] = field(default_factory=dict)
    facts: dict[str, float] = field(default_factory=dict)  # counts behind the value


@dataclass(frozen=True)
class Signal:
    key: str
    name: str
    tag: Tag
    sub_index: SubIndex | None  # None: shown and used by triggers, not weighted
    formula: str
    healthy: float
    red_line: float
    weight: float
    compute: Callable[[PeriodContext], SignalValue]
    source: str = "detente.tension"


_REGISTRY: dict[str, Signal] = {}


def register(signal: Signal) -> Signal:
    if signal.key in _REGISTRY and _REGISTRY[signal.key] is not signal:
        raise ValueError(f"signal {signal.key!r} is registered twice")
    _REGISTRY[signal.key] = signal
    return signal


# What the radar knows about contributed signals (their modules only give name → value, evidence).
# Contributed signals enter the index with weight 0 until the policy gives them one
# (``tension.signals.<key>.weight``): they are shown with their evidence from day one, but they do
# not move a calibrated index by being added.
CONTRIBUTED_META: dict[str, tuple[str, Tag, SubIndex | None, str]] = {
    "deadlines_missed_for_capacity": (
        "Deadlines missed for capacity", "covert", "risk_debt",
        "work items of the current plan due in the period that no window can meet (count)",
    ),
    "emergency_changes_forced": (
        "Emergency changes forced", "overt", "risk_debt",
        "emergency changes scheduled in the period (count)",
    ),
    "deferrals_made_necessary": (
        "Deferrals made necessary by the plan", "covert", "risk_debt",
        "acceptance requests created in the period from plan misses (count)",
    ),
    "gate_override_rate": (
        "Release-gate override rate", "overt", "decision_friction",
        "gate overrides made in the period ÷ gate runs blocked in the period",
    ),
    "gate_overrides_undecided": (
        "Gate overrides without a decision", "covert", "decision_friction",
        "overrides in the period without a confirming second signature by its end (red line 4)",
    ),
}  # fmt: skip


def _split_evidence(raw: dict[str, Any]) -> tuple[dict[str, list[int]], dict[str, float]]:
    """Lists of ids (or of dicts with an ``id``) are evidence; plain numbers are facts."""
    evidence: dict[str, list[int]] = {}
    facts: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            facts[key] = float(value)
        elif isinstance(value, list | tuple):
            ids = [v.get("id") if isinstance(v, dict) else v for v in value]
            evidence[key] = [int(i) for i in ids if isinstance(i, int)][:EVIDENCE_LIMIT]
    return evidence, facts


def _adapt(function: Callable[[dt.datetime, dt.datetime], Any], source: str) -> Signal:
    key = function.__name__
    name, tag, sub_index, formula = CONTRIBUTED_META.get(
        key, (key.replace("_", " ").capitalize(), "covert", None, function.__doc__ or "")
    )

    def run(ctx: PeriodContext) -> SignalValue:
        got = function(ctx.start, ctx.end)
        value = getattr(got, "value", None)
        evidence, facts = _split_evidence(dict(getattr(got, "evidence", {}) or {}))
        return SignalValue(None if value is None else float(value), evidence, facts)

    return Signal(key, name, tag, sub_index, formula, 0.0, 3.0, 0.0, run, source)


_contributed = False


def _load_contributors() -> None:
    global _contributed  # noqa: PLW0603 - the registry is a process-wide table, filled once
    if _contributed:
        return
    _contributed = True
    for name in CONTRIBUTORS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that domain contributes nothing (yet)
            raise
        for function in getattr(module, "SIGNALS", ()):
            register(_adapt(function, name))


def registered() -> list[Signal]:
    _load_contributors()
    return list(_REGISTRY.values())


# ----------------------------------------------------------------------------- the period context


Row = tuple[int, dt.datetime, dt.datetime | None, str, dt.datetime | None, bool, bool]


def _present_at(row: Row, end: dt.datetime) -> bool:
    """The row (id, first_seen, closed_at, status, deadline, kev, exposed) is present at ``end``."""
    _, first_seen, closed_at, status, _, _, _ = row
    return (
        first_seen < end
        and (closed_at is None or closed_at >= end)
        and status != Status.FALSE_POSITIVE
    )


def _present(end: dt.datetime) -> QuerySet[Finding]:
    """Findings present at ``end`` (first seen before it, not closed by it, not false positive)."""
    return (
        Finding.objects.filter(first_seen__lt=end)
        .exclude(closed_at__lt=end)
        .exclude(status=Status.FALSE_POSITIVE)
    )


ROW_COLUMNS = ("id", "first_seen", "closed_at", "status", "deadline", "kev", "exposed")


class RangeFacts:
    """The big tables read once for the ends of a run of periods.

    Computing the radar month by month used to scan the findings table several times per month.
    Here one pass over the findings (five narrow columns, rows bucketed in Python by the period
    end each date falls before) counts present / overdue / overdue-KEV findings at every end, and
    the small sets (acceptance items with their findings, expired acceptances and their renewals,
    the KEV-on-exposed findings) are fetched once and bucketed in Python. The values are those of
    the per-period queries, period by period.
    """

    def __init__(self, periods: Iterable[Period], *, now: dt.datetime | None = None) -> None:
        # A period that has not ended is judged as of now ("month to date"), never as of its end:
        # a deadline later this month is not missed yet.
        self.now = now if now is not None else clock.now()
        self.ends = sorted({self.end_of(p) for p in periods})

    def end_of(self, period: Period) -> dt.datetime:
        """The moment ``period`` is judged at: its end, or now while it runs."""
        return min(period.end, self.now)

    @cached_property
    def counts(self) -> dict[dt.datetime, tuple[int, int, int]]:
        """(present, overdue, overdue KEV on exposed) at each end, acceptances not considered."""
        months = [end for end in self.ends if end == Period.of(end).start]
        others = [end for end in self.ends if end not in months]
        if len(months) < ONE_PASS_FROM:
            return self._counts_by_aggregate(self.ends)
        out = self._counts_one_pass(months)
        if others:
            out.update(self._counts_by_aggregate(others))
        return out

    def _counts_one_pass(
        self, month_ends: list[dt.datetime]
    ) -> dict[dt.datetime, tuple[int, int, int]]:
        """The counts at month starts, from one read of the findings bucketed in Python."""
        n = len(month_ends)
        columns: tuple[str, ...] = ("first_seen", "closed_at", "deadline")
        query = Finding.objects.exclude(status=Status.FALSE_POSITIVE)
        raw: Counter[tuple[Any, ...]] = Counter()
        if connection.vendor == "sqlite":
            # SQLite stores datetimes as sortable UTC text and every end is the first instant of
            # a month, so "before the end" is "in an earlier month": read each date as its
            # 'YYYY-MM' (the cast drops the declared type, so no datetime parser runs) and count
            # the few distinct rows in C.
            ends: list[Any] = [f"{end.year:04d}-{end.month:02d}" for end in month_ends]
            query = query.annotate(
                **{f"{c}_month": Substr(Cast(c, TextField()), 1, 7) for c in columns}
            )
            columns = tuple(f"{c}_month" for c in columns)
        else:
            ends = list(month_ends)
        sql, params = query.values_list(*columns, "kev", "exposed").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(20_000):
                raw.update(rows)
        # first: from which end on the row is seen; closed / due: from which end on it counts as
        # closed / past its deadline (n: never).
        buckets: Counter[tuple[int, int, int, bool]] = Counter()
        for (first_seen, closed_at, deadline, kev, exposed), count in raw.items():
            key = (
                bisect_right(ends, first_seen),
                n if closed_at is None else bisect_right(ends, closed_at),
                n if deadline is None else bisect_right(ends, deadline),
                bool(kev and exposed),
            )
            buckets[key] += count
        out: dict[dt.datetime, tuple[int, int, int]] = {}
        for i, end in enumerate(month_ends):
            present = overdue = kev_overdue = 0
            for (first, closed, due, kev_exposed), count in buckets.items():
                if first <= i < closed:
                    present += count
                    if due <= i:
                        overdue += count
                        if kev_exposed:
                            kev_overdue += count
            out[end] = (present, overdue, kev_overdue)
        return out

    def _counts_by_aggregate(
        self, ends: list[dt.datetime]
    ) -> dict[dt.datetime, tuple[int, int, int]]:
        """The same counts as conditional aggregates computed by the database: cheaper than
        reading every row when there are only one or two ends (and right for any moment)."""
        aggregates: dict[str, Count] = {}
        for n, end in enumerate(ends):
            present = Q(first_seen__lt=end) & ~Q(closed_at__lt=end)
            overdue = present & Q(deadline__lt=end)
            aggregates[f"p{n}"] = Count("id", filter=present)
            aggregates[f"o{n}"] = Count("id", filter=overdue)
            aggregates[f"k{n}"] = Count("id", filter=overdue & Q(kev=True, exposed=True))
        got = Finding.objects.exclude(status=Status.FALSE_POSITIVE).aggregate(**aggregates)
        return {end: (got[f"p{n}"], got[f"o{n}"], got[f"k{n}"]) for n, end in enumerate(ends)}

    @cached_property
    def _item_rows(self) -> list[tuple[Any, ...]]:
        """Every acceptance item with its acceptance's and its finding's columns (one join)."""
        return list(
            AcceptanceFinding.objects.values_list(
                "acceptance_id",
                "finding_id",
                "acceptance__status",
                "acceptance__approved_at",
                "acceptance__expires_at",
                "acceptance__closed_at",
                *(f"finding__{c}" for c in ROW_COLUMNS[1:]),
            )
        )

    @cached_property
    def items(
        self,
    ) -> list[tuple[int, int, str, dt.datetime | None, dt.datetime, dt.datetime | None]]:
        """Every acceptance item: (acceptance, finding, and the acceptance's status, approved_at,
        expires_at, closed_at)."""
        return [row[:6] for row in self._item_rows]

    @cached_property
    def _covered_by_end(self) -> dict[dt.datetime, frozenset[int]]:
        out = {}
        for end in self.ends:
            out[end] = frozenset(
                finding
                for _, finding, _, approved, expires, closed in self.items
                if approved is not None
                and approved < end
                and expires >= end
                and (closed is None or closed >= end)
            )
        return out

    def covered(self, end: dt.datetime) -> frozenset[int]:
        """Findings under an acceptance approved and in force at ``end``."""
        return self._covered_by_end[end]

    @cached_property
    def covered_rows(self) -> list[Row]:
        """The findings any acceptance covers (a small set), with the columns the radar reads."""
        rows: dict[int, Row] = {}
        for row in self._item_rows:
            rows.setdefault(row[1], (row[1], *row[6:]))
        return list(rows.values())

    @cached_property
    def kev_rows(self) -> list[Row]:
        """KEV-listed findings on exposed assets (a small set), in id order."""
        return list(
            Finding.objects.filter(kev=True, exposed=True).order_by("id").values_list(*ROW_COLUMNS)
        )

    @cached_property
    def _renewed_at(self) -> dict[int, dt.datetime]:
        """Acceptance → when its (first) renewal was created."""
        out: dict[int, dt.datetime] = {}
        for renewed, created in RiskAcceptance.objects.filter(renewal_of__isnull=False).values_list(
            "renewal_of_id", "created_at"
        ):
            out[renewed] = min(created, out.get(renewed, created))
        return out

    def expired_open(self, end: dt.datetime) -> list[tuple[int, dt.datetime | None]]:
        """Acceptances expired by ``end``, not renewed by then, with a covered finding still open
        (first seen before ``end``, not closed by it): (id, closed_at)."""
        rows = {row[0]: row for row in self.covered_rows}
        renewed = self._renewed_at
        out: dict[int, dt.datetime | None] = {}
        for acceptance, finding, status, _, _, closed in self.items:
            if acceptance in out or status != AcceptanceStatus.EXPIRED:
                continue
            if closed is None or closed >= end:
                continue
            renewal = renewed.get(acceptance)
            if renewal is not None and renewal < end:
                continue
            _, first_seen, finding_closed, _, _, _, _ = rows[finding]
            if first_seen < end and (finding_closed is None or finding_closed >= end):
                out[acceptance] = closed
        return list(out.items())

    def findings(self, end: dt.datetime) -> dict[str, int]:
        present, overdue, kev = self.counts[end]
        covered = self.covered(end)
        cov_overdue = cov_kev = 0
        for row in self.covered_rows:
            if row[0] not in covered or not _present_at(row, end):
                continue
            deadline = row[4]
            if deadline is not None and deadline < end:
                cov_overdue += 1
                if row[5] and row[6]:
                    cov_kev += 1
        return {"present": present, "overdue": overdue - cov_overdue, "kev_overdue": kev - cov_kev}

    def overdue_ids(self, end: dt.datetime, *, kev: bool) -> list[int]:
        """The first ids (in id order) overdue at ``end`` and not covered; the scan looks at
        ``EVIDENCE_LIMIT + 200`` candidates like the query it replaces."""
        if kev:
            candidates = [
                row[0]
                for row in self.kev_rows
                if _present_at(row, end) and row[4] is not None and row[4] < end
            ][: EVIDENCE_LIMIT + 200]
        else:
            candidates = list(
                _present(end)
                .filter(deadline__lt=end)
                .order_by("id")
                .values_list("id", flat=True)[: EVIDENCE_LIMIT + 200]
            )
        covered = self.covered(end)
        return [pk for pk in candidates if pk not in covered][:EVIDENCE_LIMIT]


class PeriodContext:
    """One period's window and the queries several signals share (each run once).

    ``shared`` carries what a run of periods reads once (``radar_compute_range``); without it the
    context reads for its own period only.
    """

    def __init__(
        self, period: Period, doc: PolicyDocument, shared: RangeFacts | None = None
    ) -> None:
        self.period = period
        self.doc = doc
        self.start = period.start
        if shared is None or shared.end_of(period) not in shared.ends:
            shared = RangeFacts([period], now=shared.now if shared is not None else None)
        self.shared = shared
        # The end of a finished period; now for the running one (month to date).
        self.end = shared.end_of(period)
        self.month_to_date = self.end < period.end

    @cached_property
    def findings(self) -> dict[str, int]:
        return self.shared.findings(self.end)

    def overdue_ids(self, *, kev: bool) -> list[int]:
        return self.shared.overdue_ids(self.end, kev=kev)

    @cached_property
    def decisions_quarter(
        self,
    ) -> list[tuple[int, str, dt.datetime, dt.datetime | None, bool | None]]:
        rows = DecisionRecord.objects.filter(
            Q(created_at__gte=self.end - QUARTER, created_at__lt=self.end)
            | Q(decided_at__gte=self.end - QUARTER, decided_at__lt=self.end)
        ).values_list(
            "id", "escalation_level", "created_at", "decided_at", "ciso_recommendation_followed"
        )
        return list(rows)

    @cached_property
    def pulses(self) -> dict[str, PulseResponse]:
        return {p.role: p for p in PulseResponse.objects.filter(period=self.period.label)}

    def pulse_values(self, item: str) -> list[int]:
        return [int(p.answers[item]) for p in self.pulses.values() if item in p.answers]

    def pulse_evidence(self) -> dict[str, list[int]]:
        return {"pulses": sorted(p.pk for p in self.pulses.values())}


# ----------------------------------------------------------------------------- built-in signals

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


def _pulse_max(item: str) -> Callable[[PeriodContext], SignalValue]:
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


_BUILT_IN = (
    Signal("escalations", "Escalations beyond the leaders", "overt", "decision_friction",
           "decisions escalated to executive or facilitator level, trailing 91 days (count)",
           0.0, 3.0, 0.5, escalations),
    Signal("override_rate", "Outcomes against the CISO's recommendation", "overt",
           "decision_friction",
           "decided records with ciso_recommendation_followed = false ÷ decided records that say, "
           "trailing 91 days", 0.1, 0.5, 0.5, override_rate),
    Signal("acceptance_requests", "New acceptance requests", "covert", "risk_debt",
           "acceptances first requested in the period (renewals excluded)", 1.0, 6.0, 0.15,
           acceptance_requests),
    Signal("acceptance_renewals", "Renewals per acceptance in force", "covert", "risk_debt",
           "mean renewal count of acceptances approved and in force at the period end "
           "(≥ 2 is chronic)", 0.5, 2.0, 0.15, acceptance_renewals),
    Signal("expired_open", "Expired acceptances, risk still open", "covert", "risk_debt",
           "acceptances expired by the period end, not renewed, with a covered finding still "
           "open (count)", 0.0, 3.0, 0.2, expired_open),
    Signal("overdue_findings", "Overdue remediation", "covert", "risk_debt",
           "findings open at the period end past their policy deadline and not under an "
           "acceptance in force ÷ findings open", 0.05, 0.5, 0.3, overdue_findings),
    Signal("overdue_kev", "Overdue known-exploited, exposed", "covert", "risk_debt",
           "KEV-listed findings on exposed assets open past their deadline at the period end, "
           "not under an acceptance in force (count)", 0.0, 3.0, 0.2, overdue_kev),
    Signal("briefing_latency", "Time to inform the CIO", "overt", "communication",
           "median over SEV1/SEV2 incidents declared in the trailing 91 days of (first CIO "
           "acknowledgement − declaration) ÷ policy first-brief time; unacknowledged count to the "
           "period end", 1.0, 3.0, 1.0, briefing_latency),
    Signal("coordination", "Relational coordination (pulse P1-P6)", "perception", "relationship",
           "mean of P1-P6 over both leaders; normalised (5 − mean) ÷ 4", 5.0, 1.0, 0.3,
           coordination),
    Signal("relationship_conflict", "Relationship conflict (pulse P8)", "perception",
           "relationship", "max of the two leaders' P8; normalised (x − 1) ÷ 4", 1.0, 5.0, 0.3,
           _pulse_max("P8")),
    Signal("perception_gap", "Perception gap", "covert", "relationship",
           "mean |CIO − CISO| over P1-P9 and |guess − actual| on the meta items; normalised ÷ 4",
           0.0, 4.0, 0.2, perception_gap),
    Signal("downplay", "Pressure to downplay (pulse P10)", "covert", "relationship",
           "max of the two leaders' P10; normalised (x − 1) ÷ 4", 1.0, 5.0, 0.2, _pulse_max("P10")),
    Signal("task_conflict", "Open disagreement (pulse P7)", "overt", None,
           "max of the two leaders' P7 (1 never … 5 very often); healthy when ≥ 2 with P8 ≤ 2; "
           "feeds the silence detector", 1.0, 5.0, 0.0, _pulse_max("P7")),
    Signal("voice", "Voice (pulse P9)", "perception", None,
           "min of the two leaders' P9; ≤ 2 in two consecutive pulses is a red line", 5.0, 1.0,
           0.0, lambda ctx: SignalValue(
               float(min(ctx.pulse_values("P9"))) if ctx.pulse_values("P9") else None,
               ctx.pulse_evidence())),
)  # fmt: skip

for _signal in _BUILT_IN:
    register(_signal)

# Initiatives contribute by an explicit import (the layer check sees the edge; no import string).
CONTRIBUTED_META.update(initiative_signals.META)
for _function in initiative_signals.SIGNALS:
    register(_adapt(_function, initiative_signals.__name__))


def tuned(signal: Signal, doc: PolicyDocument) -> tuple[float, float, float]:
    """(weight, healthy, red_line) after the policy's overrides."""
    tuning = doc.tension.signals.get(signal.key)
    if tuning is None:
        return signal.weight, signal.healthy, signal.red_line
    return (
        signal.weight if tuning.weight is None else tuning.weight,
        signal.healthy if tuning.healthy is None else tuning.healthy,
        signal.red_line if tuning.red_line is None else tuning.red_line,
    )


def compute_all(
    ctx: PeriodContext, signals: Iterable[Signal] | None = None
) -> dict[str, SignalValue]:
    return {s.key: s.compute(ctx) for s in (signals if signals is not None else registered())}
