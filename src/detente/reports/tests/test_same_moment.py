"""Figures that agree: the radar, the CISO view and the board report of one moment count the same
overdue findings, and a month that has not ended is judged as of now (month to date)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from detente.acceptances.models import ScopeKind
from detente.acceptances.services import acceptance_request, acceptance_sign
from detente.core import clock
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding
from detente.findings.services import findings_reevaluate, scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json
from detente.intel.services import intel_load
from detente.inventory.models import Asset
from detente.inventory.services import asset_set_exposure, service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.reports.board import Quarter, board_figures
from detente.reports.dashboards import ciso_view
from detente.tension.services import radar_compute
from detente.tension.signals import Period

MID_MONTH = dt.datetime(2026, 7, 2, 12, 0, tzinfo=dt.UTC)


def _import(tmp_path: Path, name: str, vulns: list[dict[str, object]], owner: Person) -> None:
    shop = service_upsert(slug="shop", name="Shop", owner=owner)
    artifact = f"registry.example/{name}:1.0"
    path = write_json(tmp_path / f"{name}.json", trivy_report(vulns, artifact=artifact))
    scan_import(paths=[path], options=ImportOptions(service=shop))
    for asset in Asset.objects.all():
        asset_set_exposure(asset=asset, publicly_exposed=True)
    findings_reevaluate()


def test_radar_ciso_view_and_board_agree_on_overdue_mid_month(
    db: None, samples: Path, tmp_path: Path
) -> None:
    # given: on 20 June two HIGH flaws on an exposed image (due 23 June), one of them deferred by
    # a signed acceptance; on 1 July Log4Shell (known-exploited) on another exposed image, due
    # 4 July, later this month
    clock.set_now(dt.datetime(2026, 6, 20, 9, 0, tzinfo=dt.UTC))
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2026-08-07.json")
    _import(
        tmp_path,
        "shop",
        [trivy_vuln("CVE-2024-7000", pkg="openssl"), trivy_vuln("CVE-2024-7001", pkg="zlib")],
        people[Role.SERVICE_OWNER],
    )
    clock.set_now(dt.datetime(2026, 6, 28, 9, 0, tzinfo=dt.UTC))
    deferred = acceptance_request(
        actor=people[Role.IT_LEAD],
        title="Defer zlib",
        scope=ScopeKind.FINDINGS,
        finding_ids=[Finding.objects.get(cve="CVE-2024-7001").pk],
        justification="The fix needs a platform upgrade planned with the next release.",
        compensating_controls="WAF rule in front of the service.",
        until=dt.date(2026, 7, 5),
    )
    for role in deferred.required_roles:
        acceptance_sign(actor=people[Role(role)], acceptance=deferred)
    clock.set_now(dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC))
    _import(
        tmp_path,
        "api",
        [trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="CRITICAL")],
        people[Role.SERVICE_OWNER],
    )
    assert Finding.objects.get(cve="CVE-2021-44228").deadline == dt.datetime(
        2026, 7, 4, 9, 0, tzinfo=dt.UTC
    )

    # when: on 2 July the radar of July, the CISO view and the Q3 board report are made
    clock.set_now(MID_MONTH)
    snap = radar_compute(period=Period(2026, 7))
    view = ciso_view(people[Role.CISO])
    board = board_figures(Quarter.parse("2026-Q3"))

    # then: the month is judged as of now, and all three count the one overdue finding
    signals = {s["key"]: s for s in snap.signals}
    assert (snap.month_to_date, snap.as_of) == (True, MID_MONTH)
    assert signals["overdue_findings"]["facts"]["overdue"] == 1
    assert signals["overdue_kev"]["facts"]["count"] == 0
    assert [t["key"] for t in snap.triggers if t["key"] == "red_line_1"] == []
    assert view.overdue == 1
    assert [f.cve for f in view.overdue_findings] == ["CVE-2024-7000"]
    assert (board.as_of, board.last_exposure.overdue) == (MID_MONTH, 1)
    assert board.zone == snap.zone


def test_a_finished_month_is_judged_at_its_end(db: None) -> None:
    # given: August is over
    clock.set_now(dt.datetime(2026, 9, 3, 8, 0, tzinfo=dt.UTC))
    # when: its radar is computed
    snap = radar_compute(period=Period(2026, 8))
    # then: it is not month to date
    assert (snap.month_to_date, snap.as_of) == (False, dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
