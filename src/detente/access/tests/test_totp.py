"""Second-factor rules the services keep: self-service cannot switch a confirmed factor off by
restarting enrolment (an operator can), and a code that is not ASCII digits is refused, not
crashed on."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.contrib.auth.models import User

from detente.access import services as access
from detente.access.models import TotpDevice
from detente.core import clock
from detente.core.errors import InputError, RuleViolation
from detente.people.models import Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 9, 1, 12, 0, 10, tzinfo=dt.UTC)


@pytest.fixture
def user() -> User:
    clock.set_now(NOW)
    person = person_upsert(name="Eve", email="eve@example.org", role=Role.ENGINEER)
    access.account_set_password(person=person, password="correct horse battery staple")
    person.refresh_from_db()
    assert person.user is not None
    return person.user


def _enrol(user: User) -> pyotp.TOTP:
    totp = pyotp.parse_uri(access.totp_begin(user=user, replace=False))
    assert isinstance(totp, pyotp.TOTP)
    access.totp_confirm(user=user, code=totp.at(NOW))
    return totp


def test_self_service_cannot_restart_a_confirmed_second_factor(user: User) -> None:
    _enrol(user)
    before = TotpDevice.objects.get(user=user)
    with pytest.raises(RuleViolation, match="already on"):
        access.totp_begin(user=user, replace=False)
    after = TotpDevice.objects.get(user=user)
    assert (after.secret, after.confirmed, after.last_counter) == (
        before.secret, True, before.last_counter,
    )  # fmt: skip
    assert access.totp_required(user)


def test_an_operator_re_enrols_and_a_pending_enrolment_restarts(user: User) -> None:
    _enrol(user)
    first = TotpDevice.objects.get(user=user).secret
    access.totp_begin(user=user)  # the CLI's re-enrolment: off until the new one is confirmed
    pending = TotpDevice.objects.get(user=user)
    assert (pending.confirmed, pending.secret != first) == (False, True)
    assert not access.totp_required(user)
    access.totp_begin(user=user, replace=False)  # not confirmed yet: restarting is fine
    assert TotpDevice.objects.get(user=user).secret not in (first, pending.secret)


@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "12345é", "abcdef", "", "  "])
def test_a_code_that_is_not_ascii_digits_is_refused(user: User, code: str) -> None:
    access.totp_begin(user=user)
    with pytest.raises(InputError, match="not valid"):
        access.totp_confirm(user=user, code=code)
    assert not access.totp_required(user)
    totp = pyotp.TOTP(TotpDevice.objects.get(user=user).secret)
    access.totp_confirm(user=user, code=totp.at(NOW))
    assert access.totp_verify(user=user, code=code) is False
    assert access.totp_verify(user=user, code=f" {totp.at(NOW + dt.timedelta(seconds=30))} ")


def test_enrolment_and_confirmation_are_in_the_audit_trail() -> None:
    from detente.audit.models import AuditEvent

    user = User.objects.create_user(username="audited", password="a long passphrase 1")
    uri = access.totp_begin(user=user)
    secret = pyotp.parse_uri(uri).secret
    access.totp_confirm(user=user, code=pyotp.TOTP(secret).now())
    verbs = list(
        AuditEvent.objects.filter(subject_type="user", subject_id=str(user.pk)).values_list(
            "verb", flat=True
        )
    )
    assert verbs == ["totp.enrolment_started", "totp.enabled"]
