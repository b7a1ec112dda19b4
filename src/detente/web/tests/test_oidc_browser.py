"""Single sign-on in headless Chromium against a real OpenID provider on loopback: the sign-in page
offers the provider, the provider's own login and consent pages are filled in, and the browser
lands on the home of the role its group maps to; a group removed at the provider ends access at
the next sign-in; an expired session signs in again through the provider (its groups read again);
a state or nonce tampered with on the way signs nobody in."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from detente.people.models import Person, Role
from detente.web.tests.conftest import TIMEOUT_MS
from detente.web.tests.oidc_support import Provider, start_provider

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[Provider]:
    callback = f"{live_server.url}/login/sso/callback"
    with start_provider(tmp_path_factory.mktemp("idp"), [callback]) as running:
        yield running


@pytest.fixture
def idp(provider: Provider, settings: Any, transactional_db: None) -> Provider:
    provider.configure(settings, DETENTE_PASSWORD_SIGNIN=False)
    return provider


@pytest.fixture
def new_page(browser: Browser, live_server: Any) -> Iterator[Any]:
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(base_url=str(live_server.url))
        # Two sites and a code exchange per sign-in: more room than a page of one site needs.
        context.set_default_timeout(4 * TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def at_the_provider(page: Page, login: str, *, consent: bool = True) -> None:
    """What a person does on the provider's pages (oidc-provider's own login and consent)."""
    page.get_by_placeholder("Enter any login").fill(login)
    page.get_by_placeholder("and password").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    if consent:
        page.get_by_role("button", name="Continue").click()


def test_sign_in_through_the_provider_lands_on_the_home_of_the_mapped_role(
    idp: Provider, new_page: Any
) -> None:
    idp.set_account("ada", email="ada@example.org", name="Ada Lovelace", groups=["detente-ciso"])
    page = new_page()

    page.goto("/findings")  # signed out: to the sign-in page, which offers the provider only
    assert page.locator("#password").count() == 0
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.wait_for_url(re.compile(rf"^{re.escape(idp.issuer)}/interaction/"))
    at_the_provider(page, "ada")
    page.wait_for_url(re.compile(r"/findings"))
    assert "Ada Lovelace · CISO" in page.locator("header").inner_text()
    person = Person.objects.get(email="ada@example.org")
    assert person.role == Role.CISO
    page.goto("/")
    page.wait_for_url(re.compile(r"/ciso$"))


def test_a_group_removed_at_the_provider_refuses_the_next_sign_in(
    idp: Provider, new_page: Any
) -> None:
    idp.set_account("bo", email="bo@example.org", name="Bo", groups=["detente-cio"])
    first = new_page()
    first.goto("/login")
    first.get_by_role("link", name="Sign in with Test IdP").click()
    at_the_provider(first, "bo")
    first.wait_for_url(re.compile(r"/cio$"))

    idp.set_account("bo", email="bo@example.org", name="Bo", groups=["marketing"])
    second = new_page()
    second.goto("/login")
    second.get_by_role("link", name="Sign in with Test IdP").click()
    at_the_provider(second, "bo")

    second.get_by_text("none of your groups (marketing) gives a role in Détente").wait_for()
    assert "/login/sso/callback" in second.url
    assert Person.objects.get(email="bo@example.org").active is False
    first.goto("/cio")  # the session opened before ends with the role
    first.wait_for_url(re.compile(r"/login\?next="))


def test_an_expired_session_signs_in_again_through_the_provider_with_fresh_groups(
    idp: Provider, new_page: Any
) -> None:
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    idp.set_account("di", email="di@example.org", name="Di", groups=["detente-engineers"])
    page = new_page()
    page.goto("/login")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    at_the_provider(page, "di")
    page.wait_for_url(re.compile(r"/me$"))  # an engineer's home
    idp.set_account("di", email="di@example.org", name="Di", groups=["detente-cio"])

    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    page.goto("/cio")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.get_by_role("link", name="Sign in with Test IdP").click()

    # The provider still knows the browser and the consent: no page of its own this time.
    page.wait_for_url(re.compile(r"/cio$"))
    assert "Di · CIO" in page.locator("header").inner_text()
    assert Person.objects.get(email="di@example.org").role == Role.CIO


@pytest.mark.parametrize(
    ("tampered", "message"),
    [("state", "the state does not match"), ("nonce", "'nonce' claim is not valid")],
)
def test_a_tampered_state_or_nonce_signs_nobody_in(
    idp: Provider, new_page: Any, tampered: str, message: str
) -> None:
    """Someone in the middle changes the sign-in request on its way to the provider."""
    idp.set_account("cy", email="cy@example.org", name="Cy", groups=["detente-ciso"])
    page = new_page()
    page.goto("/login")
    # The browser's own session starts the sign-in (the context's cookies); we stop at the
    # redirect to take the provider's URL, as a proxy would, and change one parameter.
    started = page.context.request.get("/login/sso?next=/ciso", max_redirects=0)
    assert started.status == 302
    parts = urlsplit(started.headers["location"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    page.goto(urlunsplit(parts._replace(query=urlencode(query | {tampered: "forged-0123"}))))
    at_the_provider(page, "cy")

    page.get_by_text(message).wait_for()
    assert "Sign-in refused" in page.locator("[role=alert]").inner_text()
    assert not Person.objects.filter(email="cy@example.org").exists()
    page.goto("/ciso")
    page.wait_for_url(re.compile(r"/login\?next="))
