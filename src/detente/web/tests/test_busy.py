"""A write that gave up waiting for the database lock is a 503 with Retry-After (a page on the
web; the API's JSON in api/tests/test_busy.py), never a 500; a token's last-used
bookkeeping skips instead of waiting."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
from django.db import OperationalError

from detente.access import services as access
from detente.access.models import ApiToken
from detente.core.busy import skip_when_busy
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.web.tests.test_headers import _client
from detente.web.views import decisions as views

pytestmark = pytest.mark.django_db


def _locked(*args: Any, **kwargs: Any) -> NoReturn:
    raise OperationalError("database is locked")


@pytest.fixture
def eve() -> Person:
    person = person_upsert(name="Eve", email="eve@example.org", role=Role.CISO)
    access.account_set_password(person=person, password="correct horse battery staple")
    person.refresh_from_db()
    return person


def test_a_page_answers_503_html_with_retry_after(
    eve: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "render_page", _locked)
    response = _client(eve).get("/decisions")
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert "<h1>Busy</h1>" in response.content.decode()


def test_other_database_errors_are_not_hidden(eve: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> NoReturn:
        raise OperationalError("no such table: x")

    monkeypatch.setattr(views, "render_page", broken)
    assert _client(eve).get("/decisions").status_code == 500


def test_a_token_still_works_when_its_last_used_write_is_locked(
    eve: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, raw = access.token_issue(actor=eve, person=eve, name="ci", scope="read", days=30)
    monkeypatch.setattr(access, "skip_when_busy", lambda write: skip_when_busy(_locked))
    assert access.token_authenticate(raw) == (eve, "read")
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None
