"""The account page through Django's test client: a token shown once that then works against the
API, only its digest stored, revoking (your own tokens only), CSRF on every form, TOTP set up and
confirmed (a wrong code changes nothing), and an auditor who gets read tokens only."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from typing import Any

import pyotp
import pytest
from django.db import connection
from django.test import Client

from detente.access.models import ApiToken, TotpDevice
from detente.access.services import account_set_password, token_issue, totp_required
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.people.models import Person, Role
from detente.people.services import person_upsert

PASSWORD = "correct horse battery staple"
NOW = dt.datetime(2026, 9, 1, 12, 0, 10, tzinfo=dt.UTC)
RAW = re.compile(r"dtt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def people(db: None) -> dict[Role, Person]:
    clock.set_now(NOW)
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in (Role.ENGINEER, Role.CISO, Role.AUDITOR)
    }
    for person in people.values():
        account_set_password(person=person, password=PASSWORD)
        person.refresh_from_db()
    return people


def signed_in(person: Person, *, csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf_checks)
    client.force_login(person.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _issue(client: Client, **form: str) -> tuple[Any, str]:
    response = client.post("/account/tokens", {"name": "ci", "scope": "read", "days": "30"} | form)
    assert response.status_code == 200, _messages(response)
    (raw,) = set(RAW.findall(response.content.decode()))
    return response, raw


def _me(raw: str) -> int:
    return Client().get("/api/people/me", headers={"Authorization": f"Bearer {raw}"}).status_code


def test_a_new_token_is_shown_once_and_then_works_against_the_api(
    people: dict[Role, Person],
) -> None:
    engineer = people[Role.ENGINEER]
    client = signed_in(engineer)
    page = client.get("/account")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'href="/account">Account</a>' in text
    assert f"{engineer.name} · Engineer" in text
    assert "No tokens yet." in text

    issued, raw = _issue(client, name="ci pipeline", scope="write", days="30")
    assert 'id="new-token"' in issued.content.decode()
    assert "no-store" in issued["Cache-Control"]
    token = ApiToken.objects.get()
    assert (token.person, token.name, token.scope) == (engineer, "ci pipeline", "write")
    assert token.expires_at == NOW + dt.timedelta(days=30)
    assert raw.split("_")[1] == token.prefix

    me = Client().get("/api/people/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200
    assert me.json()["email"] == engineer.email
    assert _me(raw + "x") == 401

    again = client.get("/account").content.decode()
    assert raw not in again
    assert raw.split("_", 2)[2] not in again
    assert token.digest not in again
    assert f"<code>{token.prefix}</code>" in again
    assert "ci pipeline" in again


def test_only_a_digest_of_the_token_is_stored(people: dict[Role, Person]) -> None:
    client = signed_in(people[Role.ENGINEER])
    _, raw = _issue(client)
    secret = raw.split("_", 2)[2]
    digest = hashlib.sha256(raw.encode()).hexdigest()
    assert ApiToken.objects.get().digest == digest
    cells: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            cells.extend(str(cell) for row in cursor.fetchall() for cell in row)
    assert digest in cells  # the scan does reach the token table
    assert not [cell for cell in cells if secret in cell]
    assert secret not in repr(dict(client.session.items()))


def test_revoking_a_token_makes_the_api_refuse_it(people: dict[Role, Person]) -> None:
    client = signed_in(people[Role.ENGINEER])
    _, raw = _issue(client)
    token = ApiToken.objects.get()
    assert _me(raw) == 200
    revoked = client.post(f"/account/tokens/{token.pk}/revoke")
    assert revoked.status_code == 302
    assert revoked["Location"] == "/account"
    token.refresh_from_db()
    assert token.revoked_at == NOW
    assert _me(raw) == 401
    page = client.get("/account")
    assert any(f"Token {token.prefix} (ci) revoked" in m for m in _messages(page))
    assert f"/account/tokens/{token.pk}/revoke" not in page.content.decode()


def test_someone_elses_token_is_refused_and_nothing_changes(people: dict[Role, Person]) -> None:
    theirs, their_raw = token_issue(
        actor=people[Role.ENGINEER], person=people[Role.ENGINEER], name="theirs"
    )
    events = AuditEvent.objects.count()
    # the CISO may revoke anyone's token elsewhere; this page is about your own tokens only
    for role in (Role.AUDITOR, Role.CISO):
        client = signed_in(people[role])
        assert theirs.prefix not in client.get("/account").content.decode()
        refused = client.post(f"/account/tokens/{theirs.pk}/revoke")
        assert refused.status_code == 404
        assert f"You have no API token {theirs.pk}." in refused.content.decode()
    missing = signed_in(people[Role.ENGINEER]).post(f"/account/tokens/{theirs.pk + 99}/revoke")
    assert missing.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert _me(their_raw) == 200
    assert AuditEvent.objects.count() == events


def test_forms_without_the_csrf_token_are_refused(people: dict[Role, Person]) -> None:
    engineer = people[Role.ENGINEER]
    mine, raw = token_issue(actor=engineer, person=engineer, name="mine")
    client = signed_in(engineer, csrf_checks=True)
    for url, form in (
        ("/account/tokens", {"name": "x", "scope": "read", "days": "30"}),
        (f"/account/tokens/{mine.pk}/revoke", {}),
        ("/account/totp", {}),
        ("/account/totp/confirm", {"code": "123456"}),
    ):
        assert client.post(url, form).status_code == 403, url
    assert list(ApiToken.objects.values_list("name", "revoked_at")) == [("mine", None)]
    assert _me(raw) == 200
    assert not TotpDevice.objects.exists()

    page = client.get("/account").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf is not None
    form = {"csrfmiddlewaretoken": csrf[1], "name": "x", "scope": "read", "days": "30"}
    assert client.post("/account/tokens", form).status_code == 200  # the same form, with it
    assert ApiToken.objects.count() == 2


def _wrong_code(totp: pyotp.TOTP) -> str:
    valid = {totp.at(NOW + dt.timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(c for c in (f"{n:06d}" for n in range(10**6)) if c not in valid)


def test_totp_set_up_and_confirmed_and_a_wrong_code_changes_nothing(
    people: dict[Role, Person],
) -> None:
    engineer = people[Role.ENGINEER]
    assert engineer.user is not None
    client = signed_in(engineer)
    page = client.get("/account").content.decode()
    assert '<p id="totp-state">Second factor off.</p>' in page
    assert 'action="/account/totp"' in page

    begun = client.post("/account/totp")
    assert begun.status_code == 200
    assert "no-store" in begun["Cache-Control"]
    text = begun.content.decode()
    found = re.search(r'<code id="otpauth">([^<]+)</code>', text)
    assert found is not None
    totp = pyotp.parse_uri(html.unescape(found[1]))
    assert isinstance(totp, pyotp.TOTP)
    device = TotpDevice.objects.get(user=engineer.user)
    assert totp.secret == device.secret
    assert '<svg width="' in text  # the QR code: segno is installed
    assert device.secret not in client.get("/account").content.decode()  # shown at set-up only

    for code in (_wrong_code(totp), "١٢٣٤٥٦", ""):
        wrong = client.post("/account/totp/confirm", {"code": code})
        assert wrong.status_code == 400, code
        assert any("that code is not valid" in m for m in _messages(wrong))
        assert "not confirmed yet" in wrong.content.decode()
    assert not totp_required(engineer.user)
    assert TotpDevice.objects.get(user=engineer.user).confirmed is False

    done = client.post("/account/totp/confirm", {"code": totp.at(NOW)}, follow=True)
    assert done.status_code == 200
    assert any("Second factor on" in m for m in _messages(done))
    assert "<strong>Second factor on.</strong>" in done.content.decode()
    assert 'action="/account/totp"' not in done.content.decode()
    assert totp_required(engineer.user)

    again = client.post("/account/totp")  # a forged restart would switch it off: refused
    assert again.status_code == 400
    assert any("already on" in m for m in _messages(again))
    after = TotpDevice.objects.get(user=engineer.user)
    assert (after.secret, after.confirmed) == (device.secret, True)

    fresh = Client()  # signing in now asks for a code
    login = fresh.post("/login", {"email": engineer.email, "password": PASSWORD})
    assert login["Location"].startswith("/login/code")
    code = totp.at(NOW + dt.timedelta(seconds=30))
    assert fresh.post("/login/code", {"code": code}).status_code == 302
    assert fresh.get("/account").status_code == 200


def test_an_auditor_issues_read_tokens_only(people: dict[Role, Person]) -> None:
    auditor = people[Role.AUDITOR]
    client = signed_in(auditor)
    page = client.get("/account").content.decode()
    assert '<option value="read"' in page
    assert '<option value="write"' not in page
    refused = client.post("/account/tokens", {"name": "w", "scope": "write", "days": "30"})
    assert refused.status_code == 400
    assert any("an auditor's token can only read" in m for m in _messages(refused))
    assert not ApiToken.objects.exists()

    _, raw = _issue(client, name="r", scope="read")
    assert ApiToken.objects.get().scope == "read"
    assert _me(raw) == 200
    token = ApiToken.objects.get()
    assert client.post(f"/account/tokens/{token.pk}/revoke").status_code == 302
    assert _me(raw) == 401
    assert client.post("/account/totp").status_code == 200  # a second factor is for everyone
    assert TotpDevice.objects.filter(user=auditor.user).exists()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"days": "0"}, "a token lives 1 to 365 days"),
        ({"days": "366"}, "a token lives 1 to 365 days"),
        ({"days": "ten"}, "give the days as a whole number"),
        ({"days": "-5"}, "give the days as a whole number"),
        ({"scope": "admin"}, "unknown scope 'admin'"),
        ({"name": "a\x00b"}, "NUL"),
    ],
)
def test_bad_input_comes_back_as_the_page_with_400(
    people: dict[Role, Person], form: dict[str, str], message: str
) -> None:
    client = signed_in(people[Role.ENGINEER])
    response = client.post("/account/tokens", {"name": "ci", "scope": "read", "days": "30"} | form)
    assert response.status_code == 400
    assert any(message in m for m in _messages(response))
    assert "<h1>Account</h1>" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_page_needs_a_signed_in_person(people: dict[Role, Person]) -> None:
    anonymous = Client()
    assert anonymous.get("/account")["Location"] == "/login?next=%2Faccount"
    assert anonymous.post("/account/tokens", {"name": "x", "days": "30"}).status_code == 302
    assert anonymous.post("/account/totp").status_code == 302
    assert not ApiToken.objects.exists()
    assert not TotpDevice.objects.exists()
