"""``detente account …`` and ``detente token …``: sign-in accounts, second factors, API tokens."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from detente.cli.common import OutputFormat, console, emit, ensure_database
from detente.core.errors import InputError, NotFound

account_app = typer.Typer(help="Sign-in accounts and their second factor.")
token_app = typer.Typer(help="API tokens: shown once, stored as a digest, scoped, expiring.")

As = Annotated[str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")]


def register(app: typer.Typer) -> None:
    app.add_typer(account_app, name="account", no_args_is_help=True)
    app.add_typer(token_app, name="token", no_args_is_help=True)


@account_app.command("password")
def account_password(
    email: Annotated[str, typer.Argument(help="Whose account.")],
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input (for scripts).")
    ] = False,
) -> None:
    """Create or reset a sign-in account's password (asked twice, never echoed)."""
    ensure_database()
    from detente.access.services import account_set_password
    from detente.people.selectors import person_by_email

    person = person_by_email(email)
    if password_stdin:
        password = typer.get_text_stream("stdin").readline().rstrip("\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != password:
            raise InputError("the two passwords differ", field="password")
    account_set_password(person=person, password=password)
    console.print(f"password set for {person.email}")


@account_app.command("totp")
def account_totp(email: Annotated[str, typer.Argument()]) -> None:
    """Enrol an authenticator app: prints the otpauth:// URI (and a QR code), then asks for a
    code to confirm. From then on, sign-in asks for a code."""
    ensure_database()
    from detente.access.services import totp_begin, totp_confirm
    from detente.people.selectors import person_by_email

    person = person_by_email(email)
    if person.user is None:
        raise NotFound(f"{person.email} has no sign-in account yet; set a password first")
    uri = totp_begin(user=person.user)
    console.print("Add this to your authenticator app:")
    console.print(uri, soft_wrap=True, markup=False, highlight=False)
    try:
        import segno

        segno.make(uri).terminal(compact=True)
    except ImportError:  # pragma: no cover - segno is a dependency; the URI suffices
        pass
    code = typer.prompt("Code shown by the app")
    totp_confirm(user=person.user, code=code)
    console.print("second factor enrolled")


@token_app.command("issue")
def token_issue_command(
    name: Annotated[str, typer.Option(help="What the token is for.")],
    actor: As = None,
    scope: Annotated[str, typer.Option(help="read or write")] = "read",
    days: Annotated[int, typer.Option(min=1, max=365)] = 90,
    person: Annotated[
        str | None, typer.Option(help="Issue for this person (CISO or security lead only).")
    ] = None,
) -> None:
    """Issue an API token. It is printed once; only its digest is kept."""
    ensure_database()
    from detente.access.services import token_issue
    from detente.people.selectors import person_by_email

    me = person_by_email(actor)
    owner = person_by_email(person) if person else me
    token, raw = token_issue(actor=me, person=owner, name=name, scope=scope, days=days)
    console.print(f"token {token.prefix} ({token.scope}, expires {token.expires_at:%Y-%m-%d}):")
    print(raw)


@token_app.command("list")
def token_list(
    actor: As = None, fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE
) -> None:
    """Your tokens (never their secret)."""
    ensure_database()
    from detente.access.selectors import tokens_of
    from detente.people.selectors import person_by_email

    me = person_by_email(actor)
    rows = [
        {"prefix": t.prefix, "name": t.name, "scope": t.scope, "expires": t.expires_at,
         "last_used": t.last_used_at, "revoked": t.revoked_at}
        for t in tokens_of(me)
    ]  # fmt: skip
    emit(rows, ["prefix", "name", "scope", "expires", "last_used", "revoked"], fmt, "Tokens")


@token_app.command("revoke")
def token_revoke_command(prefix: Annotated[str, typer.Argument()], actor: As = None) -> None:
    """Revoke a token by its prefix."""
    ensure_database()
    from detente.access.selectors import token_by_prefix
    from detente.access.services import token_revoke
    from detente.people.selectors import person_by_email

    token = token_by_prefix(prefix)
    token_revoke(actor=person_by_email(actor), token=token)
    console.print(f"token {prefix} revoked")
