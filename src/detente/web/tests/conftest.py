"""Browser fixtures: headless Debian Chromium through Playwright, people who can sign in, KEV."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from detente.access.services import account_set_password
from detente.intel.services import intel_load
from detente.inventory.models import BusinessService
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"
TIMEOUT_MS = 15_000


@dataclass
class Crew:
    people: dict[str, Person]
    shop: BusinessService
    base_url: str


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per module; contexts (sessions) are cheap, launches are not."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread while it runs; the tests' own ORM
    # calls (and pytest-django's database teardown) are ordinary blocking code, so let them run.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as p:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def crew(
    browser: Browser,
    live_server: Any,
    transactional_db: None,
    samples: Path,
) -> Crew:
    people = {
        role.value: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in (Role.IT_LEAD, Role.CISO, Role.CIO, Role.ENGINEER, Role.SERVICE_OWNER)
    }
    for person in people.values():
        account_set_password(person=person, password=PASSWORD)
    shop = service_upsert(slug="shop", name="Shop", owner=people["service_owner"])
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2026-08-07.json")
    return Crew(people=people, shop=shop, base_url=str(live_server.url))


@pytest.fixture
def session_for(browser: Browser, crew: Crew) -> Iterator[Any]:
    """``session_for("ciso")``: a page in a new browser context (own cookies), signed in."""
    contexts: list[BrowserContext] = []

    def open_as(role: str | None) -> Page:
        context = browser.new_context(base_url=crew.base_url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        if role is not None:
            sign_in(page, f"{role}@example.org")
        return page

    yield open_as
    for context in contexts:
        context.close()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
