"""A read-only view of a loaded OpenAPI document that hides the 2.0 / 3.x differences.

Built once per audit: operations with their merged parameters and *effective* security,
security schemes, servers, and walkers over request and response schemas that follow local
``$ref``s lazily, visit each definition once (findings are deduplicated by definition site) and
never loop on recursive schemas.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from detente.api_register.spec import HTTP_METHODS, LoadedSpec, pointer_join, resolve

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
READ_METHODS = frozenset({"get", "head"})


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    location: str  # query, path, header, cookie, body, formData
    data: dict[str, Any]  # the parameter, resolved
    schema: dict[str, Any]  # its schema (3.x ``schema``; 2.0 the parameter itself for non-body)
    pointer: str  # where it is defined (a shared parameter: its definition, once)


@dataclass(slots=True)
class Operation:
    path: str
    method: str
    data: dict[str, Any]
    pointer: str
    params: list[Param]
    security: list[Any] | None  # effective requirement list (own, else global), None: none at all
    own_security: bool

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def unsecured(self) -> bool:
        """No effective requirement, an empty list, or ``{}`` among them (auth optional)."""
        return not self.security or any(isinstance(r, dict) and not r for r in self.security)

    @property
    def declared_public(self) -> str | None:
        """``security: []`` plus ``x-detente-public: {reason: …}`` (or a string): the reason."""
        marker = self.data.get("x-detente-public")
        if self.security != [] or not marker:
            return None
        if isinstance(marker, dict):
            return str(marker.get("reason") or "declared public")
        return str(marker) if not isinstance(marker, bool) else "declared public"

    def responses(self) -> dict[str, Any]:
        value = self.data.get("responses")
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    description: str
    pointer: str
    data: dict[str, Any]

    @property
    def scheme(self) -> str:
        return self.url.split(":", 1)[0].lower() if "://" in self.url else ""

    @property
    def host(self) -> str:
        try:
            return (urlsplit(self.url).hostname or "").lower()
        except ValueError:
            return ""


@dataclass
class SpecView:
    spec: LoadedSpec
    data: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.data = self.spec.data

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def v2(self) -> bool:
        return self.spec.version == "2.0"

    def resolve(self, value: Any) -> tuple[Any, str | None]:
        return resolve(self.data, value)

    @cached_property
    def schemes_pointer(self) -> str:
        return "#/securityDefinitions" if self.v2 else "#/components/securitySchemes"

    @cached_property
    def schemes(self) -> dict[str, dict[str, Any]]:
        if self.v2:
            raw = self.data.get("securityDefinitions")
        else:
            components = self.data.get("components")
            raw = components.get("securitySchemes") if isinstance(components, dict) else None
        out: dict[str, dict[str, Any]] = {}
        for name, value in (raw if isinstance(raw, dict) else {}).items():
            resolved, _ = self.resolve(value)
            if isinstance(resolved, dict):
                out[name] = resolved
        return out

    @cached_property
    def global_security(self) -> list[Any] | None:
        value = self.data.get("security")
        return value if isinstance(value, list) else None

    @cached_property
    def operations(self) -> list[Operation]:
        paths = self.data.get("paths")
        found: list[Operation] = []
        for path, raw_item in (paths if isinstance(paths, dict) else {}).items():
            item, _ = self.resolve(raw_item)
            if not isinstance(item, dict):
                continue
            base = pointer_join("#/paths", path)
            shared = self._params(item.get("parameters"), pointer_join(base, "parameters"))
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                where = pointer_join(base, method)
                own = self._params(op.get("parameters"), pointer_join(where, "parameters"))
                names = {(p.name, p.location) for p in own}
                params = own + [p for p in shared if (p.name, p.location) not in names]
                has_own = isinstance(op.get("security"), list)
                security = op["security"] if has_own else self.global_security
                found.append(Operation(path, method, op, where, params, security, has_own))
        return found

    def _params(self, raw: Any, where: str) -> list[Param]:
        params: list[Param] = []
        for index, value in enumerate(raw if isinstance(raw, list) else []):
            resolved, target = self.resolve(value)
            if not isinstance(resolved, dict):
                continue
            name = resolved.get("name")
            location = resolved.get("in")
            if not isinstance(name, str) or not isinstance(location, str):
                continue
            if self.v2 and location != "body":
                schema = resolved
            else:
                schema, _ = self.resolve(resolved.get("schema", {}))
                if not isinstance(schema, dict):
                    schema = {}
            pointer = target or pointer_join(where, index)
            params.append(Param(name, location, resolved, schema, pointer))
        return params

    @cached_property
    def servers(self) -> list[Server]:
        if self.v2:
            host = self.data.get("host")
            if not isinstance(host, str) or not host:
                return []
            base = self.data.get("basePath") if isinstance(self.data.get("basePath"), str) else ""
            schemes = self.data.get("schemes")
            listed = [s for s in schemes if isinstance(s, str)] if isinstance(schemes, list) else []
            return [
                Server(f"{scheme.lower()}://{host}{base}", "", "#/schemes", {})
                for scheme in (listed or ["https"])
            ]
        out: list[Server] = []
        raw = self.data.get("servers")
        for index, value in enumerate(raw if isinstance(raw, list) else []):
            if isinstance(value, dict) and isinstance(value.get("url"), str):
                description = value.get("description")
                out.append(
                    Server(
                        value["url"],
                        description if isinstance(description, str) else "",
                        pointer_join("#/servers", index),
                        value,
                    )
                )
        return out

    # ---------------------------------------------------------------- schemas

    def request_roots(self, op: Operation) -> Iterator[tuple[dict[str, Any], str]]:
        """The schemas a request of ``op`` carries: parameters and body (each with a pointer)."""
        for param in op.params:
            if param.schema:
                where = (
                    param.pointer
                    if self.v2 and param.location != "body"
                    else (pointer_join(param.pointer, "schema"))
                )
                yield param.schema, where
        if self.v2:
            return
        body, target = self.resolve(op.data.get("requestBody"))
        if not isinstance(body, dict):
            return
        base = target or pointer_join(op.pointer, "requestBody")
        content = body.get("content")
        for media, entry in (content if isinstance(content, dict) else {}).items():
            if isinstance(entry, dict) and isinstance(entry.get("schema"), dict):
                yield entry["schema"], pointer_join(base, "content", media, "schema")

    def response_roots(self, op: Operation) -> Iterator[tuple[str, dict[str, Any], str]]:
        """(status code, schema, pointer) of each response body ``op`` documents."""
        for code, raw in op.responses().items():
            response, target = self.resolve(raw)
            if not isinstance(response, dict):
                continue
            base = target or pointer_join(op.pointer, "responses", code)
            if self.v2:
                if isinstance(response.get("schema"), dict):
                    yield code, response["schema"], pointer_join(base, "schema")
                continue
            content = response.get("content")
            for media, entry in (content if isinstance(content, dict) else {}).items():
                if isinstance(entry, dict) and isinstance(entry.get("schema"), dict):
                    yield code, entry["schema"], pointer_join(base, "content", media, "schema")

    def walk(
        self, roots: Iterator[tuple[dict[str, Any], str]], seen: set[str]
    ) -> Iterator[tuple[dict[str, Any], str, str | None]]:
        """Every schema reachable from ``roots``: (schema, definition pointer, property name).

        Each definition site is yielded once per ``seen`` set (pass one set per context, e.g.
        requests); references are followed lazily, so recursive schemas end.
        """
        stack: list[tuple[Any, str, str | None]] = [(s, p, None) for s, p in roots]
        stack.reverse()
        while stack:
            raw, where, prop = stack.pop()
            schema, target = self.resolve(raw)
            if not isinstance(schema, dict):
                continue
            where = target or where
            if where in seen:
                continue
            seen.add(where)
            yield schema, where, prop
            children: list[tuple[Any, str, str | None]] = []
            properties = schema.get("properties")
            if isinstance(properties, dict):
                for name, value in properties.items():
                    children.append((value, pointer_join(where, "properties", name), name))
            for key in ("items", "additionalProperties", "not", "unevaluatedProperties"):
                value = schema.get(key)
                if isinstance(value, dict):
                    children.append((value, pointer_join(where, key), None))
            for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
                value = schema.get(key)
                if isinstance(value, list):
                    for index, item in enumerate(value):
                        children.append((item, pointer_join(where, key, index), prop))
            stack.extend(reversed(children))

    def request_schemas(self) -> list[tuple[dict[str, Any], str, str | None]]:
        """Every request-side schema, once per definition site (walked once per audit)."""
        return self._request_schemas

    def response_schemas(self) -> list[tuple[dict[str, Any], str, str | None]]:
        return self._response_schemas

    @cached_property
    def _request_schemas(self) -> list[tuple[dict[str, Any], str, str | None]]:
        seen: set[str] = set()
        return [
            found for op in self.operations for found in self.walk(self.request_roots(op), seen)
        ]

    @cached_property
    def _response_schemas(self) -> list[tuple[dict[str, Any], str, str | None]]:
        seen: set[str] = set()
        return [
            found
            for op in self.operations
            for found in self.walk(((s, p) for _, s, p in self.response_roots(op)), seen)
        ]


def schema_type(schema: dict[str, Any]) -> set[str]:
    """The schema's types (3.1 allows a list; 3.0 ``nullable`` adds nothing we check)."""
    value = schema.get("type")
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()
