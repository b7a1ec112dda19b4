"""/api/org: list, edit through the organisation apply, deactivate; refusals change nothing."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from detente.api.tests.conftest import World
from detente.audit.models import AuditEvent
from detente.inventory.models import Asset, BusinessService


def _call(client: Client, method: str, url: str, token: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    if method == "get":
        response = client.get(url, headers=headers)
    else:
        response = client.post(
            url, data=json.dumps(body or {}), content_type="application/json", headers=headers
        )
    return response.status_code, (response.json() if response.content else None)


EDIT = {
    "version": 1,
    "services": [
        {"slug": "shop", "name": "Shop", "owner": "service_owner@example.org",
         "criticality": "critical", "internet_facing": True},
    ],
}  # fmt: skip


def test_services_are_listed_and_edited_through_apply(client: Client, world: World) -> None:
    status, services = _call(client, "get", "/api/org/services", world.tokens["auditor"])
    assert status == 200
    assert [(s["slug"], s["criticality"], s["owner"]) for s in services] == [
        ("other", "medium", "other.owner@example.org"),
        ("shop", "medium", "service_owner@example.org"),
    ]

    status, plan = _call(client, "post", "/api/org/apply", world.tokens["cio"], EDIT)

    assert status == 200
    assert plan["applied"] is True
    assert plan["changes"] == [
        {"kind": "service", "key": "shop", "action": "changed",
         "fields": {"criticality": ["medium", "critical"], "internet_facing": [False, True]}},
    ]  # fmt: skip
    shop = BusinessService.objects.get(slug="shop")
    assert (shop.criticality, shop.internet_facing) == ("critical", True)
    assert BusinessService.objects.get(slug="other").active is True  # keep_missing by default
    event = AuditEvent.objects.get(verb="service.updated", subject_id=str(shop.pk))
    assert event.actor == world.people["cio"]


def test_an_engineer_may_see_the_diff_but_not_apply_it(client: Client, world: World) -> None:
    events = AuditEvent.objects.count()

    status, plan = _call(
        client, "post", "/api/org/apply?dry_run=true", world.tokens["engineer"], EDIT
    )
    assert (status, plan["applied"], len(plan["changes"])) == (200, False, 1)
    status, error = _call(client, "post", "/api/org/apply", world.tokens["engineer"], EDIT)

    assert status == 403
    assert error["error"]["message"].startswith("Engineer may not change the organisation")
    assert BusinessService.objects.get(slug="shop").criticality == "medium"
    assert AuditEvent.objects.count() == events


def test_a_bad_document_names_the_entry_and_field(client: Client, world: World) -> None:
    body = {"version": 1, "services": [{"slug": "shop", "name": "Shop", "owner": "nobody@x.org"}]}

    status, error = _call(client, "post", "/api/org/apply", world.tokens["ciso"], body)

    assert status == 422
    assert error["error"]["record"] == "services[0] (shop)"
    assert error["error"]["field"] == "owner"
    assert BusinessService.objects.get(slug="shop").owner == world.people["service_owner"]


def test_an_asset_is_deactivated_not_deleted(client: Client, world: World) -> None:
    asset = Asset.objects.filter(service=world.shop).first()
    assert asset is not None

    status, _ = _call(
        client, "post", f"/api/org/assets/{asset.pk}/deactivate", world.tokens["it_lead"]
    )
    again, error = _call(
        client, "post", f"/api/org/assets/{asset.pk}/deactivate", world.tokens["it_lead"]
    )

    assert status == 200
    asset.refresh_from_db()
    assert asset.active is False
    assert again == 409
    assert error["error"]["message"] == f"asset {asset.pk} is already inactive"
    status, listed = _call(client, "get", "/api/org/assets?inactive=true", world.tokens["cio"])
    assert [a["active"] for a in listed if a["id"] == asset.pk] == [False]
    status, listed = _call(client, "get", "/api/org/assets", world.tokens["cio"])
    assert asset.pk not in [a["id"] for a in listed]
