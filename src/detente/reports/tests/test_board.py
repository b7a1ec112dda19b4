"""The board report: figures for a small organisation built through the services, and the PDF."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from detente.acceptances.models import AcceptanceStatus, RiskAcceptance, ScopeKind
from detente.acceptances.services import acceptance_request, acceptance_sign
from detente.core import clock
from detente.core.errors import InputError
from detente.decisions.services import decision_create
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding
from detente.findings.services import findings_reevaluate, scan_import
from detente.findings.tests.factories import LOCAL_LOW, trivy_report, trivy_vuln, write_json
from detente.intel.services import intel_load
from detente.inventory.models import Asset
from detente.inventory.services import asset_set_exposure, service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.reports.board import (
    BoardFigures,
    Quarter,
    board_figures,
    render_html,
    write_board_report,
)
from detente.tension.models import TensionSnapshot as RadarSnapshot
from detente.tension.services import radar_compute_range
from detente.tension.signals import Period

SCANNED = dt.datetime(2026, 7, 6, 9, 0, tzinfo=dt.UTC)
REPORTED = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)
REMOTE_UI = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:N"


@dataclass
class Org:
    cio: Person
    ciso: Person
    it_lead: Person
    pending: RiskAcceptance


def _request(org_people: dict[Role, Person], finding: Finding, days: int) -> RiskAcceptance:
    return acceptance_request(
        actor=org_people[Role.IT_LEAD],
        title=f"Defer {finding.cve}",
        scope=ScopeKind.FINDINGS,
        finding_ids=[finding.pk],
        justification="The fix needs a platform upgrade planned with the next release.",
        compensating_controls="WAF rule in front of the service.",
        until=clock.now().date() + dt.timedelta(days=days),
    )


@pytest.fixture
def org(db: None, samples: Path, tmp_path: Path) -> Org:
    clock.set_now(SCANNED)
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    service = service_upsert(slug="shop", name="Shop", owner=people[Role.SERVICE_OWNER])
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2026-08-07.json")
    report = write_json(
        tmp_path / "shop.json",
        trivy_report(
            [
                trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="CRITICAL"),
                trivy_vuln("CVE-2024-5000", pkg="libxml2", severity="MEDIUM", vector=REMOTE_UI),
                trivy_vuln("CVE-2024-6000", pkg="zlib", severity="LOW", vector=LOCAL_LOW),
            ]
        ),
    )
    scan_import(paths=[report], options=ImportOptions(service=service))
    asset_set_exposure(asset=Asset.objects.get(), publicly_exposed=True)
    findings_reevaluate()
    # An acceptance signed in August for the 60-day finding, in force at the quarter's end.
    clock.set_now(dt.datetime(2026, 9, 20, 9, 0, tzinfo=dt.UTC))
    sixty = Finding.objects.get(cve="CVE-2024-5000")
    signed = _request(people, sixty, days=20)
    for role in signed.required_roles:
        acceptance_sign(actor=people[Role(role)], acceptance=signed)
    # One waiting for signatures (the log4j finding).
    pending = _request(people, Finding.objects.get(cve="CVE-2021-44228"), days=5)
    decision_create(
        actor=people[Role.CISO],
        title="Upgrade log4j before the release freeze",
        pressure_point="patching",
        question="Patch now or after the freeze?",
        options=[
            {"title": "Patch now", "business_benefit": "Exploited flaw closed", "facts": []},
            {"title": "After the freeze", "business_benefit": "No release risk", "facts": []},
        ],
    )
    clock.set_now(REPORTED)
    radar_compute_range(first=Period(2026, 7), last=Period(2026, 9))
    return Org(people[Role.CIO], people[Role.CISO], people[Role.IT_LEAD], pending)


def test_quarters_parse_and_refuse_nonsense() -> None:
    q = Quarter.parse("2026-q3")
    assert (q.label, q.start, q.end) == (
        "2026-Q3",
        dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
    )
    assert [p.label for p in q.months] == ["2026-07", "2026-08", "2026-09"]
    with pytest.raises(InputError):
        Quarter.parse("2026-Q5")


def test_the_figures_of_the_quarter(org: Org) -> None:
    f = board_figures(Quarter.parse("2026-Q3"))

    assert f.as_of == dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    assert len(f.exposure) == 13  # the quarter's weeks
    assert f.exposure[0].label == "2026-07-08"
    last = f.last_exposure
    assert (last.open, last.kev) == (3, 1)
    # past deadline, less the one deferred by the acceptance in force: the radar's count
    assert last.overdue == Finding.objects.filter(deadline__lt=f.as_of).count() - 1 == 2
    september = {s["key"]: s for s in RadarSnapshot.objects.get(period="2026-09").signals}
    assert september["overdue_findings"]["facts"]["overdue"] == last.overdue
    assert (f.requested, f.approved, f.in_force) == (2, 1, 1)
    assert [a.id for a in f.awaiting_signatures] == [org.pending.pk]
    assert org.pending.status == AcceptanceStatus.REQUESTED
    assert f.awaiting_signatures[0].waiting_for
    assert [d.title for d in f.open_decisions] == ["Upgrade log4j before the release freeze"]
    assert [m.period for m in f.radar] == ["2026-07", "2026-08", "2026-09"]
    assert f.zone in ("green", "amber", "red")
    assert f.missing_months == []
    assert f.index is not None


def test_an_unstarted_quarter_is_refused(org: Org) -> None:
    with pytest.raises(InputError, match="not started"):
        board_figures(Quarter.parse("2027-Q1"))


def _pdf_text(path: Path) -> tuple[int, str]:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_has_its_pages_and_figures(org: Org, tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    f: BoardFigures = board_figures(Quarter.parse("2026-Q3"))

    html_path, pdf_path = write_board_report(f, tmp_path / "out")

    assert pdf_path.read_bytes().startswith(b"%PDF-")
    assert html_path.read_text(encoding="utf-8") == render_html(f)
    pages, text = _pdf_text(pdf_path)
    assert pages == 5  # cover, exposure, acceptances and radar, initiatives, decisions needed
    assert "2026-Q3" in text
    assert f.zone.upper() in text
    assert f"index {f.index:.1f} / 100" in text
    assert f"Page 2 of {pages}" in text
    for value in (f.last_exposure.open, f.last_exposure.kev, f.last_exposure.overdue):
        assert str(value) in text
    assert f"RA-{org.pending.pk}" in text
    assert "Upgrade log4j before the release freeze" in text
    assert "<svg" in html_path.read_text(encoding="utf-8")


def test_the_radar_over_a_range_reads_the_same_as_month_by_month(org: Org) -> None:
    """The report's radar comes from radar_compute_range, which reads the findings once for the
    whole range (bucketed in Python); each month alone counts with SQL aggregates. Same values,
    same evidence."""
    from detente.policy.services import active_policy
    from detente.tension.signals import PeriodContext, RangeFacts, compute_all

    doc, _ = active_policy()
    months = Period(2026, 6).until(Period(2026, 10))
    shared = RangeFacts(months)
    for month in months:
        together = compute_all(PeriodContext(month, doc, shared))
        alone = compute_all(PeriodContext(month, doc))
        assert together == alone, month.label
    assert shared.counts[Period(2026, 9).end][0] == 3
