"""Request size limits: a query string over ``DETENTE_MAX_QUERY_BYTES`` is refused with 414 (URI
too long) before any view parses it; ``detente serve`` lets gunicorn read request lines up to
8190 bytes, so this clean answer (the API's error model, or the error page) is what a client
meets, and only a longer line gets gunicorn's own bare 414.

A request body over the upload limit is refused with 413 before any of it is read: the web
worker never holds (or spools) an oversized upload. Below the limit, Django streams file parts
over ``FILE_UPLOAD_MAX_MEMORY_SIZE`` to a temporary file and the importer parses from the file."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render


class UploadLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = int(settings.DETENTE_MAX_UPLOAD_BYTES)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= limit:
            return self.get_response(request)
        message = (
            f"the upload is {length} bytes, over the {limit} byte limit "
            "(DETENTE_MAX_UPLOAD_BYTES); import larger files with `detente import`"
        )
        response: HttpResponse
        if request.path.startswith("/api/") or request.headers.get("Accept", "").startswith(
            "application/json"
        ):
            response = JsonResponse(
                {"error": {"code": "too_large", "message": message}}, status=413
            )
        else:
            context = {"title": "Too large", "message": message[0].upper() + message[1:] + "."}
            response = render(request, "web/error.html", context, status=413)
        response["Connection"] = "close"  # the unread body is not worth keeping the line for
        return response


def _refusal(
    request: HttpRequest, *, status: int, code: str, title: str, message: str
) -> HttpResponse:
    if request.path.startswith("/api/") or request.headers.get("Accept", "").startswith(
        "application/json"
    ):
        return JsonResponse({"error": {"code": code, "message": message}}, status=status)
    context = {"title": title, "message": message[0].upper() + message[1:] + "."}
    return render(request, "web/error.html", context, status=status)


class QueryLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = int(settings.DETENTE_MAX_QUERY_BYTES)
        length = len(request.META.get("QUERY_STRING", "").encode("latin-1", "replace"))
        if length <= limit:
            return self.get_response(request)
        message = (
            f"the query string is {length} bytes, over the {limit} byte limit "
            "(DETENTE_MAX_QUERY_BYTES); narrow the filter or page with the cursor"
        )
        return _refusal(request, status=414, code="uri_too_long", title="Address too long",
                        message=message)  # fmt: skip
