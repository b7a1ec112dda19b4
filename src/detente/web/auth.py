"""Sign-in (password, then the second factor when enrolled) and the guard every page uses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from detente.access.services import signin_failure_record, totp_required, totp_verify
from detente.access.throttle import (
    Lockout,
    signin_failed,
    signin_locked,
    signin_succeeded,
)
from detente.people.models import Person, Role

View = Callable[..., HttpResponseBase]


def person_of(request: HttpRequest) -> Person | None:
    user = request.user
    if not user.is_authenticated or not request.session.get("second_factor_ok"):
        return None
    person: Person | None = getattr(user, "person", None)
    return person if person is not None and person.active else None


def signed_in(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        person = person_of(request)
        if person is None:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('web:login')}?{query}")
        if person.role == Role.FACILITATOR:
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
        if person.role != Role.FACILITATOR:
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


def _refused(request: HttpRequest, error: str, seconds: int) -> HttpResponse:
    response = render(
        request, "web/login.html", {"error": error, "next": _next(request)}, status=429
    )
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
    if request.method == "POST":
        email = request.POST.get("email", "").strip().lower()
        locked = signin_locked(email=email, address=_address(request))
        if locked is not None:  # not even checked: a locked account gives no oracle
            return _refused(request, _wait_message(locked.seconds), locked.seconds)
        user = authenticate(request, username=email, password=request.POST.get("password", ""))
        if user is None or getattr(user, "person", None) is None:
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
    return render(
        request,
        "web/login.html",
        {"error": error, "next": _next(request), "email": email},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def login_code_view(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import get_user_model

    pending = request.session.get("pending_user")
    if pending is None:
        return HttpResponseRedirect(reverse("web:login"))
    user = get_user_model().objects.get(pk=pending)
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
    logout(request)
    return HttpResponseRedirect(reverse("web:login"))
