"""Every static rule: a hardened spec that trips none, and one change to it that trips each."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from detente.api_register.rules import BY_ID, OWASP_2023, RULES, audit_spec
from detente.api_register.spec import load_spec

RATE = {"X-RateLimit-Limit": {"schema": {"type": "integer", "format": "int32"}}}
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "headers": headers or RATE, "content": ERROR}


HARDENED: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Items", "version": "1.0.0"},
    "servers": [
        {"url": "https://api.example.com/v1", "description": "production", "x-internal": False}
    ],
    "security": [{"oauth": ["items:read"]}],
    "paths": {
        "/items/{itemId}": {
            "parameters": [
                {
                    "name": "itemId",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid", "maxLength": 36},
                }
            ],
            "get": {
                "responses": {
                    "200": {
                        "description": "ok",
                        "headers": RATE,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                        },
                    },
                    "400": _response("bad"),
                    "401": _response("unauthenticated"),
                    "429": _response("slow down", {**RATE, "Retry-After": {"schema": {}}}),
                    "500": _response("error"),
                },
            },
            "put": {
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                    }
                },
                "responses": {
                    "200": _response("ok"),
                    "400": _response("bad"),
                    "401": _response("unauthenticated"),
                    "429": _response("slow down", {**RATE, "Retry-After": {"schema": {}}}),
                    "500": _response("error"),
                },
            },
        }
    },
    "components": {
        "securitySchemes": {
            "oauth": {
                "type": "oauth2",
                "description": "Access tokens are JWTs validated per RFC 8725.",
                "flows": {
                    "authorizationCode": {
                        "authorizationUrl": "https://id.example.com/authorize",
                        "tokenUrl": "https://id.example.com/token",
                        "refreshUrl": "https://id.example.com/token",
                        "scopes": {"items:read": "read", "items:write": "write"},
                    }
                },
            }
        },
        "schemas": {
            "Item": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "maxLength": 80, "pattern": "^[a-z ]+$"},
                    "count": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 9},
                    "tags": {
                        "type": "array",
                        "maxItems": 5,
                        "items": {"type": "string", "enum": ["a", "b"]},
                    },
                },
            },
            "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
        },
    },
}

Change = Callable[[dict[str, Any]], object]


def _op(doc: dict[str, Any], method: str = "get") -> dict[str, Any]:
    op: dict[str, Any] = doc["paths"]["/items/{itemId}"][method]
    return op


def _scheme(doc: dict[str, Any]) -> dict[str, Any]:
    schemes: dict[str, Any] = doc["components"]["securitySchemes"]
    return schemes


def _item(doc: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = doc["components"]["schemas"]["Item"]["properties"]
    return props


def _add_path(doc: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> None:
    op.setdefault("responses", copy.deepcopy(_op(doc)["responses"]))
    doc["paths"].setdefault(path, {})[method] = op


def _server(doc: dict[str, Any], url: str, description: str = "production") -> None:
    doc["servers"] = [{"url": url, "description": description, "x-internal": False}]


def _http_scheme(scheme: str) -> Change:
    def change(doc: dict[str, Any]) -> None:
        _scheme(doc)["h"] = {"type": "http", "scheme": scheme}

    return change


def _flow(name: str, **extra: str) -> Change:
    def change(doc: dict[str, Any]) -> None:
        flows = _scheme(doc)["oauth"]["flows"]
        flows[name] = {
            "authorizationUrl": "https://id.example.com/authorize",
            "tokenUrl": "https://id.example.com/token",
            "refreshUrl": "https://id.example.com/token",
            "scopes": {},
            **extra,
        }
        if name == "authorizationCode":
            del flows[name]["refreshUrl"]

    return change


def _param(name: str, schema: dict[str, Any], location: str = "query") -> Change:
    def change(doc: dict[str, Any]) -> None:
        _op(doc).setdefault("parameters", []).append(
            {"name": name, "in": location, "schema": schema}
        )

    return change


OWNER_EMAIL = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"email": {"type": "string", "format": "email", "maxLength": 99}},
}


def _listing(owner: dict[str, Any]) -> dict[str, Any]:
    """A GET whose 200 lists items, each with an ``owner`` object of the given schema."""
    item = {"type": "object", "additionalProperties": False, "properties": {"owner": owner}}
    responses = copy.deepcopy(_op(HARDENED)["responses"])
    responses["200"]["content"]["application/json"]["schema"] = {"type": "array", "items": item}
    return {"responses": responses}


def _cleartext_key(doc: dict[str, Any]) -> None:
    _server(doc, "http://api.example.com")
    _scheme(doc)["k"] = {"type": "apiKey", "in": "header", "name": "key"}


CASES: dict[str, Change] = {
    "DET-API2-001": lambda d: d["components"].pop("securitySchemes") and d.pop("security"),
    "DET-API2-002": lambda d: _op(d, "put").__setitem__("security", []),
    "DET-API2-003": lambda d: _op(d).__setitem__("security", []),
    "DET-API2-004": lambda d: d.pop("security"),
    "DET-API2-005": lambda d: d.__setitem__("security", [{}, {"oauth": ["items:read"]}]),
    "DET-API2-006": _http_scheme("Basic"),
    "DET-API2-007": _http_scheme("digest"),
    "DET-API2-008": lambda d: _scheme(d).__setitem__(
        "k", {"type": "apiKey", "in": "query", "name": "key"}
    ),
    "DET-API2-009": _param("api_key", {"type": "string", "maxLength": 9, "format": "x"}),
    "DET-API2-010": _flow("implicit"),
    "DET-API2-011": _flow("password"),
    "DET-API2-012": _flow("clientCredentials", tokenUrl="http://id.example.com/token"),
    "DET-API2-013": _flow("authorizationCode"),
    "DET-API2-014": lambda d: _scheme(d)["oauth"].__setitem__("description", "tokens"),
    "DET-API2-015": lambda d: d.__setitem__("security", [{"nope": []}]),
    "DET-API2-016": lambda d: d.__setitem__("security", [{"oauth": ["items:admin"]}]),
    "DET-API1-001": lambda d: d["paths"]["/items/{itemId}"]["parameters"][0].__setitem__(
        "schema", {"type": "integer", "format": "int64", "minimum": 1, "maximum": 9}
    ),
    "DET-API1-002": lambda d: d["paths"]["/items/{itemId}"]["parameters"][0]["schema"].pop(
        "format"
    ),
    "DET-API3-001": lambda d: d["components"]["schemas"]["Item"].__setitem__(
        "additionalProperties", True
    ),
    "DET-API3-002": lambda d: _op(d, "put")["requestBody"]["content"]["application/json"].pop(
        "schema"
    ),
    "DET-API3-003": lambda d: _op(d)["responses"]["200"]["content"]["application/json"].pop(
        "schema"
    ),
    "DET-API3-004": lambda d: _item(d).__setitem__(
        "password", {"type": "string", "maxLength": 9, "format": "password"}
    ),
    "DET-API3-005": lambda d: _item(d).__setitem__(
        "owner_id", {"type": "string", "format": "uuid", "maxLength": 36}
    ),
    "DET-API3-006": lambda d: _add_path(d, "/items", "get", _listing(OWNER_EMAIL)),
    "DET-API5-001": lambda d: _add_path(d, "/admin/items", "get", {}),
    "DET-API5-002": lambda d: _add_path(d, "/admin/items", "get", {"security": []}),
    "DET-API5-003": lambda d: _add_path(d, "/items", "delete", {"security": [{"oauth": []}]}),
    "DET-API7-001": _param("callback_url", {"type": "string", "maxLength": 9, "format": "uri"}),
    "DET-API4-001": lambda d: _item(d)["name"].pop("maxLength"),
    "DET-API4-002": lambda d: _item(d)["name"].pop("pattern"),
    "DET-API4-003": lambda d: _item(d)["tags"].pop("maxItems"),
    "DET-API4-004": lambda d: _item(d)["count"].pop("maximum"),
    "DET-API4-005": lambda d: _item(d)["count"].pop("format"),
    "DET-API4-006": lambda d: _op(d)["responses"].pop("429"),
    "DET-API4-007": lambda d: _op(d)["responses"]["200"].pop("headers"),
    "DET-API4-008": lambda d: _op(d)["responses"]["429"]["headers"].pop("Retry-After"),
    "DET-API4-009": _param("limit", {"type": "integer", "format": "int32", "minimum": 1}),
    "DET-API4-010": lambda d: _op(d, "put")["requestBody"]["content"].__setitem__(
        "multipart/form-data", {"schema": {"type": "object"}}
    ),
    "DET-API8-001": lambda d: _server(d, "http://api.example.com"),
    "DET-API8-002": _cleartext_key,
    "DET-API8-003": lambda d: _op(d)["responses"].pop("400"),
    "DET-API8-004": lambda d: _op(d)["responses"].pop("401"),
    "DET-API8-005": lambda d: _op(d)["responses"].pop("500"),
    "DET-API8-006": lambda d: d["info"].__setitem__("x-detente-browser-facing", True),
    "DET-API8-007": lambda d: _add_path(d, "/items", "trace", {}),
    "DET-API8-008": lambda d: d["info"].pop("title"),
    "DET-API9-001": lambda d: d["servers"][0].pop("x-internal"),
    "DET-API9-002": lambda d: d["servers"][0].__setitem__("description", "main"),
    "DET-API9-003": lambda d: _server(d, "https://staging.example.com", "staging"),
    "DET-API9-004": lambda d: _op(d).__setitem__("deprecated", True),
    "DET-API10-001": lambda d: _op(d, "put").__setitem__(
        "callbacks", {"done": {"http://partner.example.com/hook": {}}}
    ),
}


def _results(doc: dict[str, Any]) -> list[Any]:
    return audit_spec(load_spec(json.dumps(doc).encode(), name="t.json"))


def _fired(doc: dict[str, Any]) -> dict[str, int]:
    spec = load_spec(json.dumps(doc).encode(), name="t.json")
    counts: dict[str, int] = {}
    for result in audit_spec(spec):
        counts[result.rule.id] = counts.get(result.rule.id, 0) + 1
    return counts


def test_the_registry_holds_51_rules_each_fully_described() -> None:
    assert len(RULES) == 51
    assert len(BY_ID) == 51
    for rule in RULES:
        assert rule.category in OWASP_2023
        assert rule.severity in ("critical", "high", "medium", "low", "info")
        assert rule.precision in ("very-high", "high", "medium", "low")
        assert rule.title
        assert rule.rationale
        assert rule.fix
        assert rule.cwe is None or rule.cwe > 0


def test_every_rule_has_a_case() -> None:
    assert set(CASES) == set(BY_ID)


def test_the_hardened_spec_trips_no_rule() -> None:
    assert _fired(HARDENED) == {}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_one_change_trips_the_rule(rule_id: str) -> None:
    # given the hardened spec with one weakness added
    doc = copy.deepcopy(HARDENED)
    CASES[rule_id](doc)
    # when audited, then the rule fires (aggregate rules once per API)
    fired = _fired(doc)
    assert rule_id in fired, fired
    if BY_ID[rule_id].aggregate:
        assert fired[rule_id] == 1


def test_a_declared_public_write_is_reported_as_info_not_silenced() -> None:
    doc = copy.deepcopy(HARDENED)
    _op(doc, "put").update({"security": [], "x-detente-public": {"reason": "sign-up form"}})
    results = [
        r for r in audit_spec(load_spec(json.dumps(doc).encode(), name="t.json"))
        if r.rule.id == "DET-API2-002"
    ]  # fmt: skip
    assert [(r.severity, r.hit.message) for r in results] == [
        ("info", "PUT /items/{itemId} declared public: sign-up form")
    ]


def test_aggregate_rules_count_per_api_with_examples() -> None:
    doc = copy.deepcopy(HARDENED)
    for name in ("a", "b", "c", "d", "e", "f", "g"):
        _item(doc)[name] = {"type": "string", "pattern": "x"}
    (result,) = [
        r
        for r in audit_spec(load_spec(json.dumps(doc).encode(), name="t.json"))
        if r.rule.id == "DET-API4-001"
    ]
    assert result.hit.pointer == "#"
    assert result.hit.message.startswith("7 request strings without maxLength; e.g. ")
    assert result.hit.message.endswith("(+2 more)")


def test_policy_severity_overrides_and_disabled_rules() -> None:
    doc = copy.deepcopy(HARDENED)
    _op(doc).__setitem__("security", [])
    spec = load_spec(json.dumps(doc).encode(), name="t.json")
    results = audit_spec(spec, severity={"DET-API2-003": "critical"})
    assert [r.severity for r in results if r.rule.id == "DET-API2-003"] == ["critical"]
    assert audit_spec(spec, disabled=frozenset({"DET-API2-003"})) == []


def test_credentials_in_url_are_deduplicated_by_definition(samples: Any) -> None:
    # given a shared parameter referenced by many operations (the Gmail trap)
    doc = copy.deepcopy(HARDENED)
    doc["components"]["parameters"] = {
        "token": {"name": "access_token", "in": "query", "schema": {"type": "string"}}
    }
    for method in ("get", "put"):
        _op(doc, method)["parameters"] = [{"$ref": "#/components/parameters/token"}]
    results = [
        r for r in audit_spec(load_spec(json.dumps(doc).encode(), name="t.json"))
        if r.rule.id == "DET-API2-009"
    ]  # fmt: skip
    assert [r.hit.pointer for r in results] == ["#/components/parameters/token"]


def test_a_sign_up_body_open_to_undeclared_properties_is_a_mass_assignment_candidate() -> None:
    doc = copy.deepcopy(HARDENED)
    username = {"type": "string", "maxLength": 20, "pattern": "^[a-z]+$"}
    body: dict[str, Any] = {"type": "object", "properties": {"username": username}}
    _add_path(doc, "/users/v1/register", "post", {
        "requestBody": {"content": {"application/json": {"schema": body}}},
    })  # fmt: skip
    results = [r for r in _results(doc) if r.rule.id == "DET-API3-005"]
    assert [(r.hit.pointer, r.hit.message) for r in results] == [(
        "#/paths/~1users~1v1~1register/post/requestBody/content/application~1json/schema",
        "POST /users/v1/register creates accounts from an object open to undeclared properties "
        "(role or admin flags can ride along)",
    )]  # fmt: skip
    # closed, it is not reported; nor is a server-owned property marked readOnly
    body["additionalProperties"] = False
    body["properties"]["id"] = {"type": "string", "format": "uuid", "readOnly": True}
    assert "DET-API3-005" not in _fired(doc)


def test_a_person_without_personal_data_in_a_list_is_not_reported() -> None:
    doc = copy.deepcopy(HARDENED)
    nickname = {"type": "string", "maxLength": 20, "pattern": "^[a-z]+$"}
    _add_path(doc, "/items", "get", _listing(
        {"type": "object", "additionalProperties": False, "properties": {"nickname": nickname}}
    ))  # fmt: skip
    assert "DET-API3-006" not in _fired(doc)
    # with the e-mail in it, the trail to it is named
    _add_path(doc, "/posts", "get", _listing(OWNER_EMAIL))
    (result,) = [r for r in _results(doc) if r.rule.id == "DET-API3-006"]
    assert result.hit.message == "GET /posts lists other people's personal data ([].owner.email)"


def test_a_request_property_whose_example_is_a_url_is_an_ssrf_candidate() -> None:
    doc = copy.deepcopy(HARDENED)
    body = {"type": "object", "additionalProperties": False,
            "properties": {"mechanic_api": {"type": "string", "maxLength": 99,
                                            "pattern": "^.+$"}}}  # fmt: skip
    _add_path(doc, "/contact", "post", {"requestBody": {"content": {"application/json": {
        "schema": body, "example": {"mechanic_api": "http://localhost:8000/receive"},
    }}}})  # fmt: skip
    (result,) = [r for r in _results(doc) if r.rule.id == "DET-API7-001"]
    assert result.hit.message == "request property 'mechanic_api' takes a URL (its example is one)"
    assert result.hit.pointer.endswith("/schema/properties/mechanic_api")
