"""The account page: your own API tokens (issue one, shown once; revoke one) and your TOTP second
factor (set up, confirm). Each form calls one access service, which holds the rules; a refusal
comes back as the page with its message and status 400, with nothing changed. Pages that carry a
secret (a new token, an enrolment URI) are never cached."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from detente.access import services
from detente.access.models import Scope
from detente.access.selectors import own_token, tokens_listed, totp_state
from detente.core.errors import DetenteError, InputError, NotFound
from detente.people.models import Person
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page


def _user(person: Person) -> User:
    if person.user is None:  # signed in means an account; kept for the type checker
        raise NotFound("you have no sign-in account")
    return person.user


def _text(request: HttpRequest, field: str) -> str:
    value = str(request.POST.get(field, ""))
    if "\x00" in value:  # PostgreSQL refuses NUL in text; the API's bodies refuse it too
        raise InputError("text must not contain NUL characters", field=field)
    return value


def _days(request: HttpRequest) -> int:
    """The form's days as a number; the service decides the range."""
    text = _text(request, "days").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        raise InputError(
            f"give the days as a whole number (1-{services.MAX_TOKEN_DAYS})", field="days"
        )
    return int(text)


def _qr(uri: str) -> str:
    """The enrolment URI as an inline SVG QR code (segno, a dependency the CLI uses too)."""
    svg: str = segno.make(uri, error="m").svg_inline(scale=4, svgclass="qr")
    return svg


def _page(
    request: HttpRequest, extra: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    person = actor(request)
    user = _user(person)
    totp = totp_state(user)
    response = render_page(
        request,
        "account.html",
        {
            "tokens": tokens_listed(person),
            "scopes": Scope.choices,
            "max_days": services.MAX_TOKEN_DAYS,
            "totp": totp,
            "form": request.POST,
        }
        | (extra or {}),
        status,
    )
    add_never_cache_headers(response)
    return response


def _refused(request: HttpRequest, exc: DetenteError) -> HttpResponse:
    messages.error(request, str(exc))
    return _page(request, status=400)


@signed_in
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return _page(request, {"form": {}})


@signed_in
@require_POST
def token_new(request: HttpRequest) -> HttpResponse:
    person = actor(request)
    try:
        token, raw = services.token_issue(
            actor=person,
            person=person,
            name=_text(request, "name"),
            scope=_text(request, "scope"),
            days=_days(request),
        )
    except DetenteError as exc:
        return _refused(request, exc)
    # Rendered, not redirected: this response is the only place the token ever appears.
    return _page(request, {"issued": token, "raw": raw, "form": {}})


@signed_in
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    person = actor(request)
    # This page manages your own tokens; anyone else's is not here (whatever your role).
    token = own_token(person, token_id)
    if token is None:
        return render_page(
            request, "error.html", {"message": f"You have no API token {token_id}."}, 404
        )
    try:
        services.token_revoke(actor=person, token=token)
    except DetenteError as exc:
        return _refused(request, exc)
    messages.success(
        request, f"Token {token.prefix} ({token.name}) revoked: the API refuses it now."
    )
    return HttpResponseRedirect(reverse("web:account"))


@signed_in
@require_POST
def totp_setup(request: HttpRequest) -> HttpResponse:
    try:
        uri = services.totp_begin(user=_user(actor(request)), replace=False)
    except DetenteError as exc:
        return _refused(request, exc)
    return _page(request, {"otpauth": uri, "qr": mark_safe(_qr(uri)), "form": {}})  # noqa: S308 - segno's SVG, no user text


@signed_in
@require_POST
def totp_confirm(request: HttpRequest) -> HttpResponse:
    try:
        services.totp_confirm(user=_user(actor(request)), code=_text(request, "code"))
    except DetenteError as exc:
        return _refused(request, exc)
    messages.success(request, "Second factor on: signing in now asks for a code from your app.")
    return HttpResponseRedirect(reverse("web:account"))
