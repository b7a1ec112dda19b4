"""Every page, the API and static files carry the security headers; no page has inline script
(or inline style) for the Content-Security-Policy to block."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from detente.access.services import account_set_password
from detente.people.models import Person, Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db
CSP = (
    "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=|<style", re.I)
ARG = re.compile(r"<(?:(\w+):)?(\w+)>")


def _paths(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _paths(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            if route.startswith("^"):
                continue  # regex routes (static, admin-like): covered below by a real file
            yield "/" + ARG.sub(lambda m: "1" if m[1] == "int" else "x", prefix + route)


PAGES = sorted(set(_paths(get_resolver().url_patterns)))


@pytest.fixture
def ciso() -> Person:
    person = person_upsert(name="Sam", email="sam@example.org", role=Role.CISO)
    account_set_password(person=person, password="correct horse battery staple")
    person.refresh_from_db()
    return person


def _client(person: Person) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(person.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client


def _assert_headers(response: Any, where: str) -> None:
    assert response["Content-Security-Policy"] == CSP, where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["X-Frame-Options"] == "DENY", where


def test_every_page_has_the_headers_and_no_inline_script(ciso: Person) -> None:
    client = _client(ciso)
    assert len(PAGES) > 40
    for path in [*PAGES, "/api/docs", "/api/openapi.json", "/static/web/app.css"]:
        response = client.get(path)
        _assert_headers(response, path)
        assert "Strict-Transport-Security" not in response, path
        if response.status_code == 200 and "text/html" in response["Content-Type"]:
            body = b"".join(response).decode() if response.streaming else response.content.decode()
            assert not INLINE_SCRIPT.search(body), path
            assert not INLINE_HANDLER.search(body), path
            assert not INLINE_STYLE.search(body), path


def test_signed_out_pages_and_errors_have_them_too(ciso: Person) -> None:
    for path in ("/login", "/", "/no-such-page", "/api/findings"):
        _assert_headers(Client().get(path), path)


def test_hsts_over_tls_or_when_secure_cookies_say_so(ciso: Person, settings: Any) -> None:
    over_tls = Client().get("/login", secure=True)
    assert over_tls["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    settings.SESSION_COOKIE_SECURE = True  # DETENTE_SECURE_COOKIES=1 (TLS ends at a proxy)
    behind_proxy = Client().get("/login")
    assert behind_proxy["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
