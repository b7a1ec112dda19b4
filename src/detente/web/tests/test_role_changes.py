"""Rights are read at every request: a role changed by ``org apply`` shows in an open session and
to an API token at their next request; a deactivated person's session ends and their tokens stop.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from detente.access.services import account_set_password, token_issue
from detente.core import clock
from detente.org.document import parse_document
from detente.org.services import org_apply
from detente.people.models import Person, Role
from detente.people.services import person_upsert

PASSWORD = "correct horse battery staple"
NOW = dt.datetime(2026, 9, 1, 12, 0, tzinfo=dt.UTC)


def _apply(*people: dict[str, object]) -> None:
    admin = {"name": "Admin", "email": "admin@x.org", "role": "cio"}
    org_apply(document=parse_document({"version": 1, "people": [admin, *people]}, file="o"),
              actor=None)  # fmt: skip


@pytest.fixture
def kim(db: None) -> Person:
    clock.set_now(NOW)
    _apply({"name": "Kim", "email": "kim@x.org", "roles": ["engineer", "cio"]})
    person = Person.objects.get(email="kim@x.org")
    account_set_password(person=person, password=PASSWORD)
    return Person.objects.get(pk=person.pk)


def _signed_in(person: Person) -> Client:
    client = Client()
    response = client.post("/login", {"email": person.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_an_open_session_sees_a_role_taken_away_at_the_next_request(kim: Person) -> None:
    person_upsert(name="Other", email="other@x.org", role=Role.ENGINEER)
    client = _signed_in(kim)
    page = client.get("/org/people").content.decode()
    assert "Kim · Engineer, CIO" in page
    assert "Deactivate" in page  # the CIO changes the organisation

    _apply({"name": "Kim", "email": "kim@x.org", "role": "engineer"})

    page = client.get("/org/people").content.decode()
    assert "Kim · Engineer<" in page
    assert "Deactivate" not in page
    admin = Person.objects.get(email="admin@x.org")
    client.post(f"/org/person/{admin.pk}/deactivate")
    assert Person.objects.get(pk=admin.pk).active  # refused: no longer allowed


def test_a_token_acts_with_the_persons_roles_now(kim: Person) -> None:
    _token, raw = token_issue(actor=kim, person=kim, name="ci", scope="write")
    auth = {"Authorization": f"Bearer {raw}"}
    me = Client().get("/api/people/me", headers=auth).json()
    assert me["roles"] == ["engineer", "cio"]

    _apply({"name": "Kim", "email": "kim@x.org", "roles": ["engineer"]})
    assert Client().get("/api/people/me", headers=auth).json()["roles"] == ["engineer"]

    _apply({"name": "Kim", "email": "kim@x.org", "roles": ["auditor"]})
    # an auditor only reads, whatever scope the token was made with
    refused = Client().post(
        "/api/acceptances/1/submit", content_type="application/json", headers=auth
    )
    assert refused.status_code == 403
    assert "read-only" in refused.json()["error"]["message"]


def test_a_deactivated_persons_session_ends_and_their_token_stops(kim: Person) -> None:
    client = _signed_in(kim)
    _token, raw = token_issue(actor=kim, person=kim, name="ci", scope="read")
    assert client.get("/me").status_code == 200

    _apply()  # Kim is no longer in the file: deactivated

    response = client.get("/me")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")
    assert "_auth_user_id" not in client.session  # the session itself ended
    assert client.get("/api/people/me").status_code == 401
    auth = {"Authorization": f"Bearer {raw}"}
    assert Client().get("/api/people/me", headers=auth).status_code == 401
    again = Client().post("/login", {"email": "kim@x.org", "password": PASSWORD})
    assert again.status_code == 401  # nor can they sign in again
