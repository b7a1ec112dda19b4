"""Sign-in (password, then the second factor when enrolled; or single sign-on through the
organisation's OpenID provider, ``access.oidc``) and the guard every page uses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from detente.access import oidc
from detente.access.selectors import account_get
from detente.access.services import signin_failure_record, totp_required, totp_verify
from detente.access.throttle import (
    Lockout,
    signin_failed,
    signin_locked,
    signin_succeeded,
)
from detente.core.errors import DetenteError
from detente.people.models import Person, Role

View = Callable[..., HttpResponseBase]
ID_TOKEN_KEY = "oidc_id_token"  # noqa: S105 - a session key, not a secret


def person_of(request: HttpRequest) -> Person | None:
    """The signed-in person, read afresh on every request (roles included: nothing about rights
    is kept in the session, so a role change shows at the next request). A deactivated person's
    session ends here."""
    user = request.user
    if not user.is_authenticated or not request.session.get("second_factor_ok"):
        return None
    person: Person | None = getattr(user, "person", None)
    if person is not None and not person.active:
        logout(request)  # flushes the session: signing in again is refused while inactive
        return None
    return person


def signed_in(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        person = person_of(request)
        if person is None:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('web:login')}?{query}")
        if person.has_role(Role.FACILITATOR):
            # Least privilege: an external facilitator has one door (``facilitator_door``).
            return HttpResponseRedirect(reverse("web:facilitator"))
        request.person = person  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def facilitator_door(view: View) -> View:
    """The one page a facilitator reaches (the view checks the reset's window on every request)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        person = person_of(request)
        if person is None:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('web:login')}?{query}")
        if not person.has_role(Role.FACILITATOR):
            return HttpResponseRedirect(reverse("web:reset"))
        request.person = person  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("web:home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return reverse("web:home")
    return target


def _finish(request: HttpRequest, user: AbstractBaseUser) -> HttpResponse:
    login(request, user)  # type: ignore[arg-type]  # rotates the session key
    request.session["second_factor_ok"] = True
    return HttpResponseRedirect(_next(request))


def _address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _wait_message(seconds: int) -> str:
    return f"Too many failed sign-ins. Try again in {seconds} seconds."


def _login_page(
    request: HttpRequest, *, error: str = "", email: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "web/login.html",
        {
            "error": error, "next": _next(request), "email": email,
            "sso": oidc.sso_enabled(), "provider": oidc.provider_name(),
            "password": oidc.password_signin_enabled(),
        },
        status=status,
    )  # fmt: skip


def _refused(request: HttpRequest, error: str, seconds: int) -> HttpResponse:
    response = _login_page(request, error=error, status=429)
    if seconds > 0:
        response["Retry-After"] = str(seconds)
    return response


def _failed(request: HttpRequest, email: str, reason: str) -> Lockout | None:
    lockout = signin_failed(email=email, address=_address(request))
    signin_failure_record(email=email, address=_address(request), reason=reason, lockout=lockout)
    return lockout


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST" and not oidc.password_signin_enabled():
        return _login_page(
            request, status=403,
            error=f"Password sign-in is switched off: sign in with {oidc.provider_name()}.",
        )  # fmt: skip
    if request.method == "POST":
        email = request.POST.get("email", "").strip().lower()
        locked = signin_locked(email=email, address=_address(request))
        if locked is not None:  # not even checked: a locked account gives no oracle
            return _refused(request, _wait_message(locked.seconds), locked.seconds)
        user = authenticate(request, username=email, password=request.POST.get("password", ""))
        person = getattr(user, "person", None) if user is not None else None
        if user is None or person is None or not person.active:  # deactivated: no sign-in
            lockout = _failed(request, email, "password")
            if lockout is not None:
                return _refused(request, _wait_message(lockout.seconds), lockout.seconds)
            error = "E-mail or password is wrong."
        elif totp_required(user):
            request.session["pending_user"] = user.pk
            request.session["pending_attempts"] = 0
            query = urlencode({"next": _next(request)})
            return HttpResponseRedirect(f"{reverse('web:login_code')}?{query}")
        else:
            signin_succeeded(email=email)
            return _finish(request, user)
    status = 401 if error else 200
    # A failed sign-in keeps the e-mail typed (never the password).
    email = request.POST.get("email", "").strip() if request.method == "POST" else ""
    return _login_page(request, error=error, email=email, status=status)


@require_http_methods(["GET", "POST"])
def login_code_view(request: HttpRequest) -> HttpResponse:

    pending = request.session.get("pending_user")
    if pending is None or not oidc.password_signin_enabled():
        return HttpResponseRedirect(reverse("web:login"))
    user = account_get(pending)
    email = user.get_username()
    error = ""
    if request.method == "POST":
        locked = signin_locked(email=email, address=_address(request))
        if locked is not None:
            del request.session["pending_user"]
            return _refused(request, _wait_message(locked.seconds), locked.seconds)
        if totp_verify(user=user, code=request.POST.get("code", "")):
            del request.session["pending_user"]
            signin_succeeded(email=email)
            user.backend = "django.contrib.auth.backends.ModelBackend"  # type: ignore[attr-defined]
            return _finish(request, user)
        attempts = int(request.session.get("pending_attempts", 0)) + 1
        request.session["pending_attempts"] = attempts
        lockout = _failed(request, email, "code")
        if lockout is not None or attempts >= settings.DETENTE_TOTP_ATTEMPTS:
            del request.session["pending_user"]  # this pending sign-in is spent
            seconds = lockout.seconds if lockout is not None else 0
            message = (
                _wait_message(seconds)
                if lockout is not None
                else "Too many wrong codes. Sign in again with your password."
            )
            return _refused(request, message, seconds)
        error = "That code is not valid."
    return render(
        request, "web/login_code.html", {"error": error, "next": _next(request)},
        status=401 if error else 200,
    )  # fmt: skip


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out here; signed in by single sign-on, also at the provider (RP-initiated logout),
    which sends the browser back to the sign-in page."""
    id_token = request.session.get(ID_TOKEN_KEY)
    target = reverse("web:login")
    if request.session.get("signed_in_with") == "sso" and isinstance(id_token, str):
        try:
            config = oidc.oidc_config()
        except DetenteError:
            config = None  # single sign-on was switched off since: end the local session only
        if config is not None:
            back = config.post_logout_redirect_uri or request.build_absolute_uri(target)
            target = (
                oidc.oidc_logout_url(cfg=config, id_token=id_token, post_logout_redirect_uri=back)
                or target
            )
    logout(request)
    return HttpResponseRedirect(target)


# ------------------------------------------------------------------------------ single sign-on


@require_GET
def sso_start(request: HttpRequest) -> HttpResponse:
    """Off to the identity provider, with a fresh state, nonce and PKCE verifier in the session."""
    if not oidc.sso_enabled():
        raise Http404("single sign-on is off")
    try:
        config = oidc.oidc_config()
        redirect_uri = config.redirect_uri or request.build_absolute_uri(
            reverse("web:sso_callback")
        )
        url = oidc.oidc_begin(
            cfg=config, session=request.session, redirect_uri=redirect_uri,
            next_url=_next(request),
        )  # fmt: skip
    except DetenteError as exc:
        return _login_page(request, error=_sso_message(exc), status=_sso_status(exc))
    return HttpResponseRedirect(url)


@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    """Back from the provider: verify, provision (role from groups), sign in. Local TOTP is not
    asked: the provider does the second factor for its accounts (docs/sso.md)."""
    if not oidc.sso_enabled():
        raise Http404("single sign-on is off")
    try:
        config = oidc.oidc_config()
        sign_in = oidc.oidc_complete(cfg=config, session=request.session, params=request.GET)
        person = oidc.oidc_person_provision(cfg=config, sign_in=sign_in)
    except DetenteError as exc:
        return _login_page(request, error=_sso_message(exc), status=_sso_status(exc))
    user = person.user
    assert user is not None  # provisioning gives every person it lets in an account
    user.backend = "django.contrib.auth.backends.ModelBackend"  # type: ignore[attr-defined]
    login(request, user)  # rotates the session key
    request.session["second_factor_ok"] = True
    request.session["signed_in_with"] = "sso"
    request.session[ID_TOKEN_KEY] = sign_in.id_token  # the hint for single logout
    target = sign_in.next_url or reverse("web:home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("web:home")
    return HttpResponseRedirect(target)


def _sso_message(exc: DetenteError) -> str:
    if isinstance(exc, oidc.SsoUnavailable):
        return f"{oidc.provider_name()} cannot be reached right now: {exc}. Try again later."
    if isinstance(exc, oidc.SsoRefused | oidc.SsoError):
        return f"Sign-in refused: {exc}."
    return f"Single sign-on is not set up correctly ({exc}); tell your administrator."


def _sso_status(exc: DetenteError) -> int:
    return exc.http_status if isinstance(exc, oidc.SsoError | oidc.SsoRefused) else 503
