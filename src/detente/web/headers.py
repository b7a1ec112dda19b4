"""Security headers on every response (pages, API, static files).

The Content-Security-Policy allows nothing inline: no ``<script>`` body, no ``on…=`` attribute,
no ``style=``; scripts and styles come from our own static files. Django's SecurityMiddleware
already sends ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy`` (settings); this adds
the policy, and HSTS whenever the request came over TLS or ``DETENTE_SECURE_COOKIES=1`` says
the site is served over TLS behind a proxy.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

CSP = (
    "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("X-Frame-Options", "DENY")  # old browsers; CSP frame-ancestors
        response.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin")
        if request.is_secure() or settings.SESSION_COOKIE_SECURE:
            response.setdefault("Strict-Transport-Security", HSTS)
        return response
