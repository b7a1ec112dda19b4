"""Reading accounts and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from detente.access.models import ApiToken, TotpDevice
from detente.core.errors import NotFound
from detente.people.models import Person


def tokens_of(person: Person) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(person=person)


def token_by_prefix(prefix: str) -> ApiToken:
    found = ApiToken.objects.filter(prefix=prefix).first()
    if found is None:
        raise NotFound(f"no token {prefix}")
    return found


def tokens_listed(person: Person) -> QuerySet[ApiToken]:
    """The person's own tokens, newest first (the account page)."""
    return tokens_of(person).order_by("-created_at", "-pk")


def own_token(person: Person, pk: int) -> ApiToken | None:
    """Token ``pk`` if it is ``person``'s own (the account page manages only one's own)."""
    return ApiToken.objects.filter(pk=pk, person=person).first()


def totp_state(user: User) -> str:
    """``off`` (no device), ``pending`` (not confirmed yet) or ``on``."""
    device = TotpDevice.objects.filter(user=user).first()
    return "off" if device is None else ("on" if device.confirmed else "pending")


def account_get(pk: int) -> User:
    """The account a half-finished sign-in (password given, code pending) belongs to."""
    return User.objects.get(pk=pk)
