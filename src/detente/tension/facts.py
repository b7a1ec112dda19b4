"""The data loader: what the radar's formulas read for a period, each read once.

``RangeFacts`` reads the big tables once for the ends of a run of periods; ``PeriodContext`` is one
period's window with the reads several formulas share. The formulas (``formulas.py``) read only
through these.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from functools import cached_property
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, TextField
from django.db.models.functions import Cast, Substr

from detente.acceptances.models import AcceptanceFinding, AcceptanceStatus, RiskAcceptance
from detente.core import clock
from detente.decisions.models import DecisionRecord
from detente.findings.models import Finding, Status
from detente.policy.document import PolicyDocument
from detente.tension.models import PulseResponse
from detente.tension.period import Period

EVIDENCE_LIMIT = 20  # ids kept per kind of evidence; the count is in the facts
QUARTER = dt.timedelta(days=91)
# From this many period ends on, the findings are read once and bucketed in Python rather than
# counted by one conditional aggregate per end (see RangeFacts.counts).
ONE_PASS_FROM = 3


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
