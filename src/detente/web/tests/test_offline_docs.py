"""/api/docs works with no internet: Swagger UI comes from the app's own static files."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.test import Client

from detente.people.models import Role
from detente.people.services import person_upsert
from detente.reports.tests.test_needs import _client


def test_the_api_docs_use_only_our_static_files(db: None) -> None:
    page = Client().get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in sources
    assert "/static/ninja/swagger-ui.css" in sources
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    for path in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"):
        assert finders.find(path), path


def test_the_account_page_links_to_the_api_docs(db: None) -> None:
    person = person_upsert(name="Eng", email="eng@example.org", role=Role.ENGINEER)
    page = _client(person).get("/account")
    assert 'href="/api/docs"' in page.content.decode()


def test_favicon_and_a_failed_sign_in_keeps_the_email(db: None) -> None:
    from detente.access.services import account_set_password

    icon = Client().get("/favicon.ico")
    assert (icon.status_code, icon["Location"]) == (301, "/static/web/favicon.svg")
    assert finders.find("web/favicon.svg")
    person = person_upsert(name="Eng", email="eng@example.org", role=Role.ENGINEER)
    account_set_password(person=person, password="correct horse battery staple")
    failed = Client().post("/login", {"email": "eng@example.org", "password": "wrong one!"})
    assert failed.status_code == 401
    html = failed.content.decode()
    assert 'value="eng@example.org"' in html
    assert "wrong one!" not in html
