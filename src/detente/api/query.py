"""One value per query parameter on the REST API.

No route takes a list in its query string, yet Django keeps every repeated value and the router
reads the last one: ``?offset=true&offset=0`` would be answered as if the first value had never
been sent. A repeated parameter is refused (422, the API's error model) before any route runs."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class SingleQueryValuesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            repeated = sorted(k for k, values in request.GET.lists() if len(values) > 1)
            if repeated:
                body = {
                    "error": {
                        "code": "bad_input",
                        "message": f"query parameter {repeated[0]!r} is given more than once",
                        "field": repeated[0],
                        "record": None,
                    }
                }
                return HttpResponse(json.dumps(body), status=422, content_type="application/json")
        return self.get_response(request)
