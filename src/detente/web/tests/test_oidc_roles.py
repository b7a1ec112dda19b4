"""Single sign-on and several roles, single logout and Entra ID's group overage, against the real
OpenID provider on loopback (``oidc_support``): every hop over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from detente.people.models import Person, Role
from detente.web.tests.oidc_support import (
    CLIENT_ID,
    Provider,
    at_provider,
    free_port,
    groups_server,
    start_provider,
)

CALLBACK = "http://testserver/login/sso/callback"
SIGNED_OUT = "http://testserver/login"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with start_provider(tmp_path_factory.mktemp("idp"), [CALLBACK], [SIGNED_OUT]) as running:
        yield running


@pytest.fixture
def idp(provider: Provider, settings: Any, db: None) -> Provider:
    provider.configure(settings)
    return provider


def sign_in(client: Client, login: str, agent: requests.Session | None = None) -> Any:
    started = client.get("/login/sso")
    assert started.status_code == 302
    back = at_provider(started["Location"], login=login, redirect_uri=CALLBACK, agent=agent)
    return client.get(back)


def me(client: Client) -> Person | None:
    if client.get("/me").status_code != 200:
        return None
    return Person.objects.get(user_id=int(client.session["_auth_user_id"]))


# ------------------------------------------------------------------------------ several roles


def test_groups_give_roles_and_a_removed_group_takes_its_role_at_the_next_sign_in(
    idp: Provider,
) -> None:
    from detente.people.services import person_upsert

    person_upsert(name="Other", email="other@example.org", role=Role.ENGINEER)
    groups = ["detente-engineers", "detente-cio"]
    idp.set_account("ro", email="ro@example.org", name="Ro", groups=groups)
    first = Client()
    assert sign_in(first, "ro").status_code == 302
    person = Person.objects.get(email="ro@example.org")
    assert person.roles == (Role.CIO, Role.ENGINEER)  # the mapping lists the CIO's group first
    page = first.get("/org/people").content.decode()
    assert "Ro · CIO, Engineer" in page
    assert "Deactivate" in page  # the CIO changes the organisation

    idp.set_account("ro", email="ro@example.org", name="Ro", groups=["detente-engineers"])
    assert sign_in(Client(), "ro").status_code == 302

    assert Person.objects.get(email="ro@example.org").roles == (Role.ENGINEER,)
    # the first browser's session is still signed in and sees the new rights at its next request
    assert me(first) == person
    page = first.get("/org/people").content.decode()
    assert "Ro · Engineer" in page
    assert "Deactivate" not in page


def test_groups_giving_an_auditor_and_another_role_are_refused(idp: Provider) -> None:
    idp.set_account(
        "au", email="au@example.org", name="Au", groups=["detente-audit", "detente-engineers"]
    )
    client = Client()
    response = sign_in(client, "au")

    assert response.status_code == 403
    assert "never held together" in response.content.decode()
    assert not Person.objects.filter(email="au@example.org").exists()
    assert me(client) is None


# ------------------------------------------------------------------------------ single logout


def _needs_login(agent: requests.Session, client: Client) -> bool:
    """Start a sign-in and look at the provider's first page: its login form or not."""
    url = client.get("/login/sso")["Location"]
    for _ in range(6):
        response = agent.get(url, allow_redirects=False, timeout=10)
        if not response.is_redirect:
            return 'name="prompt" value="login"' in response.text
        url = requests.compat.urljoin(url, response.headers["location"])
        if url.startswith(CALLBACK):
            return False
    raise AssertionError("the provider never settled")


def test_signing_out_ends_the_session_at_the_provider_too(idp: Provider) -> None:
    idp.set_account("lo", email="lo@example.org", name="Lo", groups=["detente-cio"])
    agent, client = requests.Session(), Client()
    assert sign_in(client, "lo", agent).status_code == 302
    assert not _needs_login(agent, Client())  # the provider remembers the browser

    response = client.post("/logout")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    discovery = requests.get(f"{idp.issuer}/.well-known/openid-configuration", timeout=10).json()
    assert response["Location"].startswith(discovery["end_session_endpoint"] + "?")
    query = parse_qs(target.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == [SIGNED_OUT]
    assert query["id_token_hint"][0].count(".") == 2  # the ID token of this sign-in
    assert me(client) is None  # Détente's session ended before the provider's
    back = at_provider(response["Location"], login="lo", redirect_uri=SIGNED_OUT, agent=agent)
    assert back.startswith(SIGNED_OUT)
    assert _needs_login(agent, Client())  # the provider's session ended too


def test_signing_out_after_a_password_sign_in_stays_here(idp: Provider) -> None:
    from detente.access.services import account_set_password
    from detente.people.services import person_upsert

    person = person_upsert(name="Pat", email="pat@example.org", role=Role.CIO)
    account_set_password(person=person, password="correct horse battery staple")
    client = Client()
    client.post("/login", {"email": "pat@example.org", "password": "correct horse battery staple"})
    assert me(client) == person

    response = client.post("/logout")

    assert response["Location"] == "/login"
    assert me(client) is None


# ------------------------------------------------------------------------------ group overage


def test_an_overage_reads_the_groups_from_the_configured_endpoint(
    idp: Provider, settings: Any
) -> None:
    with groups_server(idp) as url:
        idp.set_account(
            "ov", email="ov@example.org", name="Ov",
            groups=["detente-engineers", "detente-cio"], groups_source=url,
        )  # fmt: skip
        idp.configure(settings, DETENTE_OIDC_GROUPS_URL=url)
        client = Client()
        assert sign_in(client, "ov").status_code == 302

    person = Person.objects.get(email="ov@example.org")
    assert person.roles == (Role.CIO, Role.ENGINEER)  # two pages of groups, both read
    assert me(client) == person


def test_an_overage_without_a_groups_endpoint_is_refused_clearly(idp: Provider) -> None:
    idp.set_account(
        "ow", email="ow@example.org", name="Ow", groups=["detente-cio"],
        groups_source="http://127.0.0.1:9/unused",
    )  # fmt: skip
    client = Client()
    response = sign_in(client, "ow")

    assert response.status_code == 400
    assert "DETENTE_OIDC_GROUPS_URL" in response.content.decode()
    assert not Person.objects.filter(email="ow@example.org").exists()
    assert me(client) is None


def test_an_overage_whose_endpoint_does_not_answer_is_refused(idp: Provider, settings: Any) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1.0/me/getMemberObjects"
    idp.set_account(
        "ox", email="ox@example.org", name="Ox", groups=["detente-cio"], groups_source=dead
    )
    idp.configure(settings, DETENTE_OIDC_GROUPS_URL=dead)
    client = Client()
    response = sign_in(client, "ox")

    assert response.status_code == 502
    assert "groups endpoint did not answer" in response.content.decode()
    assert not Person.objects.filter(email="ox@example.org").exists()
