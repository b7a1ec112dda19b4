"""Who is calling: a bearer token (hashed at rest, scoped, expiring) or a signed-in session
(CSRF-checked on unsafe methods, second factor passed when enrolled)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from detente.access.services import token_authenticate
from detente.access.throttle import TOKEN_RATE
from detente.core.errors import PermissionDenied
from detente.people.models import Person, Role

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The one door an external facilitator has (least privilege); the reset's window is checked there.
FACILITATOR_PATHS = ("/api/resets/facilitator",)


def _least_privilege(request: HttpRequest, person: Person) -> None:
    """A facilitator reads their reset's evidence pack and nothing else."""
    if person.has_role(Role.FACILITATOR) and (
        request.method not in SAFE_METHODS or request.path not in FACILITATOR_PATHS
    ):
        raise PermissionDenied("a facilitator reads only the reset's evidence pack")


class RateLimited(Exception):
    """Too many requests with one token this minute; answered 429 with ``Retry-After``."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests with this token; retry in {retry_after} s")
        self.retry_after = retry_after


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Person | None:
        found = token_authenticate(token)
        if found is None:
            return None
        if (wait := TOKEN_RATE.allow(token.strip().split("_", 2)[1])) is not None:
            raise RateLimited(wait)
        person, scope = found
        _least_privilege(request, person)
        request.detente_person = person  # type: ignore[attr-defined]
        # rights are the person's now, not when the token was made: an auditor only reads
        request.detente_scope = "read" if person.has_role(Role.AUDITOR) else scope  # type: ignore[attr-defined]
        return person


class PersonSessionAuth(SessionAuth):
    """Django's session, mapped to the signed-in Person; CSRF is checked by the base class."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Person | None:
        user = super().authenticate(request, key)
        if not user:
            return None
        person: Person | None = getattr(user, "person", None)
        if person is not None and not person.active:
            logout(request)  # a deactivated person's session ends
            return None
        if person is None or not request.session.get("second_factor_ok"):
            return None
        _least_privilege(request, person)
        request.detente_person = person  # type: ignore[attr-defined]
        request.detente_scope = "write"  # type: ignore[attr-defined]
        return person


def actor(request: HttpRequest) -> Person:
    person: Person = request.detente_person  # type: ignore[attr-defined]
    return person


def require_write(request: HttpRequest) -> Person:
    """The caller, if allowed to change things (a read-only token is refused)."""
    if getattr(request, "detente_scope", "read") != "write":
        raise PermissionDenied("this token is read-only")
    return actor(request)


AUTH: list[Any] = [TokenAuth(), PersonSessionAuth()]
