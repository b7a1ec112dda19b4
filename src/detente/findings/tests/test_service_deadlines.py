"""Deadlines keyed on the business service (``deadlines.by_service``): criticality and internet
exposure cap the class the main rule decided, at import and on re-evaluation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from detente.core import clock
from detente.core.errors import InputError
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding
from detente.findings.services import findings_reevaluate, scan_import
from detente.findings.tests.factories import LOCAL_LOW, trivy_report, trivy_vuln, write_json
from detente.inventory.models import BusinessService
from detente.policy.document import pack_text, parse_policy
from detente.policy.services import policy_activate

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _policy_with(rules: list[dict[str, object]]) -> str:
    document = yaml.safe_load(pack_text("bod-26-04"))
    document["deadlines"]["by_service"] = rules
    return yaml.safe_dump(document, sort_keys=False)


def test_a_critical_internet_facing_service_gets_the_shorter_deadline(tmp_path: Path) -> None:
    clock.set_now(NOW)
    policy_activate(
        text=_policy_with(
            [{"criticality": ["critical"], "internet_facing": True, "at_most": "14d"}]
        ),
        source="test",
    )
    shop = BusinessService.objects.create(
        slug="shop", name="Shop", criticality="critical", internet_facing=True
    )
    path = write_json(
        tmp_path / "app.json",
        trivy_report([trivy_vuln("CVE-2024-9999", pkg="zlib", severity="LOW", vector=LOCAL_LOW)]),
    )

    scan_import(paths=[path], options=ImportOptions(service=shop))

    finding = Finding.objects.get()
    # BOD 26-04 row 2 says 60 days; the service rule caps it at 14.
    assert (finding.reason["rule"], finding.deadline_class) == ("BOD 26-04 row 2", "14d")
    assert finding.deadline == NOW + dt.timedelta(days=14)
    assert finding.reason["service_rule"] == (
        "by_service[0]: critical service, internet-facing: at most 14 days"
    )

    BusinessService.objects.filter(pk=shop.pk).update(criticality="medium")
    assert findings_reevaluate().changed == 1
    finding.refresh_from_db()
    assert (finding.deadline_class, finding.deadline) == ("60d", NOW + dt.timedelta(days=60))
    assert "service_rule" not in finding.reason


def test_a_rule_never_lengthens_a_deadline_and_needs_a_service(tmp_path: Path) -> None:
    clock.set_now(NOW)
    policy_activate(text=_policy_with([{"at_most": "180d"}]), source="test")
    path = write_json(
        tmp_path / "app.json",
        trivy_report([trivy_vuln("CVE-2024-9999", pkg="zlib", severity="LOW", vector=LOCAL_LOW)]),
    )

    scan_import(paths=[path], options=ImportOptions())

    finding = Finding.objects.get()
    assert finding.deadline_class == "60d"
    assert "service_rule" not in finding.reason


def test_a_rule_naming_an_unknown_class_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        parse_policy(
            _policy_with([{"criticality": ["critical"], "at_most": "2d"}]), source="p.yaml"
        )

    assert str(caught.value) == (
        "p.yaml, record deadlines.by_service[0], field 'at_most': unknown deadline class '2d'"
    )
