"""The finding list's priority order is stored by the database (``priority``, ``due``) and a
keyset cursor walks it: every open finding once, in the documented order, whatever writes the
facts the order depends on."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json

import pytest

from detente.core.errors import InputError
from detente.findings.models import Finding, Status
from detente.findings.selectors import FindingFilter, findings_page, findings_page_values
from detente.inventory.models import Asset, AssetKind

pytestmark = pytest.mark.django_db

BASE = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def _findings() -> list[Finding]:
    asset = Asset.objects.create(kind=AssetKind.IMAGE, identifier="shop:1", name="shop")
    made = []
    # Every combination of KEV, exposure and deadline (none, or one of three, with ties), twice.
    deadlines = [None, BASE, BASE + dt.timedelta(days=3), BASE + dt.timedelta(days=3)]
    for n, (kev, exposed, deadline) in enumerate(
        itertools.product([True, False], [True, False], deadlines * 2)
    ):
        made.append(
            Finding.objects.create(
                fingerprint=f"fp{n:04d}", asset=asset, scanner="trivy", vuln_id=f"CVE-2026-{n}",
                title="t", severity="high", kev=kev, exposed=exposed, deadline=deadline,
                first_seen=BASE, last_seen=BASE, state_hash="x",
            )
        )  # fmt: skip
    return made


def _expected(findings: list[Finding]) -> list[int]:
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return [
        f.pk
        for f in sorted(
            (f for f in findings if f.status == Status.OPEN),
            key=lambda f: (not f.kev, not f.exposed, f.deadline or far, f.pk),
        )
    ]


def _walk(limit: int, f: FindingFilter | None = None) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        rows, cursor = findings_page(f or FindingFilter(), None, cursor=cursor, limit=limit)
        seen.extend(r.pk for r in rows)
        if cursor is None:
            return seen


@pytest.mark.parametrize("limit", [1, 3, 7, 100])
def test_pages_walk_every_open_finding_once_in_priority_order(limit: int) -> None:
    findings = _findings()
    assert _walk(limit) == _expected(findings)


def test_the_order_follows_facts_written_by_bulk_updates() -> None:
    findings = _findings()
    # An intel refresh or an exposure change writes kev/exposed with UPDATE, not save().
    last = findings[-1]  # not KEV, not exposed, deadline BASE + 3 days
    Finding.objects.filter(pk=last.pk).update(kev=True, exposed=True, deadline=None)
    Finding.objects.filter(pk=findings[0].pk).update(status=Status.FIXED)
    fresh = list(Finding.objects.all())
    assert _walk(5) == _expected(fresh)
    assert _walk(5).index(last.pk) < 8  # now among the KEV-and-exposed ones


def test_filters_keep_the_order() -> None:
    findings = _findings()
    by_pk = {f.pk: f for f in findings}
    order = _expected(findings)
    assert _walk(2, FindingFilter(exploited=True)) == [pk for pk in order if by_pk[pk].kev]
    assert _walk(3, FindingFilter(exposed=True)) == [pk for pk in order if by_pk[pk].exposed]
    both = [pk for pk in order if by_pk[pk].kev and by_pk[pk].exposed]
    assert _walk(4, FindingFilter(exploited=True, exposed=True)) == both
    assert len(both) == 8


def _cursor(key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        _cursor([1, 2]),
        _cursor(["x", "2026-01-01T00:00:00+00:00", 1]),
        _cursor([9, "2026-01-01T00:00:00+00:00", 1]),  # no such priority
        _cursor([1, "2026-01-01T00:00:00+00:00", 2**70]),  # past any id
        _cursor([1, "9999-12-31T23:59:59-14:00", 1]),  # past the last instant in UTC
        _cursor([1, "tomorrow", 1]),
    ],
)
def test_a_cursor_we_did_not_issue_is_refused(cursor: str) -> None:
    with pytest.raises(InputError, match="cursor"):
        findings_page(FindingFilter(), None, cursor=cursor, limit=5)


@pytest.mark.parametrize("limit", [1, 4])
def test_the_values_pages_walk_the_same_order(limit: int) -> None:
    findings = _findings()
    seen: list[int] = []
    cursor = None
    while True:
        rows, cursor = findings_page_values(
            FindingFilter(), None, cursor=cursor, limit=limit, fields=["id", "asset__identifier"]
        )
        assert all(row["asset__identifier"] == "shop:1" for row in rows)
        seen.extend(row["id"] for row in rows)
        if cursor is None:
            break
    assert seen == _expected(findings)
