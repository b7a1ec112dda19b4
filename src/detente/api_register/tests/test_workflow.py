"""Register → versions → audit findings → pen test → promotion gate, through the services."""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from detente.acceptances.models import RiskAcceptance
from detente.api_register.models import Api, ApiVersion, Outcome, PenTest, Promotion
from detente.api_register.selectors import api_detail, api_rows, promotion_check
from detente.api_register.services import api_add, api_promote, api_update, pentest_record
from detente.api_register.tests.test_rules import HARDENED
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.findings.models import Finding, Status
from detente.inventory.models import Asset, BusinessService
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.policy.document import pack_text
from detente.policy.services import policy_activate

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@dataclass
class Org:
    people: dict[str, Person]
    service: BusinessService

    def __getitem__(self, role: str) -> Person:
        return self.people[role]


@pytest.fixture
def org(db: None) -> Org:
    clock.set_now(NOW)
    people = {
        role.value: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    return Org(people, service_upsert(slug="shop", name="Shop"))


def _bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def _weak() -> dict[str, Any]:
    """The hardened spec with one unsecured write (DET-API2-002, high)."""
    doc = copy.deepcopy(HARDENED)
    doc["paths"]["/items/{itemId}"]["put"]["security"] = []
    return doc


def _add(org: Org, doc: dict[str, Any] | None = None, name: str = "items") -> Api:
    return api_add(
        actor=org["engineer"], name=name, service=org.service, spec=_bytes(doc or _weak()),
        file_name="items.json", owners=[org["service_owner"]],
        security_contact=org["security_lead"],
    )  # fmt: skip


def _open(api: Api) -> list[tuple[str, str]]:
    return sorted(
        Finding.objects.filter(asset=api.asset, status=Status.OPEN).values_list(
            "vuln_id", "severity"
        )
    )


def test_add_stores_version_one_and_imports_the_audit_as_findings(org: Org) -> None:
    # when an engineer registers an API with a spec that has one unsecured write
    api = _add(org)
    # then it sits at the first stage with version 1, its digest and its audit
    version = ApiVersion.objects.get()
    assert (api.stage, version.number, version.operations) == ("internal", 1, 2)
    assert version.audit_counts == {"high": 1}
    assert api.asset.kind == "api"
    assert api.asset.identifier == "api:items"
    assert api.asset.publicly_exposed is False
    # and the result is a finding on the API's asset, scanner detente-api
    finding = Finding.objects.get()
    assert (finding.scanner, finding.vuln_id, finding.severity, finding.cwe) == (
        "detente-api", "DET-API2-002", "high", 306,
    )  # fmt: skip
    assert finding.title == (
        "Write operation without security: PUT /items/{itemId} has no security requirement "
        "in the contract"
    )
    verbs = list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))
    assert verbs[-4:] == ["api.registered", "api.version_added", "scan.imported", "api.audited"]


def test_a_new_version_closes_what_it_fixed_and_an_identical_one_is_no_version(org: Org) -> None:
    api = _add(org)
    # when the fixed spec is uploaded
    version, changed = api_update(
        actor=org["engineer"], api=api, spec=_bytes(HARDENED), file_name="items.json"
    )
    # then version 2 exists and the finding is fixed
    assert (version.number, changed) == (2, True)
    assert Finding.objects.get().status == Status.FIXED
    # when the same bytes come again, then nothing is stored
    again, changed = api_update(
        actor=org["engineer"], api=api, spec=_bytes(HARDENED), file_name="other.json"
    )
    assert (again.pk, changed) == (version.pk, False)
    assert ApiVersion.objects.count() == 2


def test_refusals_write_nothing(org: Org) -> None:
    # an auditor may not register; a bad spec is refused before anything is written
    with pytest.raises(PermissionDenied):
        api_add(
            actor=org["auditor"], name="x", service=org.service, spec=_bytes(HARDENED),
            file_name="x.json",
        )  # fmt: skip
    with pytest.raises(InputError, match=r"^bad\.yaml, record document: not valid YAML"):
        api_add(
            actor=org["engineer"], name="x", service=org.service, spec=b"a: [",
            file_name="bad.yaml",
        )  # fmt: skip
    with pytest.raises(InputError, match="field 'name'"):
        api_add(
            actor=org["engineer"], name="bad name", service=org.service,
            spec=_bytes(HARDENED), file_name="x",
        )  # fmt: skip
    assert (Api.objects.count(), Asset.objects.count(), Finding.objects.count()) == (0, 0, 0)
    assert not AuditEvent.objects.filter(verb__startswith="api.").exists()
    _add(org)
    with pytest.raises(RuleViolation, match="already registered"):
        _add(org)
    assert Api.objects.count() == 1


def _pentest(org: Org, api: Api, version: ApiVersion, ended: dt.date, **extra: Any) -> PenTest:
    return pentest_record(
        actor=org["security_lead"], api=api, version=version,
        started_on=ended - dt.timedelta(days=5), ended_on=ended, tester="ACME Security",
        tester_kind="firm", method="grey-box", **extra,
    )  # fmt: skip


def test_pentest_records_report_and_imports_its_findings(org: Org, tmp_path: Path) -> None:
    api = _add(org, HARDENED)
    version = api.current
    assert version is not None
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4 report")
    found = tmp_path / "pentest.json"
    found.write_text(json.dumps({"findings": [
        {"title": "BOLA on GET /items/{itemId}", "severity": "Critical",
         "unique_id_from_tool": "PT-1"},
    ]}))  # fmt: skip
    # an engineer may not record a pen test
    with pytest.raises(PermissionDenied):
        pentest_record(
            actor=org["engineer"], api=api, version=version, started_on=NOW.date(),
            ended_on=NOW.date(), tester="me", tester_kind="internal",
        )  # fmt: skip
    with pytest.raises(InputError, match="not operations of v1: GET /nope"):
        _pentest(org, api, version, NOW.date(), scope=["GET /nope"])
    assert PenTest.objects.count() == 0
    # when the security lead records one with its report and findings
    test = _pentest(
        org, api, version, NOW.date(), scope=["GET /items/{itemId}"], report=report,
        findings_file=found, findings_format="generic",
    )  # fmt: skip
    # then the report is kept by digest and the finding is on the API's asset
    assert test.spec_digest == version.digest
    assert test.report_name == "report.pdf"
    assert Path(test.report_path).read_bytes() == b"%PDF-1.4 report"
    assert [s for _, s in _open(api)] == ["critical"]
    assert Finding.objects.get(status=Status.OPEN).title == "BOLA on GET /items/{itemId}"
    assert test.scan is not None
    assert test.scan.new == 1


def test_promotion_refused_then_allowed_by_the_gate(org: Org) -> None:
    api = _add(org)
    digest = ApiVersion.objects.get().digest
    # when the owner asks for partner with no pen test and an open high finding
    with pytest.raises(RuleViolation) as caught:
        api_promote(actor=org["service_owner"], api=api, to_stage="partner")
    # then it is refused with what is missing, the refusal is recorded, the stage unchanged
    assert str(caught.value) == (
        f"items cannot go partner: a pen test of v1 (sha256 {digest[:12]}) within "
        "365 days: no pen test recorded; 1 high open finding(s) without an approved acceptance"
    )
    api.refresh_from_db()
    assert api.stage == "internal"
    assert list(Promotion.objects.values_list("outcome", flat=True)) == [Outcome.REFUSED]
    # when the fix lands and the fixed version is pen-tested
    version, _ = api_update(
        actor=org["engineer"], api=api, spec=_bytes(HARDENED), file_name="i.json"
    )
    _pentest(org, api, version, NOW.date() - dt.timedelta(days=10))
    # then the promotion passes, and the asset counts as exposed
    result = api_promote(actor=org["service_owner"], api=api, to_stage="partner")
    api.refresh_from_db()
    assert (result.promotion.outcome, api.stage, result.check.missing) == (
        "promoted",
        "partner",
        [],
    )
    assert Asset.objects.get(pk=api.asset_id).publicly_exposed is True
    # and going back down needs no gate
    down = api_promote(actor=org["cio"], api=api, to_stage="internal")
    assert down.promotion.outcome == Outcome.DEMOTED


def test_an_older_pen_test_counts_only_without_material_drift(org: Org) -> None:
    api = _add(org, HARDENED)
    first = api.current
    assert first is not None
    test = _pentest(org, api, first, NOW.date())
    # a description change is not material: the test still covers the spec
    cosmetic = copy.deepcopy(HARDENED)
    cosmetic["info"]["description"] = "now documented"
    api_update(actor=org["engineer"], api=api, spec=_bytes(cosmetic), file_name="i.json")
    assert promotion_check(api, "public").missing == []
    # a new operation is: the test is stale
    grown = copy.deepcopy(cosmetic)
    grown["paths"]["/items"] = {"get": copy.deepcopy(grown["paths"]["/items/{itemId}"]["get"])}
    api_update(actor=org["engineer"], api=api, spec=_bytes(grown), file_name="i.json")
    (missing,) = promotion_check(api, "public").missing
    assert missing.endswith(f"pen test {test.pk} tested v1; since: new operations GET /items")
    assert api_rows()[0]["test"] == "stale"


def test_an_expired_pen_test_does_not_count(org: Org) -> None:
    api = _add(org, HARDENED)
    assert api.current is not None
    _pentest(org, api, api.current, NOW.date() - dt.timedelta(days=181))
    (missing,) = promotion_check(api, "public").missing
    assert "last pen test ended 2026-05-05, over 180 days ago" in missing
    assert promotion_check(api, "partner").missing == []


def test_forcing_needs_the_policy_role_a_reason_and_not_an_owner(org: Org) -> None:
    api = _add(org)
    with pytest.raises(PermissionDenied, match="only ciso may force"):
        api_promote(actor=org["cio"], api=api, to_stage="public", force=True, reason="launch")
    with pytest.raises(InputError, match="give the reason"):
        api_promote(actor=org["ciso"], api=api, to_stage="public", force=True)
    api.owners.add(org["ciso"])
    with pytest.raises(PermissionDenied, match="owner of the API cannot force"):
        api_promote(actor=org["ciso"], api=api, to_stage="public", force=True, reason="x")
    assert Promotion.objects.count() == 0
    api.owners.remove(org["ciso"])
    result = api_promote(
        actor=org["ciso"], api=api, to_stage="public", force=True, reason="board decision"
    )
    api.refresh_from_db()
    assert (result.promotion.outcome, api.stage) == ("forced", "public")
    assert len(result.promotion.missing) == 2
    assert api_detail(api)["promotions"][0]["reason"] == "board decision"


def test_policy_can_turn_a_refusal_into_an_acceptance_request(org: Org) -> None:
    raw = yaml.safe_load(pack_text("bod-26-04"))
    raw["api_register"]["on_refusal"] = "request_acceptance"
    raw["api_register"]["gates"]["partner"]["pentest_required"] = False
    policy_activate(text=yaml.safe_dump(raw), source="test")
    api = _add(org)
    with pytest.raises(
        RuleViolation, match=r"items stays internal: .*risk acceptance RA-\d+ requested"
    ):
        api_promote(
            actor=org["service_owner"], api=api, to_stage="partner", reason="partner launch"
        )
    acceptance = RiskAcceptance.objects.get()
    assert acceptance.title == "Promote API items to partner"
    assert acceptance.items.count() == 1
    promotion = Promotion.objects.get()
    assert (promotion.outcome, promotion.acceptance_id) == ("acceptance_requested", acceptance.pk)


def test_every_stage_move_up_is_gated_and_down_is_not(org: Org) -> None:
    # given a clean API without a pen test: every (from, to) pair of the default stages
    stages = ["internal", "partner", "public"]
    api = _add(org, HARDENED)
    for start in stages:
        for target in stages:
            if start == target:
                continue
            Api.objects.filter(pk=api.pk).update(stage=start)
            api.refresh_from_db()
            up = stages.index(target) > stages.index(start)
            if up:
                # with no pen test, an upward move is refused and the stage stays
                with pytest.raises(RuleViolation):
                    api_promote(actor=org["cio"], api=api, to_stage=target)
                api.refresh_from_db()
                assert api.stage == start
            else:
                result = api_promote(actor=org["cio"], api=api, to_stage=target)
                assert result.promotion.outcome == Outcome.DEMOTED
    with pytest.raises(InputError, match="stages are internal, partner, public"):
        api_promote(actor=org["cio"], api=api, to_stage="galaxy")
    with pytest.raises(PermissionDenied):
        api_promote(actor=org["engineer"], api=api, to_stage="internal")
