"""Request bodies must be JSON objects: ``[null, null]`` used to be read as an empty object and
answered 200; now it is a 422 in the one error model and nothing changes."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from detente.api.tests.conftest import World
from detente.api.tests.test_incidents_api import NOW, _declare
from detente.audit.models import AuditEvent
from detente.core import clock


@pytest.mark.parametrize("body", ["[null,null]", "[]", "null", "3", '"text"', "[{}]"])
def test_a_body_that_is_not_an_object_is_refused(client: Client, world: World, body: str) -> None:
    clock.set_now(NOW)
    pk = _declare(client, world)["id"]
    events = AuditEvent.objects.count()
    response = client.post(
        f"/api/incidents/{pk}/facts", data=body, content_type="application/json",
        headers={"Authorization": f"Bearer {world.tokens['security_lead']}"},
    )  # fmt: skip
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "bad_input"
    assert AuditEvent.objects.count() == events


def test_an_object_body_still_works(client: Client, world: World) -> None:
    clock.set_now(NOW)
    pk = _declare(client, world)["id"]
    response = client.post(
        f"/api/incidents/{pk}/facts",
        data=json.dumps({"personal_data": True}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {world.tokens['security_lead']}"},
    )
    assert response.status_code == 200, response.json()
