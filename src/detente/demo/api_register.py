"""The demo's API register, built through the real services from the sample OpenAPI specs:

- ``museum`` (Redocly's OAS 3.1 example, on dev-platform): pen-tested, promoted to partner;
- ``vampi`` (VAmPI, intentionally vulnerable, on payments-api): pen-tested, its promotion to
  public refused (open high findings), then forced by the CISO for a pilot;
- ``crapi`` (OWASP crAPI, on online-banking): two versions (a drifted copy), waiting for a test.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from detente.api_register.models import Api, ApiVersion
from detente.api_register.services import api_add, api_promote, api_update, pentest_record
from detente.core import clock
from detente.core.errors import RuleViolation
from detente.inventory.models import BusinessService
from detente.people.models import Person

OPENAPI = "openapi"
SPECS = {
    "museum": "Redocly__museum-openapi-example__openapi.yaml",
    "vampi": "erev0s__VAmPI__openapi_specs__openapi3.yml",
    "crapi": "OWASP__crAPI__openapi-spec__crapi-openapi-spec.json",
}


def build_api_register(
    *,
    samples: Path,
    people: dict[str, Person],
    services: dict[str, BusinessService],
    progress: Callable[[str], None] = lambda _msg: None,
) -> None:
    if Api.objects.filter(name__in=SPECS).exists():
        return  # built before: the demo is rebuilt in place
    engineer = people["engineer@demo.detente"]
    lead = people["security.lead@demo.detente"]
    ciso = people["ciso@demo.detente"]
    folder = samples / OPENAPI
    today = clock.today()

    def add(name: str, service: str, owner: str) -> Api:
        api = api_add(
            actor=engineer, name=name, service=services[service],
            spec=(folder / SPECS[name]).read_bytes(), file_name=SPECS[name],
            owners=[people[owner]], security_contact=lead,
        )  # fmt: skip
        progress(f"registered API {name} ({SPECS[name]})")
        return api

    def current(api: Api) -> ApiVersion:
        version = api.current
        assert version is not None  # every registered API has its first version
        return version

    museum = add("museum", "dev-platform", "owner.platform@demo.detente")
    version = current(museum)
    pentest_record(
        actor=lead, api=museum, version=version,
        started_on=today - dt.timedelta(days=20), ended_on=today - dt.timedelta(days=14),
        tester="Northwind Security", tester_kind="firm", method="grey-box, OWASP WSTG",
    )  # fmt: skip
    api_promote(actor=people["it.lead@demo.detente"], api=museum, to_stage="partner")

    vampi = add("vampi", "payments-api", "owner.payments@demo.detente")
    pentest_record(
        actor=lead, api=vampi, version=current(vampi),
        started_on=today - dt.timedelta(days=10), ended_on=today - dt.timedelta(days=7),
        tester="internal red team", tester_kind="internal", method="black-box",
    )  # fmt: skip
    try:
        owner = people["owner.payments@demo.detente"]
        api_promote(actor=owner, api=vampi, to_stage="public")
    except RuleViolation as refused:
        progress(f"promotion refused: {refused}")
    api_promote(
        actor=ciso, api=vampi, to_stage="public", force=True,
        reason="pilot with two partners; fixes scheduled in the next release",
    )  # fmt: skip

    crapi = add("crapi", "online-banking", "owner.banking@demo.detente")
    grown = json.loads((folder / SPECS["crapi"]).read_bytes())
    grown["paths"]["/identity/api/v2/user/export"] = {
        "get": {"summary": "Export my data", "responses": {"200": {"description": "the export"}}}
    }
    api_update(
        actor=engineer, api=crapi, spec=json.dumps(grown).encode(), file_name="crapi-v2.json"
    )
    progress("API register: museum partner, vampi public (forced), crapi waiting for a pen test")
