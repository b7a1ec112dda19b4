"""Reading accounts and API tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from detente.access.models import ApiToken
from detente.core.errors import NotFound
from detente.people.models import Person


def tokens_of(person: Person) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(person=person)


def token_by_prefix(prefix: str) -> ApiToken:
    found = ApiToken.objects.filter(prefix=prefix).first()
    if found is None:
        raise NotFound(f"no token {prefix}")
    return found
