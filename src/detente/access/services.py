"""Accounts, tokens and second factors. Secrets never reach a log or an audit event."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import pyotp
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from detente.access.models import ApiToken, Scope, TotpDevice
from detente.access.throttle import Lockout
from detente.audit.services import audit_record
from detente.core import clock
from detente.core.busy import skip_when_busy
from detente.core.errors import InputError, NotFound, PermissionDenied, RuleViolation
from detente.people.models import Person, Role

TOKEN_PREFIX = "dtt"  # noqa: S105 - a public marker, not a secret
MAX_TOKEN_DAYS = 365
ISSUER = "Détente"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def account_set_password(*, person: Person, password: str, actor: Person | None = None) -> None:
    """Create or update the sign-in account of ``person`` (username = e-mail; argon2 hash)."""
    if len(password) < 12:
        raise InputError("a password has at least 12 characters", field="password")
    user_model = get_user_model()
    with transaction.atomic():
        user = person.user
        if user is None:
            user = user_model.objects.create_user(username=person.email, email=person.email)
            person.user = user
            person.save(update_fields=["user"])
        user.set_password(password)
        user.save()
        audit_record(
            actor=actor, verb="account.password_set", subject_type="person", subject_id=person.pk
        )


def token_issue(
    *, actor: Person, person: Person, name: str, scope: str = Scope.READ, days: int = 90
) -> tuple[ApiToken, str]:
    """Issue a token; return it with its only plaintext copy."""
    if actor.pk != person.pk and not actor.has_any_role((Role.CISO, Role.SECURITY_LEAD)):
        raise PermissionDenied("you issue tokens for yourself only")
    if scope not in Scope.values:
        raise InputError(f"unknown scope {scope!r}", field="scope")
    if person.has_role(Role.AUDITOR) and scope != Scope.READ:
        raise PermissionDenied("an auditor's token can only read")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InputError(f"a token lives 1 to {MAX_TOKEN_DAYS} days", field="days")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    now = clock.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            person=person,
            name=name.strip()[:100] or "token",
            prefix=prefix,
            digest=_digest(raw),
            scope=scope,
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
        audit_record(
            actor=actor, verb="token.issued", subject_type="token", subject_id=token.pk,
            after={"person": person.pk, "prefix": prefix, "scope": scope, "days": days},
        )  # fmt: skip
    return token, raw


def token_revoke(*, actor: Person, token: ApiToken) -> None:
    if actor.pk != token.person_id and not actor.has_any_role((Role.CISO, Role.SECURITY_LEAD)):
        raise PermissionDenied("you revoke your own tokens only")
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = clock.now()
            locked.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor, verb="token.revoked", subject_type="token", subject_id=locked.pk
            )


def token_authenticate(raw: str) -> tuple[Person, str] | None:
    """The person and scope behind a presented token, or None (unknown, expired, revoked)."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("person").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(raw.strip())):
        return None
    now = clock.now()
    if token.revoked_at is not None or token.expires_at <= now or not token.person.active:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        # Bookkeeping, not per request, and skipped while an import holds the write lock: a
        # read must never wait for it.
        skip_when_busy(lambda: ApiToken.objects.filter(pk=token.pk).update(last_used_at=now))
    return token.person, token.scope


# ------------------------------------------------------------------------------ TOTP


def totp_begin(*, user: User, replace: bool = True) -> str:
    """Start (or restart) enrolment; returns the otpauth:// URI for an authenticator app.

    Restarting turns a confirmed second factor off until the new one is confirmed, so
    ``replace=False`` (self-service: the account page) refuses while one is on; an operator's
    ``detente account totp`` re-enrols someone who lost their authenticator."""
    secret = pyotp.random_base32()
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is not None and device.confirmed and not replace:
            raise RuleViolation("the second factor is already on; an operator re-enrols a lost one")
        TotpDevice.objects.update_or_create(
            user=user, defaults={"secret": secret, "confirmed": False}
        )
        audit_record(
            actor=getattr(user, "person", None), verb="totp.enrolment_started",
            subject_type="user", subject_id=user.pk,
            after={"replaced_confirmed": bool(device is not None and device.confirmed)},
        )  # fmt: skip
    return pyotp.TOTP(secret).provisioning_uri(name=str(user.get_username()), issuer_name=ISSUER)


def _check(device: TotpDevice, code: str, at: float) -> int | None:
    code = code.strip()
    if not (code.isascii() and code.isdigit()):  # compare_digest raises on non-ASCII text
        return None
    totp = pyotp.TOTP(device.secret)
    for drift in (0, -1, 1):
        counter = int(at // 30) + drift
        fresh = counter > device.last_counter
        if fresh and hmac.compare_digest(totp.at(counter * 30), code):
            return counter
    return None


def totp_confirm(*, user: User, code: str) -> None:
    device = TotpDevice.objects.filter(user=user).first()
    if device is None:
        raise NotFound("no second factor is being enrolled")
    counter = _check(device, code, clock.now().timestamp())
    if counter is None:
        raise InputError("that code is not valid", field="code")
    with transaction.atomic():
        device.confirmed, device.last_counter = True, counter
        device.save(update_fields=["confirmed", "last_counter"])
        audit_record(
            actor=getattr(user, "person", None), verb="totp.enabled", subject_type="user",
            subject_id=user.pk,
        )  # fmt: skip


def totp_required(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed=True).exists()


def totp_verify(*, user: User, code: str) -> bool:
    """Check a sign-in code; each code works once."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            return True
        counter = _check(device, code, clock.now().timestamp())
        if counter is None:
            return False
        device.last_counter = counter
        device.save(update_fields=["last_counter"])
        return True


# ------------------------------------------------------------------------------ sign-in failures


def signin_failure_record(
    *, email: str, address: str, reason: str, lockout: Lockout | None = None
) -> None:
    """Audit a failed sign-in (and the lockout it started). The typed e-mail is kept only when it
    names an account: an unknown one may be a password typed into the wrong field."""
    person = Person.objects.filter(user__username=email.strip().lower()).first()
    subject = str(person.pk) if person is not None else "unknown"
    with transaction.atomic():
        audit_record(
            actor=None, actor_label=f"sign-in from {address}", verb="access.signin_failed",
            subject_type="account", subject_id=subject,
            after={"address": address, "reason": reason},
        )  # fmt: skip
        if lockout is not None:
            audit_record(
                actor=None, actor_label=f"sign-in from {address}", verb="access.signin_locked",
                subject_type="account", subject_id=subject,
                after={"address": address, "scope": lockout.scope, "seconds": lockout.seconds},
            )  # fmt: skip
