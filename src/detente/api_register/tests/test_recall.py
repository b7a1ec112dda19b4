"""Recall on the intentionally vulnerable APIs: every vulnerability crAPI, VAmPI and dvws-node
document that a spec can show is reported by the rule we map it to, at the place it lives.

``EXPECTED`` is our labelling (sources: crAPI docs/challenges.md, VAmPI README, dvws-node
README/wiki); ``bench/api_audit_bench.py`` reads it to print precision and recall per rule for
docs/api-register.md. No database: the audit is pure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from detente.api_register.rules import Result, audit_spec
from detente.api_register.spec import load_spec

CRAPI = "OWASP__crAPI__openapi-spec__crapi-openapi-spec.json"
VAMPI = "erev0s__VAmPI__openapi_specs__openapi3.yml"
DVWS = "snoopysecurity__dvws-node__swagger-output.json"
VULNERABLE = (CRAPI, VAMPI, DVWS)

# (spec, documented vulnerability, rule that should report it, pointer fragment; "#" = the
# aggregate result; for an aggregate rule, a fragment is looked for among the result's
# examples). Sources: crAPI docs/challenges.md, VAmPI README, dvws-node README/wiki.
EXPECTED: tuple[tuple[str, str, str, str], ...] = (
    (CRAPI, "BOLA: another user's mechanic report", "DET-API1-001", "mechanic_report"),
    (CRAPI, "BOLA: another user's order", "DET-API1-001", "orders~1{order_id}/get"),
    (CRAPI, "OTP brute force (no rate limit on v2 check-otp)", "DET-API4-006", "#"),
    (CRAPI, "Layer-7 DoS via contact_mechanic repeats", "DET-API4-004", "#"),
    (CRAPI, "BFLA: delete another user's video via admin path", "DET-API5-001", "admin~1videos"),
    (CRAPI, "SSRF via contact_mechanic mechanic_api", "DET-API7-001", "contact_mechanic"),
    (CRAPI, "Mass assignment: video conversion_params", "DET-API3-005", "VideoForm"),
    (CRAPI, "Excessive data exposure: recent posts leak emails", "DET-API3-006", "posts"),
    (CRAPI, "JWT forgery (weak validation)", "DET-API2-014", "bearerAuth"),
    (VAMPI, "Excessive data exposure: debug endpoint", "DET-API3-004", "_debug"),
    (VAMPI, "Unprotected debug endpoint", "DET-API5-002", "_debug"),
    (VAMPI, "Lack of resources and rate limiting", "DET-API4-006", "#"),
    (VAMPI, "JWT bypass via weak signing key", "DET-API2-014", "bearerAuth"),
    (VAMPI, "Mass assignment at registration (admin)", "DET-API3-005", "register"),
    (DVWS, "Open redirect on logout", "DET-API7-001", "logout"),
    (DVWS, "Unauthenticated admin: logs", "DET-API5-002", "admin~1logs"),
    (DVWS, "Unauthenticated admin: create user", "DET-API5-002", "admin~1create-user"),
    (DVWS, "Broken authentication (none declared)", "DET-API2-001", "securitySchemes"),
    (DVWS, "IDOR on notes", "DET-API1-002", "{noteId}"),
)


def matches(result: Result, spec: str, name: str, fragment: str) -> bool:
    """Whether ``result`` (on spec ``name``) is the documented item at ``fragment``: "#" is an
    aggregate result; for an aggregate rule the fragment is looked for among its examples."""
    if name != spec:
        return False
    pointer, message = result.hit.pointer, result.hit.message
    if fragment == "#":
        return pointer == "#"
    return fragment in (message if pointer == "#" else pointer)


@pytest.mark.parametrize(
    ("spec", "label", "rule_id", "fragment"), EXPECTED, ids=[item[1] for item in EXPECTED]
)
def test_each_documented_vulnerability_is_found(
    samples: Path, spec: str, label: str, rule_id: str, fragment: str
) -> None:
    results = audit_spec(load_spec((samples / "openapi" / spec).read_bytes(), name=spec))
    found = [r for r in results if r.rule.id == rule_id and matches(r, spec, spec, fragment)]
    assert found, f"{label}: {rule_id} did not report {fragment!r}"


def test_the_labelling_covers_19_items_on_three_specs() -> None:
    assert len(EXPECTED) == 19
    assert {item[0] for item in EXPECTED} == set(VULNERABLE)
