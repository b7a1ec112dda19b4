"""VEX exports: valid documents that state exactly the accepted findings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from detente.acceptances.services import acceptances_expire
from detente.acceptances.tests.factories import NOW, approved, import_grype, org, rejected
from detente.acceptances.vex import _openvex_validator, vex_cyclonedx, vex_export, vex_openvex
from detente.core import clock
from detente.core.errors import InputError, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def accepted(samples: Path) -> tuple[int, int, int]:
    """RA approved for redis (CVE-2021-32626) and Django (GHSA…), one rejected for libc,
    one expired for the Info finding. Returns their ids."""
    clock.set_now(NOW)
    people = org()
    found = import_grype(samples)
    keeper = approved(people, found["CVE-2021-32626"] + found["GHSA-v6rh-hp5x-86rv"], days=20)
    no = rejected(people, found["CVE-2021-33574"])
    old = approved(people, found["CVE-2021-32626"], days=5)
    clock.set_now(NOW + dt.timedelta(days=6))
    assert acceptances_expire() == [old.pk]
    return keeper.pk, no.pk, old.pk


def test_cyclonedx_states_exactly_the_accepted_findings(accepted: tuple[int, int, int]) -> None:
    keeper, _, _ = accepted
    text = vex_cyclonedx()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    assert (doc["bomFormat"], doc["specVersion"]) == ("CycloneDX", "1.6")
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    assert set(vulns) == {"CVE-2021-32626", "GHSA-v6rh-hp5x-86rv"}
    redis = vulns["CVE-2021-32626"]
    assert redis["bom-ref"] == f"RA-{keeper}:CVE-2021-32626"
    assert redis["source"] == {
        "name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-32626"
    }  # fmt: skip
    assert redis["ratings"] == [
        {"score": 8.8, "severity": "high", "method": "CVSSv31",
         "vector": "AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}
    ]  # fmt: skip
    assert redis["analysis"]["state"] == "exploitable"
    assert redis["analysis"]["response"] == ["will_not_fix"]
    detail = redis["analysis"]["detail"]
    assert f"RA-{keeper}" in detail
    assert "until 2026-11-22T23:59:59Z" in detail
    assert "Justification: Quarter-end freeze on the payment service" in detail
    assert "Compensating controls: WAF rule 9410 blocks the vector" in detail
    (affected,) = redis["affects"]
    assert affected["versions"] == [{"version": "4.0.2", "status": "affected"}]
    components = {c["bom-ref"]: c for c in doc["components"]}
    assert components[affected["ref"]]["name"] == "redis"
    assert components[affected["ref"]]["purl"] == "pkg:generic/redis@4.0.2"
    django = vulns["GHSA-v6rh-hp5x-86rv"]
    assert django["source"]["name"] == "GITHUB"
    assert django["references"] == [
        {"id": "CVE-2021-44420", "source": {
            "name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-44420"}}
    ]  # fmt: skip
    # What Dependency-Track needs of each entry.
    for vuln in doc["vulnerabilities"]:
        assert vuln["id"]
        assert vuln["source"]["name"]
        assert vuln["affects"]
        assert vuln["analysis"]


def test_openvex_states_exactly_the_accepted_findings(accepted: tuple[int, int, int]) -> None:
    keeper, _, _ = accepted
    text = vex_openvex()
    doc = json.loads(text)
    assert list(_openvex_validator().iter_errors(doc)) == []
    assert doc["@context"] == "https://openvex.dev/ns/v0.2.0"
    assert doc["timestamp"] == "2026-11-08T09:00:00Z"
    assert doc["version"] == 1
    assert [s["vulnerability"]["name"] for s in doc["statements"]] == [
        "CVE-2021-32626", "GHSA-v6rh-hp5x-86rv",
    ]  # fmt: skip
    redis = doc["statements"][0]
    assert redis["status"] == "affected"
    assert redis["products"] == [
        {"@id": "urn:detente:asset:vulnerable-image:latest",
         "subcomponents": [{"@id": "pkg:generic/redis@4.0.2",
                            "identifiers": {"purl": "pkg:generic/redis@4.0.2"}}]}
    ]  # fmt: skip
    assert f"RA-{keeper}" in redis["action_statement"]
    assert "until 2026-11-22T23:59:59Z" in redis["action_statement"]
    assert doc["statements"][1]["vulnerability"]["aliases"] == ["CVE-2021-44420"]
    # Same content, same document id.
    assert json.loads(vex_openvex())["@id"] == doc["@id"]


def test_the_schema_rejects_an_affected_statement_without_action() -> None:
    doc: dict[str, Any] = {
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "urn:uuid:1", "author": "x",
        "timestamp": "2026-11-02T09:00:00Z", "version": 1,
        "statements": [{"vulnerability": {"name": "CVE-1"}, "status": "affected"}],
    }  # fmt: skip
    errors = list(_openvex_validator().iter_errors(doc))
    assert [e.message for e in errors] == ["'action_statement' is a required property"]


def test_rejected_and_expired_acceptances_are_not_exported(samples: Path) -> None:
    clock.set_now(NOW)
    people = org()
    found = import_grype(samples)
    rejected(people, found["CVE-2021-33574"])
    approved(people, found["CVE-2021-32626"], days=5)
    clock.set_now(NOW + dt.timedelta(days=6))
    # Past its end but not yet expired by the worker: already not exported.
    assert json.loads(vex_cyclonedx()).get("vulnerabilities", []) == []
    acceptances_expire()
    assert json.loads(vex_cyclonedx()).get("vulnerabilities", []) == []
    with pytest.raises(NotFound, match="no approved risk acceptance"):
        vex_openvex()


def test_unknown_format_is_refused() -> None:
    with pytest.raises(InputError, match="unknown format 'csaf'"):
        vex_export(fmt="csaf")
