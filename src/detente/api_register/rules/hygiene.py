"""Configuration and inventory rules: OWASP API8, API9, API10."""

from __future__ import annotations

import re
from collections.abc import Iterator

from detente.api_register.rules.base import Hit
from detente.api_register.rules.data import _count, _headers, _response_codes
from detente.api_register.spec import HTTP_METHODS, pointer_join
from detente.api_register.view import SpecView

LOOPBACK = re.compile(r"^(localhost|127\.\d+\.\d+\.\d+|\[?::1\]?)$")
NON_PROD_HOST = re.compile(
    r"(^localhost$|^127\.|\.local$|\.localhost$|(^|[.-])(staging|stage|stg|test|testing|dev|"
    r"develop|development|sandbox|qa|uat|preprod|int)([.-]|$))",
    re.IGNORECASE,
)
ENVIRONMENT = re.compile(
    r"\b(prod|production|live|staging|stage|test|testing|dev|development|sandbox|qa|uat|"
    r"preprod|demo|mock)\b",
    re.IGNORECASE,
)


def cleartext_servers(view: SpecView) -> Iterator[Hit]:
    for server in view.servers:
        if server.scheme in ("http", "ws") and not LOOPBACK.match(server.host):
            yield Hit(server.pointer, f"server {server.url[:200]} is reached in cleartext")


def cleartext_credentials(view: SpecView) -> Iterator[Hit]:
    cleartext = [
        s for s in view.servers if s.scheme in ("http", "ws") and not LOOPBACK.match(s.host)
    ]
    credentials = [
        name
        for name, scheme in view.schemes.items()
        if scheme.get("type") in ("apiKey", "basic")
        or (scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "basic")
    ]
    if cleartext and credentials:
        yield Hit(
            cleartext[0].pointer,
            f"credentials ({', '.join(credentials)}) can travel over {cleartext[0].url[:200]}",
        )


def no_validation_errors(view: SpecView) -> Iterator[Hit]:
    places = [op.key for op in view.operations if not ({"400", "422", "4XX"} & _response_codes(op))]
    return _count(places, "operations without a 400/422 response")


def no_auth_errors(view: SpecView) -> Iterator[Hit]:
    places = [
        op.key
        for op in view.operations
        if not op.unsecured and not ({"401", "4XX"} & _response_codes(op))
    ]
    return _count(places, "secured operations without a 401 response")


def no_server_errors(view: SpecView) -> Iterator[Hit]:
    places = [
        op.key for op in view.operations if not ({"500", "5XX", "DEFAULT"} & _response_codes(op))
    ]
    return _count(places, "operations without a 500 or default error response")


def no_cors_origin(view: SpecView) -> Iterator[Hit]:
    info = view.data.get("info")
    if not (isinstance(info, dict) and info.get("x-detente-browser-facing")):
        return
    for op in view.operations:
        if any("access-control-allow-origin" in _headers(view, r) for r in op.responses().values()):
            return
    yield Hit("#/info", "a browser-facing API documents no Access-Control-Allow-Origin header")


def trace_published(view: SpecView) -> Iterator[Hit]:
    for op in view.operations:
        if op.method == "trace":
            yield Hit(op.pointer, f"{op.key} is published")


def invalid_spec(view: SpecView) -> Iterator[Hit]:
    """Structural checks a validator would make, plus what the loader could not follow."""
    for problem in view.spec.problems:
        yield Hit(problem.pointer, problem.message)
    info = view.data.get("info")
    if not isinstance(info, dict):
        yield Hit("#/info", "info is missing")
    else:
        for key in ("title", "version"):
            if key not in info:
                yield Hit("#/info", f"info.{key} is missing")
    paths = view.data.get("paths")
    if paths is None and view.version != "3.1":
        yield Hit("#/paths", "paths is missing")
    elif paths is not None and not isinstance(paths, dict):
        yield Hit("#/paths", "paths is not an object")
    if isinstance(paths, dict):
        for path, item in paths.items():
            if not path.startswith("/"):
                yield Hit(pointer_join("#/paths", path), f"path {path!r} does not start with /")
            if not isinstance(item, dict):
                continue
            for method in HTTP_METHODS:
                op = item.get(method)
                if isinstance(op, dict) and view.version != "3.1" and "responses" not in op:
                    yield Hit(pointer_join("#/paths", path, method), "operation has no responses")


def server_not_marked(view: SpecView) -> Iterator[Hit]:
    if view.v2:
        return
    for server in view.servers:
        if "x-internal" not in server.data:
            yield Hit(server.pointer, f"server {server.url[:200]} is not marked x-internal")


def server_without_environment(view: SpecView) -> Iterator[Hit]:
    if view.v2:
        return
    for server in view.servers:
        if not ENVIRONMENT.search(server.description):
            yield Hit(server.pointer, f"server {server.url[:200]} names no environment")


def non_production_hosts(view: SpecView) -> Iterator[Hit]:
    for server in view.servers:
        if server.host and NON_PROD_HOST.search(server.host):
            yield Hit(server.pointer, f"non-production host {server.host} is published")


def deprecated_operations(view: SpecView) -> Iterator[Hit]:
    for op in view.operations:
        if op.data.get("deprecated") is True:
            yield Hit(op.pointer, f"{op.key} is deprecated but still published")


def cleartext_callbacks(view: SpecView) -> Iterator[Hit]:
    for op in view.operations:
        callbacks = op.data.get("callbacks")
        for name, value in (callbacks if isinstance(callbacks, dict) else {}).items():
            resolved, _ = view.resolve(value)
            for expression in resolved if isinstance(resolved, dict) else {}:
                if str(expression).lower().startswith("http://"):
                    yield Hit(
                        pointer_join(op.pointer, "callbacks", name),
                        f"{op.key} calls back {str(expression)[:200]} in cleartext",
                    )
