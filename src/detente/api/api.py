"""The one module that assembles the REST API: routers, auth, and the one error model."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from detente import __version__
from detente.api.auth import AUTH, RateLimited
from detente.api.routes import (
    acceptances,
    api_register,
    findings,
    gates,
    incidents,
    initiatives,
    meetings,
    org,
    other,
    planning,
    tension,
)
from detente.core.errors import DetenteError, InputError

api = NinjaAPI(
    title="Détente API",
    version=__version__,
    description=(
        "Findings with their deadlines and why, scan imports, risk acceptances signed by both "
        "sides, decision records and the audit trail. Authenticate with `Authorization: Bearer "
        "dtt_…` (tokens are scoped read or write and expire) or a signed-in session (CSRF)."
    ),
    auth=AUTH,
    urls_namespace="api",
    docs_url="/docs",
)
api.add_router("", findings.router)
api.add_router("", findings.imports)
api.add_router("", acceptances.router)
api.add_router("", other.decisions)
api.add_router("", other.people)
api.add_router("", other.audit)
api.add_router("", incidents.router)
api.add_router("", tension.router)
api.add_router("", planning.router)
api.add_router("", gates.router)
api.add_router("", api_register.router)
api.add_router("", initiatives.router)
api.add_router("", org.router)
api.add_router("", meetings.router)


def _error(
    request: HttpRequest, status: int, code: str, message: str, **where: str | None
) -> HttpResponse:
    body = {"error": {"code": code, "message": message, **where}}
    return api.create_response(request, body, status=status)


@api.exception_handler(DetenteError)
def domain_error(request: HttpRequest, exc: DetenteError) -> HttpResponse:
    if isinstance(exc, InputError):
        return _error(
            request, exc.http_status, exc.code, str(exc), field=exc.field, record=exc.record
        )
    return _error(request, exc.http_status, exc.code, str(exc))


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    location = ".".join(str(part) for part in first.get("loc", ()))
    return _error(
        request, 422, "bad_input", str(first.get("msg", "invalid request")), field=location or None
    )


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "sign in or send a valid API token")


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = _error(request, 429, "rate_limited", str(exc))
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "error", str(exc))
