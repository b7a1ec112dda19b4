"""Brute force is throttled: per account and per client address with a doubling wait, a capped
number of codes per pending sign-in, failures and lockouts audited, and a rate per API token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from django.test import Client

from detente.access import services as access
from detente.access.throttle import TOKEN_RATE
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.people.models import Person, Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 9, 1, 12, 0, 10, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def eve() -> Person:
    clock.set_now(NOW)
    person = person_upsert(name="Eve", email="eve@example.org", role=Role.ENGINEER)
    access.account_set_password(person=person, password=PASSWORD)
    person.refresh_from_db()
    return person


def _login(client: Client, email: str, password: str, address: str = "10.0.0.1") -> Any:
    return client.post("/login", {"email": email, "password": password}, REMOTE_ADDR=address)


def _verbs() -> list[str]:
    return list(
        AuditEvent.objects.filter(verb__startswith="access.signin").values_list("verb", flat=True)
    )


def test_five_wrong_passwords_lock_the_account_and_the_wait_doubles(eve: Person) -> None:
    client = Client()
    statuses = [_login(client, eve.email, "wrong").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    # the right password is not even checked while locked
    locked = _login(client, eve.email, PASSWORD)
    assert (locked.status_code, locked["Retry-After"]) == (429, "30")
    assert "Too many failed sign-ins. Try again in 30 seconds." in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert _verbs() == ["access.signin_failed"] * 5 + ["access.signin_locked"]
    last = AuditEvent.objects.filter(verb="access.signin_locked").get()
    assert (last.subject_id, last.after) == (
        str(eve.pk), {"address": "10.0.0.1", "scope": "account", "seconds": 30}
    )  # fmt: skip
    # after the wait one more wrong guess locks for twice as long
    clock.set_now(NOW + dt.timedelta(seconds=31))
    again = _login(client, eve.email, "wrong")
    assert (again.status_code, again["Retry-After"]) == (429, "60")
    clock.set_now(NOW + dt.timedelta(seconds=92))
    assert _login(client, eve.email, PASSWORD).status_code == 302


def test_an_address_guessing_across_accounts_is_locked_out(eve: Person) -> None:
    client = Client()
    for n in range(20):
        _login(client, f"nobody{n}@example.org", "wrong", address="10.6.6.6")
    refused = _login(client, eve.email, PASSWORD, address="10.6.6.6")
    assert refused.status_code == 429
    unknown = AuditEvent.objects.filter(verb="access.signin_failed").first()
    assert unknown is not None
    assert (unknown.subject_id, unknown.after) == (
        "unknown", {"address": "10.6.6.6", "reason": "password"}
    )  # fmt: skip
    # the same account from another address signs in
    assert _login(Client(), eve.email, PASSWORD, address="10.0.0.2").status_code == 302


@pytest.fixture
def totp(eve: Person) -> pyotp.TOTP:
    assert eve.user is not None
    enrolled = pyotp.parse_uri(access.totp_begin(user=eve.user, replace=False))
    assert isinstance(enrolled, pyotp.TOTP)
    access.totp_confirm(user=eve.user, code=enrolled.at(NOW))
    return enrolled


def test_wrong_codes_are_capped_per_pending_sign_in(eve: Person, totp: pyotp.TOTP) -> None:
    client = Client()
    assert _login(client, eve.email, PASSWORD)["Location"].startswith("/login/code")
    right = totp.at(NOW + dt.timedelta(seconds=30))
    statuses = [
        client.post("/login/code", {"code": "000000"}, REMOTE_ADDR="10.0.0.1").status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]
    # the pending sign-in is dropped: even the right code now leads back to the password
    after = client.post("/login/code", {"code": right}, REMOTE_ADDR="10.0.0.1")
    assert (after.status_code, after["Location"]) == (302, "/login")
    assert "_auth_user_id" not in client.session
    assert _verbs().count("access.signin_failed") == 5


def test_the_code_cap_holds_below_the_account_limit(
    eve: Person, totp: pyotp.TOTP, settings: Any
) -> None:
    settings.DETENTE_TOTP_ATTEMPTS = 2
    client = Client()
    _login(client, eve.email, PASSWORD)
    assert client.post("/login/code", {"code": "000000"}).status_code == 401
    dropped = client.post("/login/code", {"code": "000000"})
    assert dropped.status_code == 429
    assert "Too many wrong codes. Sign in again with your password." in dropped.content.decode()
    assert "pending_user" not in client.session


@pytest.fixture
def token(eve: Person, settings: Any) -> Iterator[str]:
    settings.DETENTE_API_RATE_PER_MINUTE = 3
    TOKEN_RATE.reset()
    _, raw = access.token_issue(actor=eve, person=eve, name="ci", scope="read", days=30)
    yield raw
    TOKEN_RATE.reset()


def test_a_token_is_rate_limited(token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    statuses = [Client().get("/api/people/me", headers=headers).status_code for _ in range(3)]
    limited = Client().get("/api/people/me", headers=headers)
    assert (statuses, limited.status_code) == ([200, 200, 200], 429)
    assert int(limited["Retry-After"]) in range(1, 61)
    assert limited.json()["error"]["code"] == "rate_limited"
