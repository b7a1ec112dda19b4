"""Safe loading: every sample spec, real-world quirks, and hostile documents."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from detente.api_register.rules import audit_spec
from detente.api_register.spec import MAX_BYTES, MAX_DEPTH, load_spec, resolve
from detente.api_register.view import SpecView
from detente.core.errors import InputError

OPENAPI = "openapi"


def _manifest(samples: Path) -> list[dict[str, object]]:
    specs: list[dict[str, object]] = json.loads((samples / OPENAPI / "manifest.json").read_text())[
        "specs"
    ]
    return specs


def test_every_sample_spec_loads_with_the_manifests_version_and_operation_count(
    samples: Path,
) -> None:
    # given the 32 real specs and what their manifest says about them
    entries = _manifest(samples)
    assert len(entries) == 32
    for entry in entries:
        raw = (samples / OPENAPI / str(entry["file"])).read_bytes()
        # when each is loaded and viewed
        spec = load_spec(raw, name=str(entry["file"]))
        view = SpecView(spec)
        # then its version, digest and operations are the manifest's, with no problem reported
        assert spec.version == str(entry["openapi_version"])[:3], entry["file"]
        assert spec.digest == entry["sha256"]
        assert len(view.operations) == entry["operation_count"], entry["file"]
        assert spec.problems == []


def test_operations_without_effective_security_match_the_manifest(samples: Path) -> None:
    for entry in _manifest(samples):
        spec = load_spec((samples / OPENAPI / str(entry["file"])).read_bytes(), name="x")
        unsecured = [op for op in SpecView(spec).operations if op.unsecured]
        assert len(unsecured) == entry["operations_without_effective_security"], entry["file"]


def test_integer_response_keys_and_yaml_quirks_are_normalised() -> None:
    # given YAML with an unquoted response code, a date, a YAML 1.1 '=' value and a 'yes'
    raw = b"""
openapi: 3.0.1
info: {title: t, version: 2019-12-03}
paths:
  /a:
    get:
      responses:
        200: {description: ok}
        596: {description: odd}
      x-eq: =
      x-word: yes
"""
    spec = load_spec(raw, name="quirks.yaml")
    op = spec.data["paths"]["/a"]["get"]
    assert list(op["responses"]) == ["200", "596"]
    assert spec.data["info"]["version"] == "2019-12-03"
    assert op["x-eq"] == "="
    assert op["x-word"] == "yes"  # YAML 1.2 core schema: text, not a boolean


def test_ref_with_siblings_and_recursive_schemas_resolve_without_looping() -> None:
    # given a $ref with sibling keys and a schema that contains itself, and a ref cycle
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/n": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Node", "description": "x"}
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {"next": {"$ref": "#/components/schemas/Node"}},
                },
                "A": {"$ref": "#/components/schemas/B"},
                "B": {"$ref": "#/components/schemas/A"},
            }
        },
    }
    spec = load_spec(json.dumps(doc).encode(), name="rec.json")
    # when resolved and walked
    assert resolve(spec.data, {"$ref": "#/components/schemas/A"}) == ({}, "#/components/schemas/B")
    walked = SpecView(spec).request_schemas()
    # then each definition is visited once
    assert [where for _, where, _ in walked] == [
        "#/components/schemas/Node",
        "#/components/schemas/Node/properties/next",
    ] or [where for _, where, _ in walked] == ["#/components/schemas/Node"]
    assert audit_spec(spec)  # and the audit finishes


def test_external_refs_are_reported_and_never_read(tmp_path: Path) -> None:
    # given a secret file and a spec that points at it
    secret = tmp_path / "secret.yaml"
    secret.write_text("type: string\ndescription: TOP-SECRET-CONTENT\n")
    raw = json.dumps(
        {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/a": {
                    "get": {
                        "parameters": [
                            {"$ref": f"file://{secret}"},
                            {"$ref": str(secret)},
                            {"$ref": "#/components/parameters/missing"},
                        ],
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            },
        }
    ).encode()
    # when loaded and audited
    spec = load_spec(raw, name="hostile.json")
    results = audit_spec(spec)
    # then each bad reference is a problem, the audit reports them, and nothing was read
    assert [p.message for p in spec.problems] == [
        f"external $ref {f'file://{secret}'!r} not followed",
        f"external $ref {str(secret)!r} not followed",
        "$ref '#/components/parameters/missing' points at nothing",
    ]
    assert [r.rule.id for r in results].count("DET-API8-008") == 3
    assert "TOP-SECRET-CONTENT" not in json.dumps(spec.data)
    assert "TOP-SECRET-CONTENT" not in json.dumps([r.hit.message for r in results])


def test_a_ref_to_a_loopback_url_is_never_requested() -> None:
    # given a listener on loopback and a spec whose refs point at it
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    try:
        url = f"http://127.0.0.1:{port}/schema.json"
        raw = f"""
openapi: 3.0.0
info: {{title: t, version: "1"}}
paths:
  /a:
    post:
      requestBody: {{$ref: "{url}"}}
      responses: {{"200": {{$ref: "{url}#/ok"}}}}
components:
  schemas:
    S: {{$ref: "{url}"}}
""".encode()
        # when loaded, viewed, walked and audited
        spec = load_spec(raw, name="ssrf.yaml")
        view = SpecView(spec)
        view.request_schemas()
        view.response_schemas()
        audit_spec(spec)
        # then the references are reported and nobody connected
        assert len(spec.problems) == 3
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()


def test_a_yaml_alias_bomb_is_refused_quickly() -> None:
    # given the "billion laughs": nine levels of ten aliases each
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    raw = ("openapi: 3.0.0\n" + "\n".join(lines) + "\n").encode()
    # when loaded, then it is refused as a bad input naming the file
    with pytest.raises(InputError, match=r"^bomb\.yaml, record document: more than 2000000 values"):
        load_spec(raw, name="bomb.yaml")


def test_a_spec_over_the_size_limit_is_refused_before_decoding() -> None:
    raw = b"{" + b" " * (50 * 2**20) + b"}"
    with pytest.raises(
        InputError, match=rf"^big\.json: spec is {len(raw)} bytes, over the {MAX_BYTES}"
    ):
        load_spec(raw, name="big.json")


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_deeply_nested_schemas_are_refused(fmt: str) -> None:
    depth = 500  # (libyaml refuses beyond 1000 on its own: also an InputError)
    if fmt == "json":
        raw = ('{"openapi":"3.0.0","x":' + '{"a":' * depth + "1" + "}" * depth + "}").encode()
    else:
        raw = ("openapi: 3.0.0\nx: " + "[" * depth + "]" * depth + "\n").encode()
    with pytest.raises(InputError, match=f"nested more than {MAX_DEPTH} levels deep"):
        load_spec(raw, name=f"deep.{fmt}")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "deep.x, record document: the file is empty"),
        (b"{not json", "deep.x, record document: not valid JSON"),
        (b"a: [unclosed", "deep.x, record document: not valid YAML"),
        (b"- 1\n- 2\n", "deep.x, record document: an OpenAPI document is an object"),
        (b"info: {}\n", "deep.x, field 'openapi': not an OpenAPI document"),
        (b"openapi: 4.0.0\n", "deep.x, field 'openapi': unsupported OpenAPI version '4.0.0'"),
        (b"swagger: '1.2'\n", "deep.x, field 'swagger': unsupported Swagger version '1.2'"),
        (b"\xff\xfe\x00bad", "deep.x, record document: an OpenAPI document is an object"),
    ],
)
def test_bad_documents_name_the_file_and_field(raw: bytes, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_spec(raw, name="deep.x")
    assert str(caught.value).startswith(message)


def _pointers(samples: Path, name: str, rule_id: str) -> list[str]:
    spec = load_spec((samples / OPENAPI / name).read_bytes(), name=name)
    return [r.hit.pointer for r in audit_spec(spec) if r.rule.id == rule_id]


def test_the_vulnerable_apis_get_what_their_documentation_lists(samples: Path) -> None:
    crapi = "OWASP__crAPI__openapi-spec__crapi-openapi-spec.json"
    vampi = "erev0s__VAmPI__openapi_specs__openapi3.yml"
    dvws = "snoopysecurity__dvws-node__swagger-output.json"
    # every one has unauthenticated writes in its contract
    for name in (crapi, vampi, dvws):
        assert _pointers(samples, name, "DET-API2-002"), name
    # crAPI: BFLA on the admin video delete, BOLA scope on the mechanic report, JWT
    assert "#/paths/~1identity~1api~1v2~1admin~1videos~1{video_id}/delete" in _pointers(
        samples, crapi, "DET-API5-001"
    )
    assert any("mechanic_report" in p for p in _pointers(samples, crapi, "DET-API1-001"))
    assert _pointers(samples, crapi, "DET-API2-014") == ["#/components/securitySchemes/bearerAuth"]
    # VAmPI: the debug endpoint leaks passwords and is unprotected
    assert _pointers(samples, vampi, "DET-API5-002") == ["#/paths/~1users~1v1~1_debug/get"]
    assert any("_debug" in p for p in _pointers(samples, vampi, "DET-API3-004"))
    # dvws-node: unauthenticated admin endpoints, open redirect, no scheme at all
    assert _pointers(samples, dvws, "DET-API5-002") == [
        "#/paths/~1v2~1admin~1logs/get", "#/paths/~1v2~1admin~1create-user/post",
    ]  # fmt: skip
    assert _pointers(samples, dvws, "DET-API7-001") == [
        "#/paths/~1v2~1users~1logout~1{redirect}/get/parameters/0"
    ]
    assert _pointers(samples, dvws, "DET-API2-001") == ["#/components/securitySchemes"]


def test_tags_without_definitions_and_a_31_spec_without_paths_load() -> None:
    raw = b"""
openapi: 3.1.0
info: {title: t, version: "1"}
webhooks: {}
"""
    assert SpecView(load_spec(raw, name="hooks.yaml")).operations == []
    tagged = b"""
swagger: "2.0"
info: {title: t, version: "1"}
paths:
  /a:
    get:
      tags: [never-defined]
      responses: {"200": {description: ok}}
"""
    spec = load_spec(tagged, name="tags.yaml")
    assert [op.key for op in SpecView(spec).operations] == ["GET /a"]
    assert "DET-API8-008" not in {r.rule.id for r in audit_spec(spec)}
