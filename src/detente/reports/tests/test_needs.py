"""What needs each person now: the homes' first block and the navigation's count."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client

from detente.acceptances.models import RiskAcceptance, ScopeKind
from detente.acceptances.services import acceptance_request, acceptance_sign
from detente.access.services import account_set_password
from detente.core import clock
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding
from detente.findings.services import findings_reevaluate, scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json
from detente.incidents.services import briefing_issue, incident_declare, regimes_configure
from detente.inventory.models import Asset, BusinessService
from detente.inventory.services import asset_set_exposure, service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.reports.dashboards import cio_view, ciso_view
from detente.reports.needs import needs_count, needs_for

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
PASSWORD = "correct horse battery staple"


@dataclass
class World:
    people: dict[Role, Person]
    other_owner: Person
    shop: BusinessService
    bank: BusinessService
    shop_ra: RiskAcceptance
    bank_ra: RiskAcceptance


def _import(tmp_path: Path, service: BusinessService, cve: str) -> Finding:
    report = trivy_report(
        [trivy_vuln(cve, pkg=f"pkg-{cve}")], artifact=f"registry.example/{service.slug}:1"
    )
    path = write_json(tmp_path / f"{service.slug}.json", report)
    scan_import(paths=[path], options=ImportOptions(service=service))
    return Finding.objects.get(cve=cve)


def _request(person: Person, finding: Finding, title: str) -> RiskAcceptance:
    return acceptance_request(
        actor=person, title=title, scope=ScopeKind.FINDINGS, finding_ids=[finding.pk],
        justification="The fix needs the next release.", compensating_controls="WAF rule.",
        until=clock.today() + dt.timedelta(days=3),
    )  # fmt: skip


@pytest.fixture
def world(db: None, tmp_path: Path) -> World:
    clock.set_now(NOW)
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    other = person_upsert(name="Bank owner", email="bank@example.org", role=Role.SERVICE_OWNER)
    shop = service_upsert(slug="shop", name="Shop", owner=people[Role.SERVICE_OWNER])
    bank = service_upsert(slug="bank", name="Bank", owner=other)
    shop_finding = _import(tmp_path, shop, "CVE-2024-7000")
    bank_finding = _import(tmp_path, bank, "CVE-2024-7001")
    for asset in Asset.objects.all():
        asset_set_exposure(asset=asset, publicly_exposed=True)
    findings_reevaluate()
    shop_ra = _request(people[Role.IT_LEAD], shop_finding, "Defer openssl on the shop")
    bank_ra = _request(people[Role.IT_LEAD], bank_finding, "Defer openssl on the bank")
    regimes_configure(actor=people[Role.CISO], sec_registrant=False, gdpr_role="controller")
    return World(people, other, shop, bank, shop_ra, bank_ra)


def _sev1_briefed(world: World) -> None:
    lead = world.people[Role.SECURITY_LEAD]
    incident = incident_declare(
        actor=lead, title="Card data exfiltration suspected", type="data_breach",
        severity="sev1", lead=lead, services=[world.shop], personal_data=True,
        data_categories=["payment cards"],
    )  # fmt: skip
    clock.set_now(NOW + H)
    briefing_issue(
        actor=lead, incident=incident, status_summary="One host compromised",
        knowns=["Web server 3 runs a web shell"], unknowns=[], asks=["Take checkout offline"],
    )  # fmt: skip


def test_the_cio_sees_briefing_sev1_late_clock_and_signatures_urgent_first(world: World) -> None:
    # given: an open SEV1 with personal data (GDPR's 72 h clock), briefed once, and two
    # acceptances waiting for the CIO's signature
    _sev1_briefed(world)
    # when: 75 hours after awareness
    clock.set_now(NOW + 75 * H)
    needs = needs_for(world.people[Role.CIO])
    # then: acknowledgement, the SEV1 and the late clock first (urgent), then the signatures
    kinds = [(n.kind, n.urgent) for n in needs.items]
    assert kinds == [
        ("acknowledge", True), ("incident", True), ("clock", True),
        ("sign", False), ("sign", False),
    ]  # fmt: skip
    late = needs.items[2].label
    assert "late by 3 h" in late
    assert needs.count == needs_count(world.people[Role.CIO]) == 4
    assert [n.arg for n in needs.items if n.kind == "sign"] == [
        world.shop_ra.pk,
        world.bank_ra.pk,
    ]


def test_a_signature_leaves_the_signers_list_and_the_requester_sees_who_is_left(
    world: World,
) -> None:
    # given: the CISO has two signatures to give
    ciso = world.people[Role.CISO]
    assert [n.arg for n in needs_for(ciso).items if n.kind == "sign"] == [
        world.shop_ra.pk,
        world.bank_ra.pk,
    ]
    # when: the CISO signs the shop's
    acceptance_sign(actor=ciso, acceptance=world.shop_ra)
    # then: only the bank's is left for the CISO; the requester is told who is still to sign
    assert [n.arg for n in needs_for(ciso).items if n.kind == "sign"] == [world.bank_ra.pk]
    mine = [n.label for n in needs_for(world.people[Role.IT_LEAD]).items if n.kind == "request"]
    assert mine == [
        f"Your request RA-{world.bank_ra.pk} “Defer openssl on the bank” waits for: CISO, CIO",
        f"Your request RA-{world.shop_ra.pk} “Defer openssl on the shop” waits for: CIO",
    ]


def test_a_service_owner_sees_only_their_services(world: World) -> None:
    # given: two services, each with a requested acceptance
    owner = world.people[Role.SERVICE_OWNER]
    # when: the shop's owner reads both leaders' views and their own needs
    cio = cio_view(owner)
    ciso = ciso_view(owner)
    needs = needs_for(owner)
    # then: only the shop's acceptance appears anywhere
    assert [a.pk for a in cio.requested] == [world.shop_ra.pk]
    assert ciso.awaiting_signatures == 1
    assert [n.arg for n in needs.items if n.kind == "sign"] == []  # the owner is not required
    assert world.bank_ra.pk not in [n.arg for n in needs.items]


def _client(person: Person) -> Client:
    account_set_password(person=person, password=PASSWORD)
    person.refresh_from_db()
    client = Client()
    client.force_login(person.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (Role.CIO, "/cio"), (Role.CISO, "/ciso"), (Role.IT_LEAD, "/me"),
        (Role.SERVICE_OWNER, "/me"), (Role.ENGINEER, "/me"), (Role.AUDITOR, "/me"),
        (Role.SECURITY_LEAD, "/me"), (Role.CHANGE_MANAGER, "/me"),
    ],
)  # fmt: skip
def test_each_role_lands_on_its_home_with_the_needs_block(
    world: World, role: Role, home: str
) -> None:
    client = _client(world.people[role])
    landed = client.get("/")
    assert (landed.status_code, landed["Location"]) == (302, home)
    page = client.get(home)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Needs you now" in text
    assert 'aria-current="page" href="/"' in text


def test_the_service_owner_pages_link_to_nothing_that_404s(world: World) -> None:
    client = _client(world.people[Role.SERVICE_OWNER])
    for url in ("/cio", "/ciso", "/me", "/acceptances"):
        text = client.get(url).content.decode()
        assert f'/acceptances/{world.bank_ra.pk}"' not in text, url
    assert client.get(f"/acceptances/{world.shop_ra.pk}").status_code == 200
    assert client.get(f"/acceptances/{world.bank_ra.pk}").status_code == 404


def test_the_navigation_counts_what_needs_the_cio(world: World) -> None:
    client = _client(world.people[Role.CIO])
    text = client.get("/findings").content.decode()
    assert '<span class="badge" title="2 thing(s) need you">2' in text


def test_a_service_owner_reads_the_audit_and_imports_of_their_services_only(world: World) -> None:
    from detente.audit.models import AuditEvent
    from detente.findings.models import ScanImport

    client = _client(world.people[Role.SERVICE_OWNER])
    shop_scan = ScanImport.objects.get(service=world.shop)
    bank_scan = ScanImport.objects.get(service=world.bank)
    assert client.get(f"/imports/{shop_scan.pk}").status_code == 200
    assert client.get(f"/imports/{bank_scan.pk}").status_code == 404
    shown = client.get("/audit").content.decode()
    bank_events = AuditEvent.objects.filter(
        subject_type="acceptance", subject_id=str(world.bank_ra.pk)
    )
    assert bank_events.exists()
    assert all(f"<td>{e.seq}</td>" not in shown for e in bank_events)
    shop_events = AuditEvent.objects.filter(
        subject_type="acceptance", subject_id=str(world.shop_ra.pk)
    )
    assert all(f"<td>{e.seq}</td>" in shown for e in shop_events)


def test_decision_options_are_numbered_from_one(world: World) -> None:
    from detente.decisions.models import DecisionRecord
    from detente.decisions.services import decision_create

    record = decision_create(
        actor=world.people[Role.CISO], title="Patch now or later", pressure_point="patching",
        question="Now or after the freeze?",
        options=[{"title": "Now", "business_benefit": "Closed today", "facts": ["KEV"]},
                 {"title": "Later", "business_benefit": "No outage", "facts": ["Freeze"]}],
    )  # fmt: skip
    client = _client(world.people[Role.CIO])
    assert "<ol>" in client.get(f"/decisions/{record.pk}").content.decode()
    client.post(
        f"/decisions/{record.pk}",
        {
            "decision": "Later, behind the WAF.",
            "chosen_option": "2",
            "ciso_followed": "no",
            "why_blank": "decided in the change board; the minutes hold the rest",
        },
    )
    record.refresh_from_db()
    assert record.chosen_option == 1  # the second option, stored as index 1
    assert isinstance(record, DecisionRecord)


def test_the_request_form_shows_and_enforces_the_latest_date_policy_allows(world: World) -> None:
    finding = Finding.objects.get(cve="CVE-2024-7000")
    html = _client(world.people[Role.IT_LEAD]).get(f"/acceptances/new?finding={finding.pk}")
    text = html.content.decode()
    latest = (clock.today() + dt.timedelta(days=7)).isoformat()
    assert f'max="{latest}"' in text
    assert f"until {latest} at the latest (7 days)" in text
