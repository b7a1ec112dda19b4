"""Request and response shapes of the REST API."""

from __future__ import annotations

import datetime as dt
from types import UnionType
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from ninja import Path, Query, Schema
from ninja.schema import DjangoGetter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from detente.acceptances.models import ScopeKind
from detente.decisions.models import EscalationLevel, PressurePoint


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None
    record: str | None = None


class ErrorOut(Schema):
    error: ErrorDetail


# Object ids in paths: positive and within a 64-bit integer, so no database sees an overflow.
PathId = Annotated[int, Path(ge=1, le=2**63 - 1)]

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
Since = Annotated[int, Query(ge=0, le=2**63 - 1)]


# The real constraints, stated in the OpenAPI document so a client (and schemathesis) knows
# what is accepted. They are documentation only (``json_schema_extra``): the domain still
# decides, and its refusal names the field in words ("an incident needs a title"), which
# pydantic's "should match pattern" would not.
NUL_FREE = r"^[^\x00]*$"
# Text a person wrote: at least one character that is not a blank, and no NUL.
FILLED = r"^[^\x00]*[^\s\x00][^\x00]*$"
# A calendar month, YYYY-MM (tension.period: years 1970-9999).
MONTH = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"
# Dates and times of day the API takes: years 1971-2999 (every time zone can convert them).
YEARS = r"^(197[1-9]|19[89][0-9]|2[0-9]{3})-"
# The finding list's cursor: what the API issued (unpadded base64url), never made by hand.
CURSOR = r"^[A-Za-z0-9_-]{0,400}$"  # empty: the first page


def filled(max_length: int) -> Any:
    """Required text that must say something: non-blank, no NUL, at most ``max_length``."""
    return Field(max_length=max_length, json_schema_extra={"minLength": 1, "pattern": FILLED})


def one_of(values: Any, **field: Any) -> Any:
    """A string from a fixed set (a model's choices), listed as the schema's ``enum``."""
    return Field(json_schema_extra={"enum": [str(v) for v in values]}, **field)


def month(**field: Any) -> Any:
    return Field(json_schema_extra={"pattern": MONTH}, **field)


def in_years(**field: Any) -> Any:
    """A date or a time between the years 1971 and 2999."""
    return Field(json_schema_extra={"pattern": YEARS}, **field)


def _kinds(annotation: Any) -> set[Any]:
    """The plain types an annotation admits (``Annotated`` and unions unwrapped)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _kinds(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return set().union(*(_kinds(arg) for arg in get_args(annotation)))
    return {annotation}


def state_nul_free(schema: dict[str, Any]) -> None:
    """Every string property of a request body without a stated pattern or format: no NUL."""

    def mark(node: dict[str, Any]) -> None:
        if node.get("type") == "string" and not ({"pattern", "format", "enum"} & node.keys()):
            node["pattern"] = NUL_FREE
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            mark(node["items"])
        for option in node.get("anyOf", []):
            mark(option)

    for prop in schema.get("properties", {}).values():
        mark(prop)


class In(Schema):
    """Base of request bodies: a JSON object (``[null, null]`` is not one, though ninja's schemas
    would read attributes off it), and text without NUL characters (PostgreSQL refuses them)."""

    model_config = ConfigDict(json_schema_extra=state_nul_free)
    # A query string's values are all text ("true", "2026-01-01"): read them as pydantic does.
    in_query: ClassVar[bool] = False

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value: Any) -> Any:
        raw = value._obj if isinstance(value, DjangoGetter) else value
        if not isinstance(raw, dict | BaseModel):
            msg = f"the body must be a JSON object, not {type(raw).__name__}"
            raise ValueError(msg)  # noqa: TRY004 - pydantic reports ValueError, not TypeError
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("text must not contain NUL characters")
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _as_documented(cls, value: Any, info: ValidationInfo) -> Any:
        """What the document says a field is, not what pydantic's lax mode would make of it:
        a yes/no is ``true`` or ``false`` (not ``0``), a date or time is an ISO text (not a
        number of seconds)."""
        field = cls.model_fields.get(info.field_name or "")
        if field is None or value is None or cls.in_query:
            return value
        kinds = _kinds(field.annotation)
        if bool in kinds and not isinstance(value, bool) and not (kinds - {bool, type(None)}):
            raise ValueError("expected true or false")
        if (
            kinds & {dt.date, dt.datetime}
            and isinstance(value, int | float)
            and not (kinds & {int, float})
        ):
            raise ValueError("expected an ISO 8601 date or time")
        return value


# Every route documents the one error model for the statuses the central mapping can return.
# Every route may also answer 414 (query string over DETENTE_MAX_QUERY_BYTES), 429 (the token's
# rate limit) and 503 (SQLite busy past its timeout, with Retry-After): documented on each, since
# they are decided before the route runs (schemathesis found an undocumented 414).
ERRORS: dict[int, type[Schema]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 414, 422, 429, 503), ErrorOut
)


class FindingOut(Schema):
    id: int
    vuln_id: str
    cve: str | None
    title: str
    severity: str
    scanner: str
    scanner_severity: str
    status: str
    kev: bool
    epss: float | None
    epss_percentile: float | None
    exposed: bool
    cvss_vector: str | None
    cvss_score: float | None
    component: str | None
    component_version: str | None
    fixed_in: str | None
    file_path: str | None
    line: int | None
    endpoint: str | None
    asset: str
    asset_id: int
    service: str | None
    deadline: dt.datetime | None
    deadline_class: str
    needs_analyst: bool
    first_seen: dt.datetime


class FindingDetailOut(FindingOut):
    aliases: list[str]
    reason: dict[str, Any]
    description: str | None
    references: list[str]
    acceptances: list[int]


class FindingPage(Schema):
    items: list[FindingOut]
    next_cursor: str | None


class ImportOut(Schema):
    id: int
    file_name: str
    format: str
    scanner: str
    started_at: dt.datetime
    duration_ms: int
    parsed: int
    duplicates: int
    new: int
    unchanged: int
    refreshed: int
    reopened: int
    closed: int
    skipped: int = 0
    notes: list[dict[str, str]] = []
    metadata: dict[str, str] = {}


class SignatureOut(Schema):
    role: str
    signer: str
    verdict: str
    comment: str
    signed_at: dt.datetime
    facts: dict[str, Any]


class AcceptanceOut(Schema):
    id: int
    title: str
    status: str
    scope: str
    cve: str
    rule_id: str
    justification: str
    compensating_controls: str
    requested_until: dt.date
    expires_at: dt.datetime
    deadline_class: str
    required_roles: list[str]
    signed_roles: list[str]
    requester: str
    decision_id: int | None
    renewals: int
    findings: list[int]
    signatures: list[SignatureOut]
    principles_missing: list[str]  # keys of the five principles still lacking (open requests)


class AcceptanceIn(In):
    title: str = ""
    scope: Annotated[str, one_of(ScopeKind.values)] = "findings"
    finding_ids: list[Id] = Field(default_factory=list, max_length=10_000)
    cve: str = ""
    rule_id: str = ""
    service: str | None = None
    asset_id: Id | None = None
    justification: Annotated[str, filled(20_000)]
    compensating_controls: str = ""
    until: dt.date
    decision_id: Id | None = None
    submit: bool = True


class SignIn(In):
    role: str | None = None
    comment: str = ""


class ReasonIn(In):
    reason: Annotated[str, filled(20_000)]


class RenewIn(In):
    until: dt.date
    justification: Annotated[str, filled(20_000)]


class OptionIn(In):
    title: Annotated[str, filled(2_000)]
    business_benefit: Annotated[str, filled(20_000)]
    facts: list[str] = []
    findings: list[Id] = []


class DecisionIn(In):
    title: Annotated[str, filled(200)]
    pressure_point: Annotated[str, one_of(PressurePoint.values)]
    question: Annotated[str, filled(20_000)]
    options: Annotated[list[OptionIn], Field(json_schema_extra={"minItems": 1})]
    company_first: str = ""
    cio_position: str = ""
    ciso_position: str = ""
    informed: list[str] = []
    win_win: str = ""
    review_date: dt.date | None = None
    escalation_level: Annotated[str, one_of(EscalationLevel.values)] = "team"


class DecideIn(In):
    decision: Annotated[str, filled(20_000)]
    chosen_option: Annotated[int, Field(ge=0, le=1000)] | None = None
    ciso_recommendation_followed: bool | None = None
    # Required in effect when a principle is blank: why it stays blank (kept on the record).
    why_blank: Annotated[str, Field(max_length=2000)] = ""


class DecisionOut(Schema):
    id: int
    title: str
    pressure_point: str
    question: str
    options: list[dict[str, Any]]
    company_first: str
    cio_position: str
    ciso_position: str
    informed: list[str]
    win_win: str
    decision: str
    chosen_option: int | None
    status: str
    escalation_level: str
    review_date: dt.date | None
    acceptances: list[int]
    principles_missing: list[str]  # keys of the five principles still blank
    principles_waived: str  # why they were left blank when it was decided


class PersonOut(Schema):
    id: int
    name: str
    email: str
    role: str  # the primary role
    roles: list[str]  # every role held, the primary first


class AuditEventOut(Schema):
    seq: int
    occurred_at: dt.datetime
    actor: str
    verb: str
    subject_type: str
    subject_id: str
    before: Any
    after: Any
    hash: str


class VerifyOut(Schema):
    ok: bool
    checked: int
    broken_at: int | None
    reason: str
