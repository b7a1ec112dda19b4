"""A write that waited its bounded time for the database lock and gave up is answered 503 with
``Retry-After``: JSON in the API's one error model, an HTML page elsewhere; never a 500."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from detente.core.busy import RETRY_AFTER_SECONDS, is_lock_error

MESSAGE = "the database is busy with another write (an import?); try again in a few seconds"


class DatabaseBusyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not is_lock_error(exc):
            return None
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": {"code": "busy", "message": MESSAGE}}, status=503)
        else:
            context = {"title": "Busy", "message": MESSAGE.capitalize() + "."}
            response = render(request, "web/error.html", context, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
