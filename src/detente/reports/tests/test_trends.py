"""Trends: figures computed from a small known dataset, checked against hand-counted values, the
board's own functions (open = exposure's open, compliance = the board's compliance), scoping for a
service owner, and the page with its charts and tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from detente.acceptances.models import (
    AcceptanceFinding,
    AcceptanceStatus,
    CoverReason,
    RiskAcceptance,
    ScopeKind,
)
from detente.access.testing import signed_in_client
from detente.core import clock
from detente.findings.models import Finding, Status
from detente.inventory.models import Asset, AssetKind, BusinessService
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.reports.dashboards import compliance_at, exposure_trend
from detente.reports.trends import month_edges, trends

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def at(month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


@dataclass
class Data:
    people: dict[Role, Person]
    shop: BusinessService
    pay: BusinessService


def _finding(asset: Asset, n: int, severity: str, first: dt.datetime, **facts: object) -> Finding:
    return Finding.objects.create(
        fingerprint=f"fp{n}", asset=asset, scanner="nessus", vuln_id=f"CVE-2026-{n}", title="t",
        severity=severity, first_seen=first, last_seen=first, state_hash="x", **facts,
    )  # fmt: skip


@pytest.fixture
def data() -> Data:
    clock.set_now(NOW)
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in (Role.CIO, Role.CISO, Role.IT_LEAD, Role.SERVICE_OWNER)
    }
    other = person_upsert(name="Pay owner", email="pay@example.org", role=Role.SERVICE_OWNER)
    shop = BusinessService.objects.create(
        slug="shop", name="Shop", owner=people[Role.SERVICE_OWNER]
    )
    pay = BusinessService.objects.create(slug="pay", name="Payments", owner=other)
    web = Asset.objects.create(kind=AssetKind.HOST, identifier="web", name="web", service=shop)
    api = Asset.objects.create(kind=AssetKind.HOST, identifier="api", name="api", service=pay)
    # 1: critical on shop, open and past its deadline since September
    _finding(web, 1, "critical", at(9, 10), deadline=at(9, 25))
    # 2: high on shop, fixed in 11 days, on time
    _finding(web, 2, "high", at(8, 5), deadline=at(8, 20), status=Status.FIXED,
             closed_at=at(8, 16))  # fmt: skip
    # 3: high on pay, fixed in 20 days, late
    _finding(api, 3, "high", at(10, 2), deadline=at(10, 12), status=Status.FIXED,
             closed_at=at(10, 22))  # fmt: skip
    # 4: medium on shop, mitigated in 31 days, before its deadline
    _finding(web, 4, "medium", at(6, 1), deadline=at(8, 30), status=Status.MITIGATED,
             closed_at=at(7, 2))  # fmt: skip
    # 5: a false positive: in no figure
    _finding(web, 5, "low", at(11, 1), status=Status.FALSE_POSITIVE, closed_at=at(11, 2))
    # 6: critical on pay, past its deadline, deferred by a signed acceptance from 25 October
    deferred = _finding(api, 6, "critical", at(10, 15), deadline=at(10, 20), status=Status.ACCEPTED)
    # 7: low on shop, new, due in December
    _finding(web, 7, "low", at(11, 20), deadline=dt.datetime(2026, 12, 20, tzinfo=dt.UTC))
    acceptance = RiskAcceptance.objects.create(
        title="Defer 6", scope=ScopeKind.FINDINGS, justification="j",
        requested_until=dt.date(2026, 12, 31), expires_at=dt.datetime(2026, 12, 31, tzinfo=dt.UTC),
        deadline_class="critical", status=AcceptanceStatus.APPROVED, requester=people[Role.IT_LEAD],
        policy_version=1, created_at=at(10, 21), requested_at=at(10, 21), approved_at=at(10, 25),
    )  # fmt: skip
    AcceptanceFinding.objects.create(
        acceptance=acceptance, finding=deferred, reason=CoverReason.REQUESTED, added_at=at(10, 21)
    )
    # A request nobody signed defers nothing.
    pending = RiskAcceptance.objects.create(
        title="Defer 1", scope=ScopeKind.FINDINGS, justification="j",
        requested_until=dt.date(2026, 12, 31), expires_at=dt.datetime(2026, 12, 31, tzinfo=dt.UTC),
        deadline_class="critical", status=AcceptanceStatus.REQUESTED,
        requester=people[Role.IT_LEAD], policy_version=1, created_at=at(11, 1),
        requested_at=at(11, 1),
    )  # fmt: skip
    AcceptanceFinding.objects.create(
        acceptance=pending,
        finding=Finding.objects.get(fingerprint="fp1"),
        reason=CoverReason.REQUESTED,
        added_at=at(11, 1),
    )
    return Data(people, shop, pay)


def test_the_months_end_with_the_running_month_judged_as_of_now() -> None:
    months = month_edges(NOW)
    assert [m.label for m in months][:2] == ["2025-12", "2026-01"]
    assert months[-1].label == "2026-11"
    assert months[-1].edge == NOW
    assert months[-1].month_to_date
    assert months[-2].edge == at(11, 1)
    assert not months[-2].month_to_date
    assert len(months) == 12


def test_open_findings_by_severity_at_each_months_end(data: Data) -> None:
    t = trends(data.people[Role.CISO], now=NOW)
    got = {row.label: {k: v for k, v in row.counts.items() if v} for row in t.open_by_severity}
    assert got["2026-05"] == {}
    assert got["2026-06"] == {"medium": 1}  # open on 1 July, mitigated on the 2nd
    assert got["2026-07"] == {}
    assert got["2026-08"] == {}
    assert got["2026-09"] == {"critical": 1}
    assert got["2026-10"] == {"critical": 2}  # 3 came and went; 6 is deferred, still open
    assert got["2026-11"] == {"critical": 2, "low": 1}  # the false positive is in no figure
    # The severities add up to the board report's open count at the same edges.
    board = exposure_trend([m.edge for m in t.months])
    assert [row.total for row in t.open_by_severity] == [p.open for p in board]


def test_time_to_remediate_by_severity_and_by_service(data: Data) -> None:
    t = trends(data.people[Role.CIO], now=NOW)
    by_severity = [(r.label, r.fixed, r.mean_days) for r in t.remediation_by_severity]
    assert by_severity == [("high", 2, 15.5), ("medium", 1, 31.0)]
    by_service = [(r.label, r.fixed, r.mean_days) for r in t.remediation_by_service]
    assert by_service == [("Shop", 2, 21.0), ("Payments", 1, 20.0)]  # slowest first


def test_deadline_compliance_is_the_boards_at_each_months_end(data: Data) -> None:
    t = trends(data.people[Role.CIO], now=NOW)
    got = {p.label: p.value for p in t.compliance}
    # Due by 1 October: 1 (late, open), 2 and 4 (on time); by 1 November also 3 (late) and the
    # deferred 6 (signed, not late).
    assert (got["2026-08"], got["2026-09"], got["2026-10"], got["2026-11"]) == (
        100.0, 66.7, 60.0, 60.0,
    )  # fmt: skip
    board = compliance_at(Finding.objects.all(), [m.edge for m in t.months])
    assert [p.value for p in t.compliance] == [p.value for p in board]


def test_exposure_days_of_deferrals_accrue_month_by_month(data: Data) -> None:
    t = trends(data.people[Role.CIO], now=NOW)
    got = {p.label: p.value for p in t.deferral_exposure}
    # Signed on 25 October, past its deadline since the 20th: 7 days in October, 26.5 in
    # November up to now; the unsigned request adds nothing.
    assert (got["2026-09"], got["2026-10"], got["2026-11"]) == (0.0, 7.0, 26.5)


def test_a_service_owner_sees_the_trends_of_their_services_only(data: Data) -> None:
    t = trends(data.people[Role.SERVICE_OWNER], now=NOW)
    got = {row.label: {k: v for k, v in row.counts.items() if v} for row in t.open_by_severity}
    assert got["2026-10"] == {"critical": 1}
    assert [r.label for r in t.remediation_by_service] == ["Shop"]
    assert all(p.value == 0 for p in t.deferral_exposure)  # the deferral is on Payments


@pytest.mark.parametrize("role", [Role.CIO, Role.CISO])
def test_the_trends_page_is_linked_from_both_homes(data: Data, role: Role) -> None:
    client = signed_in_client(data.people[role])
    home = client.get(f"/{role.value}").content.decode()
    assert 'href="/trends"' in home


def test_the_trends_page_draws_charts_with_tables(data: Data) -> None:
    page = signed_in_client(data.people[Role.CIO]).get("/trends")
    assert page.status_code == 200
    html = page.content.decode()
    # four charts, each an image with a title and a description
    assert html.count('<svg class="chart"') == 5
    assert html.count("<desc id=") == 5
    assert "2026-10: Critical 2" in html  # the severity chart's description
    # the tables beside them hold the same figures
    assert "<td>Shop</td><td>2</td><td>21.0</td>" in html
    assert "<td>2026-11 (month to date)</td><td>60.0 %</td><td>26.5</td>" in html
    assert "<td>2026-09</td><td>66.7 %</td>" in html


def test_the_trends_page_of_a_service_owner_is_scoped(data: Data) -> None:
    html = signed_in_client(data.people[Role.SERVICE_OWNER]).get("/trends").content.decode()
    assert "<td>Shop</td>" in html
    assert "<td>Payments</td>" not in html
