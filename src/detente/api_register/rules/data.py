"""Data rules: property-level authorization (API3), declared limits (API4), SSRF inputs (API7).

The API4 schema-completeness rules fire on nearly every real spec; they report one count per API
(``aggregate``) with a few example places, never one finding per field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from detente.api_register.rules.base import Hit
from detente.api_register.spec import pointer_join
from detente.api_register.view import SpecView, schema_type

SECRET_PROPERTY = re.compile(
    r"^(password|passwd|pwd|secret|client_?secret|api_?key|access_?token|refresh_?token|"
    r"private_?key|ssn|social_?security_?number|cvv|cvc|card_?number|credit_?card|pin)$",
    re.IGNORECASE,
)
URL_NAME = re.compile(
    r"^(callback|redirect|redirect_?uri|return|return_?to|next|target|dest|destination|"
    r"webhook\w*|url|uri|\w+_url|\w+Url|\w+_uri|\w+Uri)$"
)
PAGE_SIZE = frozenset(
    {"limit", "page_size", "pagesize", "per_page", "perpage", "size", "count", "max_results",
     "maxresults", "$top", "top", "first", "last"}
)  # fmt: skip
RATE_LIMIT_HEADERS = frozenset(
    {"x-ratelimit-limit", "x-rate-limit-limit", "ratelimit-limit", "ratelimit",
     "ratelimit-policy", "x-ratelimit-remaining", "ratelimit-remaining"}
)  # fmt: skip
EXAMPLES = 5


def _count(places: list[str], what: str) -> Iterator[Hit]:
    if places:
        shown = ", ".join(places[:EXAMPLES])
        more = f" (+{len(places) - EXAMPLES} more)" if len(places) > EXAMPLES else ""
        yield Hit("#", f"{len(places)} {what}; e.g. {shown}{more}")


def permissive_objects(view: SpecView) -> Iterator[Hit]:
    for schema, where, _ in view.request_schemas():
        if "maxProperties" in schema:
            continue
        extra = schema.get("additionalProperties")
        if extra is True or (isinstance(extra, dict) and view.version != "3.1"):
            yield Hit(where, "request object accepts any additional property")
        elif view.version == "3.1" and schema.get("unevaluatedProperties") not in (None, False):
            yield Hit(where, "request object accepts unevaluated properties")


def body_without_schema(view: SpecView) -> Iterator[Hit]:
    for op in view.operations:
        if op.method not in ("post", "put", "patch"):
            continue
        if view.v2:
            for param in op.params:
                if param.location == "body" and not param.schema:
                    yield Hit(param.pointer, f"{op.key} takes a body without a schema")
            continue
        body, target = view.resolve(op.data.get("requestBody"))
        if not isinstance(body, dict):
            continue
        content = body.get("content")
        for media, entry in (content if isinstance(content, dict) else {}).items():
            schema = entry.get("schema") if isinstance(entry, dict) else None
            if not schema:
                base = target or pointer_join(op.pointer, "requestBody")
                yield Hit(
                    pointer_join(base, "content", media), f"{op.key} takes {media} without a schema"
                )


def response_without_schema(view: SpecView) -> Iterator[Hit]:
    places: list[str] = []
    if not view.v2:
        for op in view.operations:
            for code, raw in op.responses().items():
                response, _ = view.resolve(raw)
                if not str(code).startswith("2") or not isinstance(response, dict):
                    continue
                content = response.get("content")
                for entry in (content if isinstance(content, dict) else {}).values():
                    if isinstance(entry, dict) and not entry.get("schema"):
                        places.append(f"{op.key} {code}")
                        break
    return _count(places, "success responses with a body but no schema")


def secret_in_response(view: SpecView) -> Iterator[Hit]:
    for schema, where, prop in view.response_schemas():
        if prop and SECRET_PROPERTY.match(prop) and not schema.get("writeOnly"):
            yield Hit(where, f"response property {prop!r} looks like a secret or personal data")


def _request_strings(view: SpecView) -> Iterator[tuple[dict[str, Any], str]]:
    for schema, where, _ in view.request_schemas():
        if "string" in schema_type(schema):
            yield schema, where


def unbounded_strings(view: SpecView) -> Iterator[Hit]:
    places = [
        where
        for schema, where in _request_strings(view)
        if not ({"maxLength", "enum", "const"} & schema.keys())
        and schema.get("format") not in ("binary", "byte")
    ]
    return _count(places, "request strings without maxLength")


def unrestricted_strings(view: SpecView) -> Iterator[Hit]:
    places = [
        where
        for schema, where in _request_strings(view)
        if not ({"format", "pattern", "enum", "const"} & schema.keys())
    ]
    return _count(places, "request strings without format, pattern or enum")


def unbounded_arrays(view: SpecView) -> Iterator[Hit]:
    places = [
        where
        for schema, where, _ in view.request_schemas()
        if "array" in schema_type(schema) and "maxItems" not in schema
    ]
    return _count(places, "request arrays without maxItems")


def unbounded_numbers(view: SpecView) -> Iterator[Hit]:
    places = []
    for schema, where, _ in view.request_schemas():
        if not ({"integer", "number"} & schema_type(schema)) or "enum" in schema:
            continue
        low = {"minimum", "exclusiveMinimum"} & schema.keys()
        high = {"maximum", "exclusiveMaximum"} & schema.keys()
        # 3.0 and 2.0: exclusive* are booleans modifying minimum/maximum
        if view.version != "3.1":
            low = low & {"minimum"}
            high = high & {"maximum"}
        if not (low and high):
            places.append(where)
    return _count(places, "request numbers without minimum and maximum")


def integer_format(view: SpecView) -> Iterator[Hit]:
    places = [
        where
        for walk in (view.request_schemas(), view.response_schemas())
        for schema, where, _ in walk
        if "integer" in schema_type(schema) and "format" not in schema
    ]
    return _count(places, "integers without format (int32/int64)")


def _response_codes(op: Any) -> set[str]:
    return {str(code).upper() for code in op.responses()}


def no_429(view: SpecView) -> Iterator[Hit]:
    places = [op.key for op in view.operations if "429" not in _response_codes(op)]
    return _count(places, "operations without a 429 response")


def _headers(view: SpecView, response: Any) -> set[str]:
    resolved, _ = view.resolve(response)
    headers = resolved.get("headers") if isinstance(resolved, dict) else None
    return {str(h).lower() for h in headers} if isinstance(headers, dict) else set()


def no_rate_limit_headers(view: SpecView) -> Iterator[Hit]:
    places = []
    for op in view.operations:
        for code, response in op.responses().items():
            if str(code)[:1] in ("2", "4") and not (_headers(view, response) & RATE_LIMIT_HEADERS):
                places.append(f"{op.key} {code}")
    return _count(places, "2xx/4xx responses without rate-limit headers")


def no_retry_after(view: SpecView) -> Iterator[Hit]:
    places = []
    for op in view.operations:
        response = op.responses().get("429")
        if response is not None and "retry-after" not in _headers(view, response):
            places.append(op.key)
    return _count(places, "429 responses without Retry-After")


def unbounded_page_size(view: SpecView) -> Iterator[Hit]:
    seen: set[str] = set()
    for op in view.operations:
        for param in op.params:
            if param.name.lower() not in PAGE_SIZE or param.pointer in seen:
                continue
            if {"integer", "number"} & schema_type(param.schema) and not (
                {"maximum", "enum", "exclusiveMaximum"} & param.schema.keys()
            ):
                seen.add(param.pointer)
                yield Hit(param.pointer, f"page size {param.name!r} has no maximum")


def unbounded_uploads(view: SpecView) -> Iterator[Hit]:
    for op in view.operations:
        uploads = [p.name for p in op.params if p.data.get("type") == "file"] if view.v2 else []
        if not view.v2:
            body, _ = view.resolve(op.data.get("requestBody"))
            content = body.get("content") if isinstance(body, dict) else None
            for media, entry in (content if isinstance(content, dict) else {}).items():
                schema = entry.get("schema") if isinstance(entry, dict) else None
                binary = isinstance(schema, dict) and schema.get("format") == "binary"
                if media in ("application/octet-stream", "multipart/form-data") or binary:
                    limited = isinstance(schema, dict) and "maxLength" in schema
                    if not limited:
                        uploads.append(media)
        if uploads:
            yield Hit(op.pointer, f"{op.key} accepts files ({', '.join(uploads)}) without a limit")


def url_inputs(view: SpecView) -> Iterator[Hit]:
    seen: set[str] = set()
    for op in view.operations:
        for param in op.params:
            if (
                param.location != "body"
                and param.pointer not in seen
                and (URL_NAME.match(param.name) or param.schema.get("format") in ("uri", "url"))
            ):
                seen.add(param.pointer)
                yield Hit(param.pointer, f"parameter {param.name!r} takes a URL: SSRF candidate")
    for schema, where, prop in view.request_schemas():
        if (
            prop
            and "string" in schema_type(schema)
            and (URL_NAME.match(prop) or schema.get("format") in ("uri", "url"))
        ):
            seen.add(where)
            yield Hit(where, f"request property {prop!r} takes a URL: SSRF candidate")
    for where, name in _example_urls(view):
        if where not in seen:
            seen.add(where)
            yield Hit(where, f"request property {name!r} takes a URL (its example is one)")


# --------------------------------------------------------------- what the vulnerable APIs teach
# Found by measuring recall on crAPI, VAmPI and dvws-node (bench/api_audit_bench.py): each of
# these reports a weakness those projects document and the earlier rules missed.

# properties the server owns: a client that may set them can change ids, rights or money
SERVER_MANAGED = re.compile(
    r"^(id|_id|role|roles|admin|is_?admin|is_?staff|is_?superuser|superuser|permissions?|"
    r"privileges?|balance|credits?|available_?credit|is_?verified|verified|email_?verified|"
    r"created_?at|updated_?at|owner_?id)$",
    re.IGNORECASE,
)
SIGN_UP_PATH = re.compile(r"/(register|registration|sign[-_]?up|users|accounts)/?$", re.IGNORECASE)
PERSONAL_PROPERTY = re.compile(
    r"^(e?-?mail|email_?address|phone|phone_?number|mobile|mobile_?number|telephone|address|"
    r"home_?address|date_?of_?birth|dob|birth_?date|birthdate)$",
    re.IGNORECASE,
)
PERSON_OBJECT = re.compile(
    r"^(author|owner|user|creator|created_?by|sender|recipient|member|customer|profile|poster|"
    r"commenter|reporter|assignee|reviewer)$",
    re.IGNORECASE,
)
URL_VALUE = re.compile(r"^(https?|ftp|gopher|file)://", re.IGNORECASE)


def _properties(view: SpecView, schema: dict[str, Any], where: str) -> dict[str, tuple[Any, str]]:
    """An object's own properties, with those of its ``allOf`` parts: name → (schema, the
    pointer of the object that defines it; ``_at`` makes the property's own pointer, only when
    needed: escaping every pointer was most of the time these rules took on Stripe)."""
    found: dict[str, tuple[Any, str]] = {}
    stack: list[tuple[Any, str]] = [(schema, where)]
    seen: set[str] = set()
    while stack:
        raw, at = stack.pop()
        resolved, target = view.resolve(raw)
        at = target or at
        if not isinstance(resolved, dict) or at in seen:
            continue
        seen.add(at)
        properties = resolved.get("properties")
        for name, value in (properties if isinstance(properties, dict) else {}).items():
            found.setdefault(name, (value, at))
        parts = resolved.get("allOf")
        for index, part in enumerate(parts if isinstance(parts, list) else []):
            stack.append((part, pointer_join(at, "allOf", index)))
    return found


def _at(owner: str, name: str) -> str:
    return pointer_join(owner, "properties", name)


def _bodies(view: SpecView, methods: frozenset[str]) -> Iterator[tuple[Any, str, dict[str, Any]]]:
    """(operation, pointer, schema) of each request body of the operations in ``methods``."""
    for op in view.operations:
        if op.method not in methods:
            continue
        for schema, where in view.request_roots(op):
            if view.v2 and not where.endswith("/schema"):
                continue  # a 2.0 non-body parameter
            if not view.v2 and "/requestBody" not in where and "/requestBodies/" not in where:
                continue  # a 3.x parameter's schema
            resolved, target = view.resolve(schema)
            if isinstance(resolved, dict):
                yield op, target or where, resolved


def _closed(schema: dict[str, Any]) -> bool:
    return (
        schema.get("additionalProperties") is False
        or schema.get("unevaluatedProperties") is False
        or "maxProperties" in schema
    )


def mass_assignment(view: SpecView) -> Iterator[Hit]:
    seen: set[str] = set()
    for op, where, schema in _bodies(view, frozenset({"post", "put", "patch"})):
        for name, (raw, owner) in _properties(view, schema, where).items():
            if not SERVER_MANAGED.match(name):
                continue
            prop, _ = view.resolve(raw)
            at = _at(owner, name)
            read_only = isinstance(prop, dict) and prop.get("readOnly")
            if not read_only and at not in seen:
                seen.add(at)
                yield Hit(
                    at,
                    f"{op.key} accepts {name!r}, a property the server should own "
                    "(mass assignment)",
                )
        sign_up = op.method == "post" and SIGN_UP_PATH.search(op.path)
        is_object = "object" in (schema_type(schema) or {"object"})
        open_object = is_object and not _closed(schema) and bool(_properties(view, schema, where))
        if sign_up and open_object and where not in seen:
            seen.add(where)
            yield Hit(
                where,
                f"{op.key} creates accounts from an object open to undeclared properties "
                "(role or admin flags can ride along)",
            )


def _person_trails(
    view: SpecView, schema: Any, where: str, memo: dict[str, list[str]], depth: int = 0
) -> list[str]:
    """Trails (``[].author.email``) from a schema to personal data inside an object that
    describes a person. Memoised by definition site across the whole audit (Stripe's responses
    share most of their schemas; walking each operation afresh took 0.8 s); a schema met again
    while it is being walked contributes nothing, so recursive schemas end."""
    resolved, target = view.resolve(schema)
    at = target or where
    if not isinstance(resolved, dict) or depth > 5:
        return []
    if at in memo:
        return memo[at]
    memo[at] = []  # in progress
    found: list[str] = []
    items = resolved.get("items")
    if isinstance(items, dict):
        inner = _person_trails(view, items, pointer_join(at, "items"), memo, depth + 1)
        found += ["[]" + t for t in inner]
    for name, (raw, owner) in _properties(view, resolved, at).items():
        prop, target = view.resolve(raw)
        if not isinstance(prop, dict) or not ({"properties", "items", "allOf"} & prop.keys()):
            continue  # a leaf: nothing below it
        inner_at = target or _at(owner, name)
        if PERSON_OBJECT.match(name):
            for key, (leaf, _) in _properties(view, prop, inner_at).items():
                value, _ = view.resolve(leaf)
                if PERSONAL_PROPERTY.match(key) and not (
                    isinstance(value, dict) and value.get("writeOnly")
                ):
                    found.append(f".{name}.{key}")
        found += [f".{name}{t}" for t in _person_trails(view, prop, inner_at, memo, depth + 1)]
    memo[at] = found[:10]
    return memo[at]


def personal_data_in_lists(view: SpecView) -> Iterator[Hit]:
    memo: dict[str, list[str]] = {}
    for op in view.operations:
        if op.method != "get":
            continue
        for code, schema, where in view.response_roots(op):
            if not code.startswith("2"):
                continue
            trails = [t for t in _person_trails(view, schema, where, memo) if "[]" in t]
            if trails:
                shown = ", ".join(t.lstrip(".") for t in trails[:3])
                yield Hit(where, f"{op.key} lists other people's personal data ({shown})")


def _example_urls(view: SpecView) -> Iterator[tuple[str, str]]:
    """(pointer, property) of request body properties whose documented example is a URL: the
    contract shows the server is handed an address to call (crAPI's ``mechanic_api``)."""
    for op, where, schema in _bodies(view, frozenset({"post", "put", "patch"})):
        examples: list[Any] = [schema.get("example")]
        if not view.v2:  # a media type's example sits beside its schema
            body, _ = view.resolve(op.data.get("requestBody"))
            content = body.get("content") if isinstance(body, dict) else None
            for entry in (content if isinstance(content, dict) else {}).values():
                if isinstance(entry, dict):
                    examples.append(entry.get("example"))
        for name, (raw, owner) in _properties(view, schema, where).items():
            prop, _ = view.resolve(raw)
            values = [prop.get("example")] if isinstance(prop, dict) else []
            values += [e.get(name) for e in examples if isinstance(e, dict)]
            if any(isinstance(v, str) and URL_VALUE.match(v) for v in values):
                yield _at(owner, name), name
