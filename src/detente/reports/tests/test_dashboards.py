"""Dashboard figures: the one-pass compliance series equals its definition, and cached figures
follow every audited change and the clock."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from detente.audit.services import audit_record
from detente.core import clock
from detente.findings.models import Finding, Status
from detente.inventory.models import Asset, AssetKind
from detente.people.models import Role
from detente.people.services import person_upsert
from detente.reports.dashboards import ciso_view, compliance_at

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def _asset() -> Asset:
    return Asset.objects.create(kind=AssetKind.HOST, identifier="db-1", name="db-1")


def _finding(asset: Asset, n: int, **facts: object) -> Finding:
    defaults: dict[str, object] = {
        "fingerprint": f"fp{n:05d}", "asset": asset, "scanner": "nessus",
        "vuln_id": f"CVE-2026-{n}", "title": "t", "severity": "high", "first_seen": NOW,
        "last_seen": NOW, "state_hash": "x",
    }  # fmt: skip
    return Finding.objects.create(**(defaults | facts))


def _naive(findings: list[Finding], edge: dt.datetime) -> float:
    due = [f for f in findings if f.deadline and f.deadline <= edge and f.first_seen <= edge]
    late = [
        f
        for f in due
        if f.status == Status.OPEN
        or (f.closed_at is not None and f.deadline is not None and f.closed_at > f.deadline)
    ]
    return 100.0 if not due else round(100.0 * (len(due) - len(late)) / len(due), 1)


@pytest.mark.parametrize("seed", range(4))
def test_compliance_in_one_pass_equals_its_definition(seed: int) -> None:
    rng = random.Random(seed)
    asset = _asset()
    findings = []
    for n in range(150):
        first = NOW - dt.timedelta(days=rng.randint(0, 120))
        deadline = (
            None if rng.random() < 0.1 else first + dt.timedelta(days=rng.choice([0, 3, 14, 60]))
        )
        status = rng.choice([Status.OPEN, Status.FIXED, Status.ACCEPTED, Status.MITIGATED])
        closed = None
        if status in (Status.FIXED, Status.MITIGATED):
            closed = first + dt.timedelta(days=rng.randint(0, 90), hours=rng.randint(0, 23))
        findings.append(
            _finding(asset, n, first_seen=first, deadline=deadline, status=status, closed_at=closed)
        )
    # Edges out of order, one exactly on a deadline, one before everything.
    edges = [NOW - dt.timedelta(weeks=w) for w in (3, 0, 11, 7)]
    edges.append(next(f.deadline for f in findings if f.deadline is not None))
    edges.append(NOW - dt.timedelta(days=400))
    got = compliance_at(Finding.objects.all(), edges)
    assert [p.label for p in got] == [e.date().isoformat() for e in edges]
    assert [p.value for p in got] == [_naive(findings, e) for e in edges]
    assert len({p.value for p in got}) > 2  # the data exercised more than one figure


def test_cached_figures_follow_audited_changes_and_the_clock() -> None:
    clock.set_now(NOW)
    ciso = person_upsert(name="C", email="ciso@example.org", role=Role.CISO)
    asset = _asset()
    _finding(asset, 1, deadline=NOW + dt.timedelta(minutes=30))
    assert (ciso_view(ciso).open, ciso_view(ciso).overdue) == (1, 0)

    # A write the figures depend on, audited like every change in the services.
    _finding(asset, 2, deadline=NOW - dt.timedelta(days=1))
    assert ciso_view(ciso).open == 1  # still the cached figure: nothing was audited
    audit_record(actor=None, verb="finding.test", subject_type="asset", subject_id=asset.pk)
    view = ciso_view(ciso)
    assert (view.open, view.overdue) == (2, 1)

    clock.set_now(NOW + dt.timedelta(hours=1))  # the first deadline has passed
    assert ciso_view(ciso).overdue == 2
