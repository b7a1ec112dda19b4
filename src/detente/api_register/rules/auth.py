"""Authentication and authorization rules: OWASP API2 (and API1, API5), from the contract."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from detente.api_register.rules.base import Hit
from detente.api_register.spec import pointer_join
from detente.api_register.view import READ_METHODS, WRITE_METHODS, Operation, SpecView

CREDENTIAL_NAME = re.compile(
    r"^(access[_-]?token|api[_-]?key|apikey|auth[_-]?token|authorization|client[_-]?secret|"
    r"id[_-]?token|passw(or)?d|pwd|refresh[_-]?token|secret|session[_-]?id|sessionid|sid|"
    r"token|jwt|private[_-]?key)$",
    re.IGNORECASE,
)
ADMIN_PATH = re.compile(
    r"/_{0,2}(admin|administration|internal|debug|management|manage|actuator|ops|superuser|root)"
    r"_{0,2}(/|$|\{)",
    re.IGNORECASE,
)
IANA_HTTP_SCHEMES = frozenset(
    {"basic", "bearer", "concealed", "digest", "dpop", "gnap", "hoba", "mutual", "negotiate",
     "oauth", "privatetoken", "scram-sha-1", "scram-sha-256", "vapid"}
)  # fmt: skip
WEAK_HTTP_SCHEMES = frozenset({"negotiate", "digest", "oauth"})
ID_NAME = re.compile(r"^(id|.*[_-]id|.*[a-z0-9]Id|.*ID)$")


def _flows(view: SpecView, scheme: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """OAuth2 flows by their 3.x name (2.0's single ``flow`` is translated)."""
    if scheme.get("type") != "oauth2":
        return {}
    if view.v2:
        names = {"implicit": "implicit", "password": "password", "application": "clientCredentials",
                 "accessCode": "authorizationCode"}  # fmt: skip
        flow = names.get(str(scheme.get("flow")))
        return {flow: scheme} if flow else {}
    flows = scheme.get("flows")
    return (
        {k: v for k, v in flows.items() if isinstance(v, dict)} if isinstance(flows, dict) else {}
    )


def _security_lists(view: SpecView) -> Iterator[tuple[list[Any], str]]:
    if view.global_security is not None:
        yield view.global_security, "#/security"
    for op in view.operations:
        if op.own_security and isinstance(op.data.get("security"), list):
            yield op.data["security"], pointer_join(op.pointer, "security")


def no_schemes(view: SpecView) -> Iterator[Hit]:
    if view.operations and not view.schemes:
        yield Hit(
            view.schemes_pointer,
            f"{len(view.operations)} operation(s) and no security scheme in the contract",
        )


def _unsecured(view: SpecView, methods: frozenset[str]) -> Iterator[Hit]:
    for op in view.operations:
        if op.method not in methods or not op.unsecured:
            continue
        reason = op.declared_public
        if reason is not None:
            yield Hit(op.pointer, f"{op.key} declared public: {reason}", severity="info")
        else:
            yield Hit(op.pointer, f"{op.key} has no security requirement in the contract")


def unsecured_writes(view: SpecView) -> Iterator[Hit]:
    return _unsecured(view, WRITE_METHODS)


def unsecured_reads(view: SpecView) -> Iterator[Hit]:
    return _unsecured(view, READ_METHODS)


def no_global_security(view: SpecView) -> Iterator[Hit]:
    if view.schemes and view.operations and not view.global_security:
        yield Hit("#/security", "security schemes are defined but none applies by default")


def optional_auth(view: SpecView) -> Iterator[Hit]:
    for requirements, where in _security_lists(view):
        if any(isinstance(r, dict) and not r for r in requirements) and len(requirements) > 1:
            yield Hit(where, "an empty requirement {} makes authentication optional")


def basic_auth(view: SpecView) -> Iterator[Hit]:
    for name, scheme in view.schemes.items():
        kind = str(scheme.get("type", "")).lower()
        if kind == "basic" or (kind == "http" and str(scheme.get("scheme", "")).lower() == "basic"):
            yield Hit(pointer_join(view.schemes_pointer, name), f"scheme {name!r} is HTTP Basic")


def weak_http_schemes(view: SpecView) -> Iterator[Hit]:
    for name, scheme in view.schemes.items():
        if scheme.get("type") != "http":
            continue
        value = str(scheme.get("scheme", "")).lower()
        if value in WEAK_HTTP_SCHEMES or value not in IANA_HTTP_SCHEMES:
            yield Hit(
                pointer_join(view.schemes_pointer, name),
                f"scheme {name!r} uses HTTP {value or '(none)'} authentication",
            )


def api_key_in_url(view: SpecView) -> Iterator[Hit]:
    for name, scheme in view.schemes.items():
        if scheme.get("type") == "apiKey" and scheme.get("in") in ("query", "path"):
            yield Hit(
                pointer_join(view.schemes_pointer, name),
                f"API key {scheme.get('name')!r} travels in the {scheme.get('in')}",
            )


def credentials_in_url(view: SpecView) -> Iterator[Hit]:
    seen: set[str] = set()
    for op in view.operations:
        for param in op.params:
            in_url = param.location in ("query", "path")
            if in_url and CREDENTIAL_NAME.match(param.name) and param.pointer not in seen:
                seen.add(param.pointer)
                yield Hit(
                    param.pointer,
                    f"{param.location} parameter {param.name!r} carries a credential in the URL",
                )


def _flow_rule(flow_name: str) -> Any:
    def check(view: SpecView) -> Iterator[Hit]:
        for name, scheme in view.schemes.items():
            if flow_name in _flows(view, scheme):
                yield Hit(
                    pointer_join(view.schemes_pointer, name),
                    f"scheme {name!r} offers the OAuth2 {flow_name} flow",
                )

    return check


implicit_flow = _flow_rule("implicit")
password_flow = _flow_rule("password")


def cleartext_token_urls(view: SpecView) -> Iterator[Hit]:
    for name, scheme in view.schemes.items():
        urls = [scheme.get("openIdConnectUrl")]
        for flow in _flows(view, scheme).values():
            urls += [flow.get("authorizationUrl"), flow.get("tokenUrl"), flow.get("refreshUrl")]
        for url in urls:
            if isinstance(url, str) and url.lower().startswith("http://"):
                yield Hit(
                    pointer_join(view.schemes_pointer, name), f"scheme {name!r} uses {url[:200]}"
                )
                break


def no_refresh_url(view: SpecView) -> Iterator[Hit]:
    for name, scheme in view.schemes.items():
        for flow_name, flow in _flows(view, scheme).items():
            if flow_name != "clientCredentials" and not flow.get("refreshUrl"):
                yield Hit(
                    pointer_join(view.schemes_pointer, name, "flows", flow_name),
                    f"OAuth2 {flow_name} flow of {name!r} documents no refreshUrl",
                )


def jwt_without_bcp(view: SpecView) -> Iterator[Hit]:
    for name, scheme in view.schemes.items():
        is_jwt = scheme.get("type") == "oauth2" or (
            scheme.get("type") == "http" and str(scheme.get("bearerFormat", "")).upper() == "JWT"
        )
        text = str(scheme.get("description", ""))
        if is_jwt and "8725" not in text:
            yield Hit(
                pointer_join(view.schemes_pointer, name),
                f"scheme {name!r} issues tokens without citing RFC 8725 (JWT best practices)",
            )


def undefined_schemes(view: SpecView) -> Iterator[Hit]:
    for requirements, where in _security_lists(view):
        for requirement in requirements:
            if isinstance(requirement, dict):
                for name in requirement:
                    if name not in view.schemes:
                        yield Hit(where, f"requirement names undefined scheme {name!r}")


def bad_scopes(view: SpecView) -> Iterator[Hit]:
    for requirements, where in _security_lists(view):
        for requirement in requirements:
            if not isinstance(requirement, dict):
                continue
            for name, scopes in requirement.items():
                scheme = view.schemes.get(name)
                if scheme is None or not isinstance(scopes, list) or not scopes:
                    continue
                kind = scheme.get("type")
                if kind not in ("oauth2", "openIdConnect"):
                    if view.version != "3.1":
                        yield Hit(where, f"scopes given for non-OAuth scheme {name!r}")
                    continue
                if kind == "oauth2":
                    declared: set[str] = set()
                    for flow in _flows(view, scheme).values():
                        if isinstance(flow.get("scopes"), dict):
                            declared |= set(flow["scopes"])
                    missing = [s for s in scopes if isinstance(s, str) and s not in declared]
                    if missing:
                        yield Hit(where, f"undeclared scope(s) of {name!r}: {', '.join(missing)}")


def _admin(op: Operation) -> bool:
    return bool(ADMIN_PATH.search(op.path))


def _requirement_keys(op: Operation) -> set[str]:
    keys: set[str] = set()
    for requirement in op.security or []:
        if isinstance(requirement, dict) and requirement:
            keys.add(
                "&".join(
                    f"{name}:{','.join(sorted(map(str, scopes or [])))}"
                    for name, scopes in sorted(requirement.items())
                )
            )
    return keys


def admin_shares_requirement(view: SpecView) -> Iterator[Hit]:
    user_keys: set[str] = set()
    for op in view.operations:
        if not _admin(op):
            user_keys |= _requirement_keys(op)
    for op in view.operations:
        if _admin(op) and not op.unsecured and _requirement_keys(op) & user_keys:
            yield Hit(op.pointer, f"{op.key} is protected exactly like non-admin operations")


def admin_unsecured(view: SpecView) -> Iterator[Hit]:
    for op in view.operations:
        if _admin(op) and op.unsecured:
            yield Hit(op.pointer, f"{op.key} is an administrative path with no security")


def privileged_without_scopes(view: SpecView) -> Iterator[Hit]:
    for op in view.operations:
        collection_delete = op.method == "delete" and not op.path.rstrip("/").endswith("}")
        if not (_admin(op) or collection_delete):
            continue
        for requirement in op.security or []:
            if not isinstance(requirement, dict):
                continue
            for name, scopes in requirement.items():
                scheme = view.schemes.get(name, {})
                if scheme.get("type") == "oauth2" and not scopes:
                    yield Hit(op.pointer, f"{op.key} accepts any OAuth2 token of {name!r}")


def numeric_ids(view: SpecView) -> Iterator[Hit]:
    seen: set[str] = set()
    for op in view.operations:
        for param in op.params:
            if param.location not in ("path", "query") or param.pointer in seen:
                continue
            kind = param.schema.get("type")
            if ID_NAME.match(param.name) and kind == "integer":
                seen.add(param.pointer)
                yield Hit(
                    param.pointer, f"{param.location} parameter {param.name!r} is a sequential id"
                )


UNGUESSABLE_FORMATS = frozenset({"uuid", "guid", "ulid"})


def unconstrained_ids(view: SpecView) -> Iterator[Hit]:
    """Path ids given as free text: nothing in the contract says they cannot be guessed. Real
    specs have dozens (Box 123, Stripe 65), so one count per API with examples."""
    places: list[str] = []
    seen: set[str] = set()
    for op in view.operations:
        for param in op.params:
            if param.location != "path" or param.pointer in seen or not ID_NAME.match(param.name):
                continue
            schema = param.schema
            kinds = {schema["type"]} if isinstance(schema.get("type"), str) else set()
            if kinds - {"string"}:
                continue  # integers are DET-API1-001's
            if schema.get("format") in UNGUESSABLE_FORMATS or {"pattern", "enum"} & schema.keys():
                continue
            seen.add(param.pointer)
            places.append(f"{op.key} {{{param.name}}}")
    if places:
        shown = ", ".join(places[:5])
        more = f" (+{len(places) - 5} more)" if len(places) > 5 else ""
        yield Hit("#", f"{len(places)} path ids without format or pattern; e.g. {shown}{more}")
