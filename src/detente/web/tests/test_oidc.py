"""Single sign-on against a real OpenID provider on loopback (``oidc-provider``, see
``oidc_support``): Détente's pages through Django's test client, the provider's login and consent
pages through a plain HTTP client, the code exchange and keys over real HTTP.

Each refusal asserts that nobody was created or signed in."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from joserfc import jwt
from joserfc.jwk import RSAKey

from detente.access import oidc
from detente.access.models import OidcIdentity
from detente.access.services import account_set_password
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import InputError
from detente.people.models import Person, Role
from detente.people.services import person_upsert
from detente.web.tests.oidc_support import (
    CLIENT_ID,
    KID,
    Provider,
    at_provider,
    free_port,
    start_provider,
)

CALLBACK = "http://testserver/login/sso/callback"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with start_provider(tmp_path_factory.mktemp("idp"), [CALLBACK]) as running:
        yield running


@pytest.fixture
def idp(provider: Provider, settings: Any, db: None) -> Provider:
    provider.configure(settings)
    return provider


def start(client: Client, next_url: str = "/") -> str:
    response = client.get("/login/sso", {"next": next_url})
    assert response.status_code == 302, response.content.decode()
    return str(response["Location"])


def sso(client: Client, login: str, next_url: str = "/") -> Any:
    back = at_provider(start(client, next_url), login=login, redirect_uri=CALLBACK)
    return client.get(back)


def signed_in_as(client: Client) -> Person | None:
    response = client.get("/me")
    if response.status_code != 200:
        return None
    return Person.objects.get(user_id=int(client.session["_auth_user_id"]))


def verbs() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("verb", flat=True))


# ------------------------------------------------------------------------------ signing in


def test_first_sign_in_creates_the_person_with_the_role_of_the_group(idp: Provider) -> None:
    idp.set_account("ada", email="Ada@Example.org", name="Ada Lovelace", groups=["detente-ciso"])
    client = Client()

    url = start(client, "/findings")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url SHA-256: PKCE, not plain
    assert query["nonce"]
    assert query["state"]
    assert query["client_id"] == [CLIENT_ID]
    response = client.get(at_provider(url, login="ada", redirect_uri=CALLBACK))

    assert response.status_code == 302
    assert response["Location"] == "/findings"
    person = Person.objects.get(email="ada@example.org")
    assert (person.name, person.role, person.active) == ("Ada Lovelace", Role.CISO, True)
    assert person.user is not None
    assert person.user.username == "ada@example.org"
    assert not person.user.has_usable_password()
    identity = OidcIdentity.objects.get(person=person)
    assert (identity.issuer, identity.subject) == (idp.issuer, "ada")
    assert signed_in_as(client) == person
    assert verbs() == ["person.created", "access.sso_linked"]
    created = AuditEvent.objects.get(verb="person.created")
    assert created.actor_label == f"single sign-on ({idp.issuer})"
    assert created.after == {
        "name": "Ada Lovelace", "email": "ada@example.org", "role": "ciso", "roles": ["ciso"],
        "groups": ["detente-ciso"],
    }  # fmt: skip


def test_a_later_sign_in_takes_the_role_from_the_groups_again(idp: Provider) -> None:
    idp.set_account("bob", email="bob@example.org", name="Bob", groups=["detente-ciso"])
    assert sso(Client(), "bob").status_code == 302
    idp.set_account("bob", email="bob@example.org", name="Bob", groups=["detente-engineers"])

    client = Client()
    assert sso(client, "bob").status_code == 302

    person = Person.objects.get(email="bob@example.org")
    assert person.role == Role.ENGINEER
    assert signed_in_as(client) == person
    assert Person.objects.filter(email="bob@example.org").count() == 1
    assert OidcIdentity.objects.filter(person=person).count() == 1
    change = AuditEvent.objects.get(verb="person.role_changed")
    assert change.before == {"role": "ciso", "roles": ["ciso"]}
    assert change.after == {
        "role": "engineer", "roles": ["engineer"], "groups": ["detente-engineers"]
    }  # fmt: skip


def test_two_mapped_groups_give_both_roles_the_mapping_choosing_the_primary(
    idp: Provider,
) -> None:
    # The mapping lists detente-ciso before detente-engineers; the claim's order does not count.
    idp.set_account(
        "cy", email="cy@example.org", name="Cy", groups=["detente-engineers", "detente-ciso"]
    )
    assert sso(Client(), "cy").status_code == 302
    person = Person.objects.get(email="cy@example.org")
    assert person.role == Role.CISO
    assert person.roles == (Role.CISO, Role.ENGINEER)


def test_the_way_back_never_leaves_the_site(idp: Provider) -> None:
    idp.set_account("nia", email="nia@example.org", name="Nia", groups=["detente-cio"])
    response = sso(Client(), "nia", next_url="https://evil.example/phish")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_an_existing_person_is_linked_not_duplicated(idp: Provider) -> None:
    person = person_upsert(name="Dee", email="dee@example.org", role=Role.CIO)
    account_set_password(person=person, password=PASSWORD)
    idp.set_account("dee-at-idp", email="dee@example.org", name="Dee", groups=["detente-cio"])

    client = Client()
    assert sso(client, "dee-at-idp").status_code == 302

    assert Person.objects.filter(email="dee@example.org").count() == 1
    assert signed_in_as(client) == person
    assert OidcIdentity.objects.get(person=person).subject == "dee-at-idp"
    person.refresh_from_db()
    assert person.user is not None
    assert person.user.has_usable_password()  # password kept for when SSO is off


# ------------------------------------------------------------------------------ refusals


def test_someone_in_no_mapped_group_is_refused_and_nothing_is_created(idp: Provider) -> None:
    idp.set_account("eve", email="eve@example.org", name="Eve", groups=["marketing"])
    people, users = Person.objects.count(), User.objects.count()
    client = Client()

    response = sso(client, "eve")

    assert response.status_code == 403
    page = response.content.decode()
    assert "none of your groups (marketing) gives a role in Détente" in page
    assert (Person.objects.count(), User.objects.count()) == (people, users)
    assert not OidcIdentity.objects.exists()
    assert signed_in_as(client) is None
    refusal = AuditEvent.objects.get(verb="access.signin_failed")
    assert refusal.after == {"reason": "sso_no_role", "groups": ["marketing"]}


def test_a_group_removed_at_the_provider_ends_access_at_the_next_sign_in(idp: Provider) -> None:
    idp.set_account("fay", email="fay@example.org", name="Fay", groups=["detente-audit"])
    first = Client()
    assert sso(first, "fay").status_code == 302
    assert signed_in_as(first) is not None
    idp.set_account("fay", email="fay@example.org", name="Fay", groups=[])

    second = Client()
    response = sso(second, "fay")

    assert response.status_code == 403
    assert "none of your groups (none) gives a role" in response.content.decode()
    person = Person.objects.get(email="fay@example.org")
    assert person.active is False
    assert signed_in_as(second) is None
    assert signed_in_as(first) is None  # the older session ends too: the person is inactive
    event = AuditEvent.objects.get(verb="person.deactivated")
    assert event.before == {"active": True, "role": "auditor"}
    # Getting the group back does not reactivate by itself: an operator does.
    idp.set_account("fay", email="fay@example.org", name="Fay", groups=["detente-audit"])
    again = sso(Client(), "fay")
    assert again.status_code == 403
    assert "fay@example.org is deactivated in Détente" in again.content.decode()
    refusals = AuditEvent.objects.filter(verb="access.signin_failed").order_by("seq")
    assert [(event.after or {})["reason"] for event in refusals] == ["sso_no_role", "sso_inactive"]


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_tampered_state_is_refused(idp: Provider) -> None:
    idp.set_account("gus", email="gus@example.org", name="Gus", groups=["detente-ciso"])
    client = Client()
    back = at_provider(start(client), login="gus", redirect_uri=CALLBACK)

    response = client.get(_with_query(back, state="forged-by-an-attacker"))

    assert response.status_code == 400
    assert "the state does not match" in response.content.decode()
    assert not Person.objects.filter(email="gus@example.org").exists()
    assert signed_in_as(client) is None


def test_a_callback_from_another_browser_is_refused(idp: Provider) -> None:
    """Login CSRF: a code obtained in the attacker's browser, replayed into the victim's."""
    idp.set_account("hal", email="hal@example.org", name="Hal", groups=["detente-ciso"])
    back = at_provider(start(Client()), login="hal", redirect_uri=CALLBACK)

    victim = Client()
    response = victim.get(back)

    assert response.status_code == 400
    assert signed_in_as(victim) is None
    assert not Person.objects.filter(email="hal@example.org").exists()


def test_a_callback_is_used_once(idp: Provider) -> None:
    idp.set_account("ivy", email="ivy@example.org", name="Ivy", groups=["detente-ciso"])
    client = Client()
    back = at_provider(start(client), login="ivy", redirect_uri=CALLBACK)
    assert client.get(back).status_code == 302
    client.post("/logout")

    replay = client.get(back)

    assert replay.status_code == 400
    assert signed_in_as(client) is None


def test_a_nonce_that_does_not_match_is_refused(idp: Provider) -> None:
    idp.set_account("jo", email="jo@example.org", name="Jo", groups=["detente-ciso"])
    client = Client()
    url = start(client)
    session = client.session
    pending = session[oidc.PENDING_KEY]
    (state,) = pending
    pending[state]["nonce"] = "not-the-nonce-sent"  # the token's nonce no longer matches
    session[oidc.PENDING_KEY] = pending
    session.save()

    response = client.get(at_provider(url, login="jo", redirect_uri=CALLBACK))

    assert response.status_code == 400
    assert "ID token&#x27;s &#x27;nonce&#x27; claim is not valid" in response.content.decode()
    assert not Person.objects.filter(email="jo@example.org").exists()
    assert signed_in_as(client) is None


def test_an_expired_id_token_is_refused(idp: Provider) -> None:
    idp.set_account("kim", email="kim@example.org", name="Kim", groups=["detente-ciso"])
    client = Client()
    back = at_provider(start(client), login="kim", redirect_uri=CALLBACK)
    # The provider's ID tokens live an hour; ours is read two hours later.
    clock.set_now(clock.now() + dt.timedelta(hours=2))

    response = client.get(back)

    assert response.status_code == 400
    assert "the ID token has expired" in response.content.decode()
    assert not Person.objects.filter(email="kim@example.org").exists()


def test_a_provider_that_names_another_issuer_is_refused(idp: Provider, settings: Any) -> None:
    # Same server, reached under another name: its discovery document names 127.0.0.1.
    idp.configure(settings, DETENTE_OIDC_ISSUER=f"http://localhost:{idp.port}")
    client = Client()

    response = client.get("/login/sso")

    assert response.status_code == 400
    assert "names itself" in response.content.decode()
    assert oidc.PENDING_KEY not in client.session


def test_a_provider_that_is_down_gives_a_clear_page(idp: Provider, settings: Any) -> None:
    idp.configure(settings, DETENTE_OIDC_ISSUER=f"http://127.0.0.1:{free_port()}")
    people = Person.objects.count()

    response = Client().get("/login/sso")

    assert response.status_code == 502
    assert "Test IdP cannot be reached right now" in response.content.decode()
    assert Person.objects.count() == people


def test_a_provider_error_on_the_callback_is_shown(idp: Provider) -> None:
    client = Client()
    state = parse_qs(urlsplit(start(client)).query)["state"][0]

    response = client.get(
        "/login/sso/callback",
        {"error": "access_denied", "error_description": "End-User aborted", "state": state},
    )

    assert response.status_code == 400
    assert "refused the sign-in: access_denied End-User aborted" in response.content.decode()


# ------------------------------------------------------------------------------ the ID token


def _token(provider: Provider, key: RSAKey | None = None, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": provider.issuer, "sub": "zed", "aud": CLIENT_ID, "iat": now, "exp": now + 600,
        "nonce": "n-1",
    } | claims  # fmt: skip
    return jwt.encode({"alg": "RS256", "kid": KID}, body, key or provider.key)


def test_a_token_signed_by_the_provider_verifies(idp: Provider) -> None:
    claims = oidc.verify_id_token(oidc.oidc_config(), id_token=_token(idp), nonce="n-1")
    assert claims["sub"] == "zed"


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"aud": "another-client"}, "'aud' claim"),
        ({"aud": ["another-client", "third"], "azp": "another-client"}, "'aud' claim"),
        ({"iss": "https://idp.example.net"}, "'iss' claim"),
        ({"nonce": "n-2"}, "'nonce' claim"),
        ({"exp": int(time.time()) - 3600}, "has expired"),
    ],
)
def test_a_token_with_wrong_claims_is_refused(
    idp: Provider, claims: dict[str, Any], message: str
) -> None:
    with pytest.raises(oidc.SsoError, match=message):
        oidc.verify_id_token(oidc.oidc_config(), id_token=_token(idp, **claims), nonce="n-1")


def test_a_token_signed_by_another_key_is_refused(idp: Provider) -> None:
    forger = RSAKey.generate_key(2048, parameters={"kid": KID})
    with pytest.raises(oidc.SsoError, match="signature does not verify"):
        oidc.verify_id_token(oidc.oidc_config(), id_token=_token(idp, forger), nonce="n-1")


@pytest.mark.filterwarnings("ignore:JWS algorithm:Warning")  # joserfc warns when making one
def test_an_unsigned_token_is_refused(idp: Provider) -> None:
    header, body, _ = _token(idp).split(".")
    unsigned = jwt.encode({"alg": "none"}, {"sub": "zed"}, None, algorithms=["none"])  # type: ignore[arg-type]
    for token in (f"{header}.{body}.", unsigned):
        with pytest.raises(oidc.SsoError):
            oidc.verify_id_token(oidc.oidc_config(), id_token=token, nonce="n-1")


# ------------------------------------------------------------------------------ settings


def test_password_sign_in_can_be_switched_off_when_sso_is_on(idp: Provider, settings: Any) -> None:
    person = person_upsert(name="Lee", email="lee@example.org", role=Role.CISO)
    account_set_password(person=person, password=PASSWORD)
    idp.configure(settings, DETENTE_PASSWORD_SIGNIN=False)
    client = Client()

    page = client.get("/login").content.decode()
    refused = client.post("/login", {"email": "lee@example.org", "password": PASSWORD})

    assert "Sign in with Test IdP" in page
    assert 'name="password"' not in page
    assert refused.status_code == 403
    assert "Password sign-in is switched off: sign in with Test IdP." in refused.content.decode()
    assert signed_in_as(client) is None


def test_password_sign_in_stays_when_sso_is_off(settings: Any, db: None) -> None:
    person = person_upsert(name="Max", email="max@example.org", role=Role.CISO)
    account_set_password(person=person, password=PASSWORD)
    settings.DETENTE_OIDC_ISSUER = ""
    settings.DETENTE_PASSWORD_SIGNIN = False  # ignored: nobody could sign in otherwise
    client = Client()

    page = client.get("/login").content.decode()
    response = client.post("/login", {"email": "max@example.org", "password": PASSWORD})

    assert "Sign in with" not in page
    assert response.status_code == 302
    assert signed_in_as(client) == person
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback", {"state": "x", "code": "y"}).status_code == 404


def test_the_mapping_file_is_the_org_role_mapping_format(tmp_path: Path) -> None:
    mapping = tmp_path / "roles.yaml"
    mapping.write_text("roles:\n  sec-team: security_lead\n  it: it_lead\ndefault_role: engineer\n")

    roles = oidc.group_roles(inline="", file=str(mapping))

    assert roles == (("sec-team", "security_lead"), ("it", "it_lead"))
    # every mapped group gives its role; the mapping's order chooses the primary one
    assert oidc.roles_for(roles, ["it", "sec-team"]) == (Role.SECURITY_LEAD, Role.IT_LEAD)
    assert oidc.roles_for(roles, ["elsewhere"]) == ()  # default_role is for catalog imports


@pytest.mark.parametrize(
    ("inline", "message"),
    [
        (json.dumps({"sec": "king"}), "record sec: no role 'king'"),
        ("not json", "give an object of group: role"),
        ("", "no group → role mapping"),
    ],
)
def test_a_bad_mapping_is_named(inline: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        oidc.group_roles(inline=inline, file="")


def test_a_bad_mapping_is_a_clear_page_not_a_crash(idp: Provider, settings: Any) -> None:
    idp.configure(settings, DETENTE_OIDC_GROUP_ROLES=json.dumps({"sec": "king"}))

    response = Client().get("/login/sso")

    assert response.status_code == 503
    assert "Single sign-on is not set up correctly" in response.content.decode()
    assert "no role &#x27;king&#x27;" in response.content.decode()
