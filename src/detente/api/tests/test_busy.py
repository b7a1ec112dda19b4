"""A write that gave up waiting for the database lock is a JSON 503 with Retry-After."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
from django.db import OperationalError
from django.test import Client

from detente.access import services as access
from detente.api.routes import other
from detente.people.models import Person, Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db


def _locked(*args: Any, **kwargs: Any) -> NoReturn:
    raise OperationalError("database is locked")


@pytest.fixture
def eve() -> Person:
    return person_upsert(name="Eve", email="eve@example.org", role=Role.CISO)


def test_the_api_answers_503_json_with_retry_after(
    eve: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, raw = access.token_issue(actor=eve, person=eve, name="ci", scope="read", days=30)
    monkeypatch.setattr(other, "person_out", _locked)
    response = Client(raise_request_exception=False).get(
        "/api/people/me", headers={"Authorization": f"Bearer {raw}"}
    )
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.json()["error"]["code"] == "busy"
