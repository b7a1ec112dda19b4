"""An organisation with two services, change windows and open findings in several classes."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import pytest

from detente.core import clock
from detente.findings.models import Finding, Status
from detente.inventory.models import Asset, BusinessService
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert

# A Monday. Windows below are Saturdays; the first is 2026-11-07.
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
_serial = itertools.count(1)


@dataclass
class Org:
    people: dict[str, Person]
    shop: BusinessService
    billing: BusinessService


@pytest.fixture
def org(db: None) -> Org:
    clock.set_now(NOW)
    people = {
        role.value: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    shop = service_upsert(slug="shop", name="Shop", owner=people["service_owner"])
    billing = service_upsert(slug="billing", name="Billing")
    return Org(people=people, shop=shop, billing=billing)


def asset(service: BusinessService | None, kind: str = "image", name: str = "") -> Asset:
    n = next(_serial)
    return Asset.objects.create(
        kind=kind, identifier=name or f"{kind}-{n}", name=name or f"{kind}-{n}", service=service,
        publicly_exposed=True,
    )  # fmt: skip


def finding(
    on: Asset,
    *,
    days: int,
    cls: str | None = None,
    component: str | None = "openssl",
    kev: bool = False,
    epss: float | None = None,
    exposed: bool = True,
    status: str = Status.OPEN,
) -> Finding:
    n = next(_serial)
    return Finding.objects.create(
        fingerprint=f"fp{n:030d}", asset=on, scanner="trivy", vuln_id=f"CVE-2026-{n:05d}",
        cve=f"CVE-2026-{n:05d}", title="flaw", severity="high", component=component,
        component_version="1.0", kev=kev, epss=epss, exposed=exposed, status=status,
        first_seen=NOW, last_seen=NOW, deadline=NOW + dt.timedelta(days=days),
        deadline_class=cls or f"{days}d", state_hash="x",
    )  # fmt: skip
