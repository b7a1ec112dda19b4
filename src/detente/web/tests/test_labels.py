"""People read labels, not keys: the filters, every audit verb the code writes, and pages that
used to show keys and Python values (the audit log, an acceptance, an import)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from detente.acceptances.models import ScopeKind
from detente.acceptances.services import acceptance_request
from detente.access.testing import signed_in_client
from detente.audit.labels import EVENT_LABELS, event_label, subject_label
from detente.core import clock
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding, ScanImport
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json
from detente.inventory.services import service_upsert
from detente.people.models import Role
from detente.people.services import person_upsert
from detente.web.templatetags import labels

SRC = Path(__file__).resolve().parents[2]


def test_filters_read_as_people_read() -> None:
    assert labels.span(dt.timedelta(seconds=4.074413)) == "4 s"
    assert labels.span(dt.timedelta(hours=1, minutes=20)) == "1 h 20 min"
    assert labels.ms_span(4074) == "4 s"
    assert labels.ms_span(850) == "850 ms"
    assert labels.role_labels(["ciso", "cio", "it_lead"]) == "CISO, CIO, IT lead"
    assert labels.remedy_label("emergency_change") == "Emergency change"
    assert labels.clock_state("met") == "filed"
    assert labels.clock_state("pending") == "running"
    assert event_label("acceptance.approved") == "Deferral approved"
    assert event_label("billing.invoice_sent") == "Billing: invoice sent"  # an unknown verb
    assert subject_label("acceptance", "12") == "RA-12"
    assert subject_label("gate_override", "3") == "gate override 3"


def test_every_audit_verb_the_code_writes_has_a_label() -> None:
    written = set()
    for path in SRC.rglob("*.py"):
        if "tests" in path.parts:
            continue
        written |= set(re.findall(r'verb="([a-z_.]+)"', path.read_text(encoding="utf-8")))
    assert len(written) > 40  # the scan found the verbs
    assert sorted(written - set(EVENT_LABELS)) == []


@pytest.mark.django_db
def test_pages_show_labels_not_keys(tmp_path: Path) -> None:
    clock.set_now(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC))
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in (Role.IT_LEAD, Role.CISO, Role.CIO, Role.AUDITOR)
    }
    shop = service_upsert(slug="shop", name="Shop")
    report = write_json(
        tmp_path / "shop.json",
        trivy_report([trivy_vuln("CVE-2024-7000")], artifact="registry.example/shop:1"),
    )
    scan_import(paths=[report], options=ImportOptions(service=shop))
    finding = Finding.objects.get()
    acceptance = acceptance_request(
        actor=people[Role.IT_LEAD], title="Defer openssl", scope=ScopeKind.FINDINGS,
        finding_ids=[finding.pk], justification="Next release.", compensating_controls="WAF.",
        until=clock.today() + dt.timedelta(days=3),
    )  # fmt: skip
    auditor = signed_in_client(people[Role.AUDITOR])
    audit = auditor.get("/audit").content.decode()
    assert "<td>Deferral requested</td>" in audit
    assert f"<td>RA-{acceptance.pk}</td>" in audit
    assert "<td>Scan imported</td>" in audit
    assert "acceptance.requested" not in audit
    page = auditor.get(f"/acceptances/{acceptance.pk}").content.decode()
    signers = page.split("Signers policy requires</dt><dd>", 1)[1].split("</dd>", 1)[0]
    names = signers.split(" — ")[0].split(", ")
    assert names
    assert set(names) <= {str(r.label) for r in Role}  # names, not keys like "it_lead"
    assert re.search(r"<dt>Until</dt><dd>\d{4}-\d{2}-\d{2} \(ends", page)
    assert '<td class="finding-status">Open</td>' in page
    scan = ScanImport.objects.get()
    took = auditor.get(f"/imports/{scan.pk}").content.decode()
    assert re.search(r"<dt>Took</dt><dd>(\d+ ms|\d+ s|\d+ min)</dd>", took)


@pytest.mark.django_db
def test_the_navigation_marks_the_section_of_every_app_s_pages() -> None:
    clock.set_now(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC))
    ciso = signed_in_client(person_upsert(name="CISO", email="ciso@example.org", role=Role.CISO))
    for url, section in (
        ("/apis", "APIs"), ("/initiatives/", "Initiatives"), ("/gate/", "Gate"),
        ("/org/people", "Organisation"), ("/org/services", "Organisation"),
        ("/meetings/", "Meetings"), ("/findings", "Findings"),
    ):  # fmt: skip
        page = ciso.get(url)
        assert page.status_code == 200, url
        current = re.findall(
            r'<a aria-current="page" href="[^"]*">([^<]*)</a>', page.content.decode()
        )
        assert current == [section], url
