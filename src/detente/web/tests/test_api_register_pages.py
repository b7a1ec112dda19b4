"""API register pages through Django's test client: the register, an API's page, the promotion
form (refused with a message, then forced), and the block on both leaders' views."""

from __future__ import annotations

import copy
import json

from django.test import Client

from detente.api_register.models import Api, Promotion
from detente.api_register.services import api_add, api_update
from detente.api_register.tests.test_rules import HARDENED
from detente.api_register.tests.test_workflow import Org, org  # noqa: F401 - the fixture
from detente.web.tests.test_incident_pages import signed_in


def _registered(org: Org) -> Api:  # noqa: F811
    weak = copy.deepcopy(HARDENED)
    weak["paths"]["/items/{itemId}"]["put"]["security"] = []
    api = api_add(
        actor=org["engineer"], name="items", service=org.service,
        spec=json.dumps(weak).encode(), file_name="items.json", owners=[org["service_owner"]],
    )  # fmt: skip
    api_update(
        actor=org["engineer"], api=api, spec=json.dumps(HARDENED).encode(), file_name="i.json"
    )
    return api


def test_register_and_api_pages_show_versions_diff_and_gate(org: Org) -> None:  # noqa: F811
    _registered(org)
    client = signed_in(org["auditor"])
    page = client.get("/apis").content.decode()
    assert '<a href="/apis/items">items</a>' in page
    assert '<span class="status none">none</span>' in page
    page = client.get("/apis/items").content.decode()
    assert "security_changed: PUT /items/{itemId}" in page
    assert "Material for a pen test: <strong>yes</strong>" in page
    assert "To <strong>partner</strong>: missing — a pen test of v2" in page
    assert "/apis/items/promote" not in page  # an auditor only reads
    assert client.get("/apis/nope").status_code == 404
    for view in ("/cio", "/ciso"):
        leader = signed_in(org["cio"] if view == "/cio" else org["ciso"])
        assert "APIs waiting for a pen test or promotion" in leader.get(view).content.decode()


def test_promotion_form_refuses_with_a_message_then_forces(org: Org) -> None:  # noqa: F811
    api = _registered(org)
    owner: Client = signed_in(org["service_owner"])
    response = owner.post("/apis/items/promote", {"to": "partner"}, follow=True)
    assert "items cannot go partner: a pen test of v2" in response.content.decode()
    api.refresh_from_db()
    assert api.stage == "internal"
    ciso = signed_in(org["ciso"])
    response = ciso.post(
        "/apis/items/promote", {"to": "partner", "force": "1", "reason": "pilot"}, follow=True
    )
    api.refresh_from_db()
    assert api.stage == "partner"
    assert list(Promotion.objects.order_by("id").values_list("outcome", flat=True)) == [
        "refused", "forced",
    ]  # fmt: skip
