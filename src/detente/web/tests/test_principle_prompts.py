"""Every acceptance request and gate override shows which of the five principles it still lacks,
with the prompt, on its page and in the API (``principles_missing``)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.test import Client

from detente.acceptances.models import ScopeKind
from detente.acceptances.services import acceptance_request
from detente.access.services import token_issue
from detente.access.testing import signed_in_client
from detente.core import clock
from detente.decisions.principles import PRINCIPLES, missing_of_request
from detente.decisions.services import decision_create
from detente.findings.importer import ImportOptions
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json
from detente.gates.services import gate_override
from detente.initiatives.tests.conftest import Org, build_org
from detente.people.models import Person
from detente.policy.services import policy_ensure_default
from detente.reports.tests.test_needs_leaders import _blocked_run

PROMPT = {p.key: p.prompt for p in PRINCIPLES}


@pytest.fixture
def org(db: None) -> Org:
    built = build_org()
    policy_ensure_default()
    return built


def _api(person: Person, url: str) -> dict[str, object]:
    token = token_issue(actor=person, person=person, name="t", scope="read")[1]
    response = Client().get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert isinstance(data, dict)
    return data


def _text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html.decode()))


def test_the_rule_for_a_request_on_a_decision_record() -> None:
    # no record: the justification and the findings stand for benefit and facts
    keys = [p.key for p in missing_of_request(None, business_benefit="Launch", has_facts=True)]
    assert keys == ["company_first", "informed", "win_win"]
    keys = [p.key for p in missing_of_request(None, business_benefit=" ", has_facts=False)]
    assert keys == [p.key for p in PRINCIPLES]

    class Record:
        company_first = "Revenue"
        options = [{"title": "Defer", "business_benefit": "", "facts": []}]
        informed = ["Board"]
        win_win = ""

    keys = [p.key for p in missing_of_request(Record(), business_benefit="", has_facts=True)]
    assert keys == ["business_benefit", "win_win"]


def test_an_acceptance_request_shows_what_it_lacks_on_its_page_and_in_the_api(
    org: Org, tmp_path: Path
) -> None:
    report = write_json(
        tmp_path / "shop.json", trivy_report([trivy_vuln("CVE-2024-3094", pkg="xz-utils")])
    )
    scan_import(paths=[report], options=ImportOptions(service=org.service))
    record = decision_create(
        actor=org.lead,
        title="Defer xz on the shop",
        pressure_point="patching",
        question="Defer the xz fix past the launch?",
        options=[
            {"title": "Defer", "business_benefit": "Launch on time", "facts": ["Not exposed"]}
        ],
        company_first="The launch funds the quarter",
    )
    bare = acceptance_request(
        actor=org.lead, title="xz waits for the launch", scope=ScopeKind.CVE,
        cve="CVE-2024-3094", service=org.service, justification="Launch on time",
        until=clock.today() + dt.timedelta(days=5),
    )  # fmt: skip
    linked = acceptance_request(
        actor=org.lead, title="xz on the shop", scope=ScopeKind.CVE, cve="CVE-2024-3094",
        service=org.service, justification="Launch on time", decision=record,
        until=clock.today() + dt.timedelta(days=5),
    )  # fmt: skip
    page = _text(signed_in_client(org.ciso).get(f"/acceptances/{bare.pk}").content)
    assert "Principles this request still lacks" in page
    for key in ("company_first", "informed", "win_win"):
        assert PROMPT[key] in page
    assert PROMPT["business_benefit"] not in page
    assert _api(org.ciso, f"/api/acceptances/{bare.pk}")["principles_missing"] == [
        "company_first", "informed", "win_win",
    ]  # fmt: skip
    # with a decision record: only what the record leaves blank
    page = _text(signed_in_client(org.ciso).get(f"/acceptances/{linked.pk}").content)
    assert PROMPT["win_win"] in page
    assert PROMPT["company_first"] not in page
    assert _api(org.ciso, f"/api/acceptances/{linked.pk}")["principles_missing"] == [
        "informed", "win_win",
    ]  # fmt: skip


def test_a_gate_override_shows_what_its_decision_lacks_on_the_gate_page_and_run(
    org: Org,
) -> None:
    run = _blocked_run(org)
    override = gate_override(run=run, actor=org.ciso, reason="Regulator deadline")
    page = signed_in_client(org.cio).get("/gate/").content.decode()
    section = re.search(rf'id="override-{override.pk}-principles">(.*?)</section>', page, re.S)
    assert section is not None
    text = _text(section.group(1).encode())
    assert f"GO-{override.pk}: what DR-{override.decision_id} still lacks" in text
    assert f"Win-win: {PROMPT['win_win']}" in text
    # the run was blocked without findings: the "hold" option has no fact behind it
    assert f"Fact-driven: {PROMPT['facts']}" in text
    assert "Company first" not in text  # the override's reason is its company-first case
    body = _api(org.cio, f"/api/gate/runs/{run.pk}")
    assert body["override"]["principles_missing"] == ["facts", "win_win"]  # type: ignore[index]
