"""Accounts, second factors and tokens from the command line."""

from __future__ import annotations

import pyotp
import pytest
from django.contrib.auth import authenticate
from typer.testing import CliRunner

from detente.access import services as access
from detente.access.models import ApiToken
from detente.cli.main import build_app
from detente.core import clock
from detente.people.models import Person, Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def ciso() -> Person:
    return person_upsert(name="Sam", email="sam@example.org", role=Role.CISO)


def _set_password(runner: CliRunner) -> None:
    result = runner.invoke(
        build_app(), ["account", "password", "sam@example.org", "--password-stdin"],
        input="a long enough passphrase\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_password_is_set_and_hashed_with_argon2(ciso: Person) -> None:
    _set_password(CliRunner())
    user = authenticate(username="sam@example.org", password="a long enough passphrase")
    assert user is not None
    assert user.password.startswith("argon2")


def test_a_short_password_is_refused(ciso: Person) -> None:
    result = CliRunner().invoke(
        build_app(), ["account", "password", "sam@example.org", "--password-stdin"], input="short\n"
    )
    assert result.exit_code != 0
    ciso.refresh_from_db()
    assert ciso.user is None


def test_a_token_is_shown_once_works_and_can_be_revoked(ciso: Person) -> None:
    runner, app = CliRunner(), build_app()
    issued = runner.invoke(
        app, ["token", "issue", "--as", "sam@example.org", "--name", "ci", "--scope", "write"]
    )
    assert issued.exit_code == 0, issued.output
    raw = issued.output.strip().splitlines()[-1]
    assert raw.startswith("dtt_")
    assert access.token_authenticate(raw) == (ciso, "write")
    listing = runner.invoke(app, ["token", "list", "--as", "sam@example.org", "--format", "json"])
    assert raw.split("_", 2)[2] not in listing.output
    prefix = raw.split("_")[1]
    assert runner.invoke(app, ["token", "revoke", prefix, "--as", "sam@example.org"]).exit_code == 0
    assert access.token_authenticate(raw) is None
    assert ApiToken.objects.get(prefix=prefix).revoked_at is not None


def test_totp_enrolment_then_each_code_works_once(
    ciso: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    _set_password(runner)
    ciso.refresh_from_db()
    assert ciso.user is not None
    monkeypatch.setattr(pyotp, "random_base32", lambda: SECRET)
    totp = pyotp.TOTP(SECRET)

    wrong = runner.invoke(build_app(), ["account", "totp", "sam@example.org"], input="000000\n")
    assert wrong.exit_code != 0
    assert not access.totp_required(ciso.user)

    now = clock.now().timestamp()
    good = runner.invoke(
        build_app(), ["account", "totp", "sam@example.org"], input=totp.at(now) + "\n"
    )
    assert good.exit_code == 0, good.output
    assert f"secret={SECRET}" in good.output
    assert access.totp_required(ciso.user)

    later = now + 30
    code = totp.at(later)
    assert access.totp_verify(user=ciso.user, code=code)
    assert not access.totp_verify(user=ciso.user, code=code)  # replayed: refused
    assert not access.totp_verify(user=ciso.user, code="123456")
