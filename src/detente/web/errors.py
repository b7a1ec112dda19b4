"""Domain errors that escape a page become that page's answer, never a 500: bad input in the
query (``/findings?cursor=abc``) is a 400 page naming the field, a missing record a 404, a refused
rule its status. The API has its own handlers (``api/api.py``) and is left to them."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from detente.core.errors import DetenteError, InputError

TITLES = {400: "Bad request", 403: "Not allowed", 404: "Not found", 409: "Refused"}


class PageErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") or not isinstance(exc, DetenteError):
            return None
        # A page's bad input is a bad request (400), whatever status the API gives it.
        status = 400 if isinstance(exc, InputError) else exc.http_status
        person = getattr(request, "person", None)
        context = {"message": str(exc), "title": TITLES.get(status, "Refused"), "me": person}
        return render(request, "web/error.html", context, status=status)
