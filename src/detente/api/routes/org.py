"""/api/org: people, teams, services and assets: list, apply (edit, add), deactivate.

Edits go through the same apply as ``detente org apply``: the body is an organisation document
(``docs/organisation.md``); ``keep_missing`` (default true here) edits the entries given and
leaves the rest, ``dry_run`` returns the diff only.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from detente.api.auth import actor, require_write
from detente.api.schemas import ERRORS, In, Limit, Offset, PathId
from detente.inventory.selectors import assets_list, services_list
from detente.org.document import parse_document
from detente.org.services import org_apply, org_deactivate
from detente.people.selectors import people_list

router = Router(tags=["org"])


class OrgPersonOut(Schema):
    id: int
    name: str
    email: str
    role: str  # the primary role
    roles: list[str]  # every role, the primary first
    active: bool


class OrgServiceOut(Schema):
    id: int
    slug: str
    name: str
    owner: str | None
    team: str | None
    criticality: str
    data_classification: str
    internet_facing: bool
    customer_facing: bool
    active: bool


class OrgAssetOut(Schema):
    id: int
    kind: str
    identifier: str
    name: str
    service: str | None
    exposed: bool | None
    declared: bool
    active: bool


class OrgChangeOut(Schema):
    kind: str
    key: str
    action: str
    fields: dict[str, list[Any]]


class OrgPlanOut(Schema):
    applied: bool
    summary: str
    changes: list[OrgChangeOut]


class OrgDocumentIn(In):
    """An organisation document (docs/organisation.md); entries are checked by the apply."""

    # required: a body that is not a document is refused, never an empty apply
    version: int = Field(json_schema_extra={"enum": [1]})
    people: list[dict[str, Any]] | None = None
    teams: list[dict[str, Any]] | None = None
    services: list[dict[str, Any]] | None = None
    assets: list[dict[str, Any]] | None = None


class OrgDeactivatedOut(Schema):
    kind: str
    id: int
    active: bool


class OrgListing(Schema):
    inactive: bool = False  # include inactive rows


@router.get("/org/people", response={200: list[OrgPersonOut], **ERRORS})
def list_people(
    request: HttpRequest, filters: Query[OrgListing], limit: Limit = 100, offset: Offset = 0
) -> list[dict[str, Any]]:
    rows = people_list(inactive=filters.inactive)
    page = rows.prefetch_related("extra_roles")[offset : offset + limit]
    return [
        {"id": p.pk, "name": p.name, "email": p.email, "role": p.role, "roles": list(p.roles),
         "active": p.active}
        for p in page
    ]  # fmt: skip


@router.get("/org/services", response={200: list[OrgServiceOut], **ERRORS})
def list_services(
    request: HttpRequest, filters: Query[OrgListing], limit: Limit = 100, offset: Offset = 0
) -> list[dict[str, Any]]:
    rows = services_list(inactive=filters.inactive)
    return [
        {"id": s.pk, "slug": s.slug, "name": s.name, "owner": s.owner.email if s.owner else None,
         "team": s.team.slug if s.team else None, "criticality": s.criticality,
         "data_classification": s.data_classification, "internet_facing": s.internet_facing,
         "customer_facing": s.customer_facing, "active": s.active}
        for s in rows[offset : offset + limit]
    ]  # fmt: skip


@router.get("/org/assets", response={200: list[OrgAssetOut], **ERRORS})
def list_assets(
    request: HttpRequest, filters: Query[OrgListing], limit: Limit = 100, offset: Offset = 0
) -> list[dict[str, Any]]:
    rows = assets_list(inactive=filters.inactive)
    return [
        {"id": pk, "kind": kind, "identifier": identifier, "name": name, "service": service,
         "exposed": exposed, "declared": declared, "active": active}
        for pk, kind, identifier, name, service, exposed, declared, active in rows.values_list(
            "id", "kind", "identifier", "name", "service__slug", "publicly_exposed", "declared",
            "active",
        )[offset : offset + limit]
    ]  # fmt: skip


@router.post("/org/apply", response={200: OrgPlanOut, **ERRORS})
def apply(
    request: HttpRequest, body: OrgDocumentIn, dry_run: bool = False, keep_missing: bool = True
) -> dict[str, Any]:
    """Apply an organisation document (JSON); the entries it gives are added or changed."""
    person = actor(request) if dry_run else require_write(request)
    data = {k: v for k, v in body.dict().items() if v is not None}
    document = parse_document(data, file="request body")
    plan = org_apply(
        document=document, actor=person, dry_run=dry_run, keep_missing=keep_missing,
        file="request body",
    )  # fmt: skip
    if plan.applied and plan.moves_deadlines:
        from detente.findings.services import findings_reevaluate

        findings_reevaluate(actor=person)
    return {
        "applied": plan.applied,
        "summary": plan.summary(),
        "changes": [
            {"kind": c.kind, "key": c.key, "action": c.action,
             "fields": {k: [_plain(b), _plain(a)] for k, (b, a) in c.fields.items()}}
            for c in plan.changes
        ],
    }  # fmt: skip


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _deactivate(request: HttpRequest, kind: str, pk: int) -> dict[str, Any]:
    org_deactivate(actor=require_write(request), kind=kind, pk=pk)
    if kind in ("service", "asset"):
        from detente.findings.services import findings_reevaluate

        findings_reevaluate(actor=actor(request))
    return {"kind": kind, "id": pk, "active": False}


@router.post("/org/people/{person_id}/deactivate", response={200: OrgDeactivatedOut, **ERRORS})
def deactivate_person(request: HttpRequest, person_id: PathId) -> dict[str, Any]:
    return _deactivate(request, "person", person_id)


@router.post("/org/services/{service_id}/deactivate", response={200: OrgDeactivatedOut, **ERRORS})
def deactivate_service(request: HttpRequest, service_id: PathId) -> dict[str, Any]:
    return _deactivate(request, "service", service_id)


@router.post("/org/assets/{asset_id}/deactivate", response={200: OrgDeactivatedOut, **ERRORS})
def deactivate_asset(request: HttpRequest, asset_id: PathId) -> dict[str, Any]:
    return _deactivate(request, "asset", asset_id)
