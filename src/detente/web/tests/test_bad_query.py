"""Every page validates its query: a value it cannot use is a 400 page naming the field, never a
500 (``/findings?cursor=abc`` was one)."""

from __future__ import annotations

import pytest
from django.test import Client

from detente.people.models import Person
from detente.web.tests.test_headers import PAGES, _client, ciso  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
GARBAGE = (
    "cursor=abc&status=bogus&severity=x&before=abc&period=2026-13&open=zz&finding=abc"
    "&service=%00&next=//evil.example&scope=zz&limit=-1&since=zz&until=zz&cve=%ff"
)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/findings?cursor=abc", "cursor"),
        ("/findings.csv?severity=urgent", "severity"),
        ("/findings?status=bogus", "status"),
        ("/findings?severity=urgent", "severity"),
        ("/acceptances?status=bogus", "status"),
        ("/audit?before=abc", "before"),
    ],
)
def test_a_bad_query_value_is_a_400_page_naming_the_field(
    ciso: Person,  # noqa: F811
    path: str,
    field: str,
) -> None:
    response = _client(ciso).get(path)
    assert response.status_code == 400
    body = response.content.decode()
    assert "<h1>Bad request</h1>" in body
    assert f"field &#x27;{field}&#x27;" in body or field in body


def test_no_page_answers_500_to_garbage_in_its_query(ciso: Person) -> None:  # noqa: F811
    client: Client = _client(ciso)
    for path in PAGES:
        response = client.get(f"{path}?{GARBAGE}")
        assert response.status_code < 500, path
