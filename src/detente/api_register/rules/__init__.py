# ruff: noqa: E501  (the rule table reads best one rule per block, its texts unbroken)
"""The static rule registry: every audit rule, by id, imported explicitly (no import strings).

The list follows ``shared/domain/api-security.md`` §2; severities are defaults that the policy's
``api_register.severity`` may override. ``audit_spec`` runs them all over one loaded spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from detente.api_register.rules import auth, data, hygiene
from detente.api_register.rules.base import OWASP_2023, SEVERITIES, Hit, Rule
from detente.api_register.spec import LoadedSpec
from detente.api_register.view import SpecView

__all__ = ["OWASP_2023", "RULES", "SEVERITIES", "Hit", "Result", "Rule", "audit_spec"]

_3X = ("3.0", "3.1")
RULES: tuple[Rule, ...] = (
    # API2 Broken Authentication
    Rule("DET-API2-001", "API2", 306, "high", "high", "No security scheme in the contract",
         "Operations exist but no scheme is declared, so nothing documents how callers prove who they are.",
         "Declare the schemes (securityDefinitions / components.securitySchemes) and apply them.",
         auth.no_schemes),
    Rule("DET-API2-002", "API2", 306, "high", "high", "Write operation without security",
         "A POST/PUT/PATCH/DELETE with no effective requirement (none, [] or {}) can change data anonymously.",
         "Apply a security requirement, or mark a deliberate public write with security: [] and x-detente-public: {reason}.",
         auth.unsecured_writes),
    Rule("DET-API2-003", "API2", 306, "medium", "medium", "Read operation without security",
         "A GET/HEAD with no effective requirement exposes its data to anyone.",
         "Apply a security requirement, or declare it public with x-detente-public.",
         auth.unsecured_reads),
    Rule("DET-API2-004", "API2", 306, "low", "high", "No global security requirement",
         "Schemes are defined but not applied by default: every new operation starts unprotected.",
         "Add a top-level security requirement and opt operations out explicitly.",
         auth.no_global_security),
    Rule("DET-API2-005", "API2", 287, "medium", "high", "Authentication optional",
         "An empty requirement {} beside others lets a caller skip authentication.",
         "Remove {} from the requirement list.", auth.optional_auth),
    Rule("DET-API2-006", "API2", 522, "medium", "very-high", "HTTP Basic authentication",
         "Basic sends reusable credentials with every request and invites credential stuffing.",
         "Use OAuth2 / OpenID Connect or short-lived tokens.", auth.basic_auth),
    Rule("DET-API2-007", "API2", 327, "medium", "high", "Weak or unknown HTTP authentication scheme",
         "Negotiate, Digest, OAuth 1 and unregistered schemes are weak or unverifiable.",
         "Use bearer tokens (OAuth2/OIDC) from the IANA registry.", auth.weak_http_schemes,
         versions=_3X),
    Rule("DET-API2-008", "API2", 598, "medium", "very-high", "API key in the URL",
         "Keys in query or path end up in logs, proxies and browser history.",
         "Send API keys in a header.", auth.api_key_in_url),
    Rule("DET-API2-009", "API2", 598, "high", "medium", "Credential in a URL parameter",
         "A query/path parameter named like a password or token leaks through logs and referrers.",
         "Move credentials to headers or the body.", auth.credentials_in_url),
    Rule("DET-API2-010", "API2", 522, "medium", "very-high", "OAuth2 implicit flow",
         "The implicit flow returns tokens in the URL fragment; OAuth 2.0 Security BCP forbids it.",
         "Use the authorization code flow with PKCE.", auth.implicit_flow),
    Rule("DET-API2-011", "API2", 522, "medium", "very-high", "OAuth2 password flow",
         "The resource owner password flow hands user passwords to the client.",
         "Use the authorization code flow with PKCE.", auth.password_flow),
    Rule("DET-API2-012", "API2", 319, "high", "very-high", "OAuth/OIDC URL over http",
         "Authorization, token or discovery URLs in cleartext expose codes and tokens.",
         "Serve every OAuth/OIDC endpoint over https.", auth.cleartext_token_urls),
    Rule("DET-API2-013", "API2", 613, "info", "low", "OAuth2 flow without refreshUrl",
         "Without refresh, access tokens tend to be long-lived.",
         "Issue short-lived access tokens and document refreshUrl.", auth.no_refresh_url,
         versions=_3X),
    Rule("DET-API2-014", "API2", 347, "info", "low", "Tokens without RFC 8725 practices",
         "JWT validation mistakes (alg none, weak keys) are common; the contract should say how tokens are checked.",
         "State RFC 8725 compliance in the scheme's description.", auth.jwt_without_bcp,
         versions=_3X),
    Rule("DET-API2-015", "API2", 306, "high", "very-high", "Requirement names an undefined scheme",
         "A requirement on a scheme that does not exist protects nothing.",
         "Define the scheme or fix the requirement's name.", auth.undefined_schemes),
    Rule("DET-API2-016", "API2", 285, "low", "high", "Scopes misused",
         "Scopes on non-OAuth schemes, or scopes the flows do not declare, are not enforced as written.",
         "Declare every scope in the flows; use scopes only with OAuth2/OIDC.", auth.bad_scopes,
         versions=("2.0", "3.0", "3.1")),
    # API1 / API3 / API5 / API7
    Rule("DET-API1-001", "API1", 639, "low", "low", "Sequential numeric id",
         "Integer ids are guessable: object-level authorization must hold on every one (BOLA).",
         "Use UUIDs, and pen-test object-level authorization on these operations.",
         auth.numeric_ids),
    Rule("DET-API1-002", "API1", 639, "info", "low", "Object id without format or pattern",
         "A path id given as free text may be sequential or guessable; the contract cannot show object-level authorization is not all that protects it.",
         "Give ids format: uuid (or a pattern), and pen-test object-level authorization on these operations.",
         auth.unconstrained_ids, aggregate=True),
    Rule("DET-API3-001", "API3", 915, "low", "medium", "Request object accepts extra properties",
         "Open objects invite mass assignment of properties the client should not set.",
         "Set additionalProperties: false (3.1: unevaluatedProperties: false) or maxProperties.",
         data.permissive_objects),
    Rule("DET-API3-002", "API3", 20, "medium", "high", "Write body without schema",
         "A body without schema cannot be validated: anything is accepted.",
         "Give every request body a schema.", data.body_without_schema),
    Rule("DET-API3-003", "API3", 213, "low", "high", "Response body without schema",
         "Undocumented responses hide excessive data exposure.",
         "Give every success response a schema.", data.response_without_schema, aggregate=True,
         versions=_3X),
    Rule("DET-API3-004", "API3", 213, "medium", "low", "Secret-like property in a response",
         "Passwords, tokens, card or social-security numbers in responses leak sensitive data.",
         "Remove the property from responses or mark it writeOnly.", data.secret_in_response),
    Rule("DET-API3-005", "API3", 915, "medium", "medium", "Mass-assignment candidate in a write body",
         "A write body that accepts server-owned properties (id, role, admin, balance…), or a sign-up body open to undeclared ones, lets a client set what only the server should.",
         "Use a distinct input schema without server-owned properties (or mark them readOnly); close sign-up bodies with additionalProperties: false.",
         data.mass_assignment),
    Rule("DET-API3-006", "API3", 359, "medium", "medium", "Other people's personal data in a list",
         "A list whose items embed another person (author, owner, user…) with an e-mail, phone or address hands everyone's contact data to every caller.",
         "Return only what the list needs (a display name); keep contact data on the person's own, authorized record.",
         data.personal_data_in_lists),
    Rule("DET-API5-001", "API5", 285, "medium", "medium", "Admin operation shares user requirement",
         "An admin path protected exactly like user paths is reachable by any user.",
         "Protect admin operations with a distinct scheme or scope.",
         auth.admin_shares_requirement),
    Rule("DET-API5-002", "API5", 285, "high", "high", "Admin operation without security",
         "Administrative, internal, debug or actuator paths with no security are open to all.",
         "Apply a dedicated admin requirement, or remove the path from the public contract.",
         auth.admin_unsecured),
    Rule("DET-API5-003", "API5", 285, "low", "low", "Privileged operation without scopes",
         "Any OAuth2 token may call an admin path or delete a collection.",
         "Require a dedicated scope.", auth.privileged_without_scopes),
    Rule("DET-API7-001", "API7", 918, "info", "low", "URL input (SSRF candidate)",
         "Inputs that take URLs can make the server fetch internal resources.",
         "Allow-list destinations; include these inputs in the pen-test scope.", data.url_inputs),
    # API4 Unrestricted Resource Consumption
    Rule("DET-API4-001", "API4", 770, "low", "high", "Strings without maxLength",
         "Unbounded strings let one request consume memory and storage.",
         "Give every request string a maxLength (or enum).", data.unbounded_strings,
         aggregate=True),
    Rule("DET-API4-002", "API4", 20, "info", "medium", "Strings without format or pattern",
         "Free text everywhere makes input validation impossible to check.",
         "Add format, pattern or enum to request strings.", data.unrestricted_strings,
         aggregate=True),
    Rule("DET-API4-003", "API4", 770, "low", "high", "Arrays without maxItems",
         "Unbounded arrays let one request carry unlimited work.",
         "Give every request array a maxItems.", data.unbounded_arrays, aggregate=True),
    Rule("DET-API4-004", "API4", 770, "low", "high", "Numbers without minimum and maximum",
         "Unbounded numbers drive unbounded work (page sizes, quantities).",
         "Give request numbers a minimum and a maximum.", data.unbounded_numbers,
         aggregate=True),
    Rule("DET-API4-005", "API4", 190, "info", "high", "Integer without format",
         "Without int32/int64 clients and servers may disagree on range (overflow).",
         "Add format: int32 or int64.", data.integer_format, aggregate=True),
    Rule("DET-API4-006", "API4", 770, "low", "medium", "No 429 response",
         "Operations that document no rate limiting probably have none.",
         "Rate-limit and document 429 Too Many Requests.", data.no_429, aggregate=True),
    Rule("DET-API4-007", "API4", 770, "info", "low", "No rate-limit headers",
         "Clients cannot pace themselves without rate-limit headers.",
         "Return RateLimit / X-RateLimit-* headers.", data.no_rate_limit_headers,
         aggregate=True, versions=_3X),
    Rule("DET-API4-008", "API4", 770, "info", "high", "429 without Retry-After",
         "Without Retry-After clients retry immediately and amplify load.",
         "Send Retry-After with 429.", data.no_retry_after, aggregate=True),
    Rule("DET-API4-009", "API4", 770, "medium", "medium", "Page size without maximum",
         "A page-size parameter without maximum lets one call dump a whole table.",
         "Give page-size parameters a maximum.", data.unbounded_page_size),
    Rule("DET-API4-010", "API4", 400, "low", "low", "File upload without size limit",
         "Uploads without a documented limit invite storage and memory exhaustion.",
         "Document and enforce a maximum upload size.", data.unbounded_uploads),
    # API8 / API9 / API10
    Rule("DET-API8-001", "API8", 319, "medium", "very-high", "Server over cleartext",
         "http:// or ws:// servers expose traffic to interception.",
         "Serve the API over https/wss only.", hygiene.cleartext_servers),
    Rule("DET-API8-002", "API8", 319, "high", "high", "Credentials over cleartext",
         "An API key or Basic credential sent to an http:// server is exposed on the wire.",
         "Remove http servers; rotate keys that travelled in cleartext.",
         hygiene.cleartext_credentials),
    Rule("DET-API8-003", "API8", 209, "info", "medium", "No validation error response",
         "Undocumented 400/422 responses often mean unvalidated input or leaky default errors.",
         "Document 400/422 with an error schema.", hygiene.no_validation_errors,
         aggregate=True),
    Rule("DET-API8-004", "API8", 209, "info", "medium", "Secured operation without 401",
         "Authentication failures should be documented and uniform.",
         "Document 401 (and 403) on secured operations.", hygiene.no_auth_errors,
         aggregate=True),
    Rule("DET-API8-005", "API8", 209, "info", "medium", "No server error response",
         "Without a documented 500/default, stack traces may reach clients.",
         "Document 500 or default with an error schema.", hygiene.no_server_errors,
         aggregate=True),
    Rule("DET-API8-006", "API8", 942, "info", "low", "Browser-facing API without CORS origin",
         "A browser-facing API should state which origins may call it.",
         "Document Access-Control-Allow-Origin.", hygiene.no_cors_origin),
    Rule("DET-API8-007", "API8", 16, "low", "high", "TRACE published",
         "TRACE echoes requests (cross-site tracing).", "Remove TRACE operations.",
         hygiene.trace_published),
    Rule("DET-API8-008", "API8", 1059, "medium", "very-high", "Spec invalid or incomplete",
         "What cannot be read or resolved cannot be audited: the audit is partial.",
         "Fix the document; bundle external $refs into one file.", hygiene.invalid_spec),
    Rule("DET-API9-001", "API9", 1059, "info", "high", "Server not marked internal or external",
         "Without x-internal the inventory cannot tell who may reach a server.",
         "Mark each server x-internal: true or false.", hygiene.server_not_marked,
         versions=_3X),
    Rule("DET-API9-002", "API9", 1059, "low", "high", "Server without environment",
         "A server whose description names no environment blurs production and test.",
         "Name the environment (production, staging, …) in each server's description.",
         hygiene.server_without_environment, versions=_3X),
    Rule("DET-API9-003", "API9", 1059, "low", "medium", "Non-production host published",
         "Staging, test, dev or local hosts in a published contract are often less protected.",
         "Publish non-production servers in a separate spec.", hygiene.non_production_hosts),
    Rule("DET-API9-004", "API9", 1059, "info", "high", "Deprecated operation still published",
         "Deprecated operations linger unmaintained (old versions, zombie endpoints).",
         "Set a retirement date and remove them.", hygiene.deprecated_operations),
    Rule("DET-API10-001", "API10", 319, "low", "low", "Callback over cleartext",
         "Callbacks to http:// URLs send data to third parties unprotected.",
         "Call back over https only.", hygiene.cleartext_callbacks, versions=_3X),
)  # fmt: skip

BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}


@dataclass(frozen=True, slots=True)
class Result:
    rule: Rule
    hit: Hit
    severity: str


def audit_spec(
    spec: LoadedSpec,
    *,
    severity: Mapping[str, str] | None = None,
    disabled: frozenset[str] = frozenset(),
) -> list[Result]:
    """Run every enabled rule that applies to the spec's version; ordered by rule, then place."""
    view = SpecView(spec)
    overrides = severity or {}
    results: list[Result] = []
    for rule in RULES:
        if rule.id in disabled or spec.version not in rule.versions:
            continue
        default = overrides.get(rule.id, rule.severity)
        seen: set[tuple[str, str]] = set()
        for hit in rule.check(view):
            key = (hit.pointer, hit.message)
            if key in seen:
                continue
            seen.add(key)
            results.append(Result(rule, hit, hit.severity or default))
    return results
