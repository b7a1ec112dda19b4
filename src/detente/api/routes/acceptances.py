"""/api/acceptances: the whole workflow."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Status

from detente.acceptances import services
from detente.acceptances.models import RiskAcceptance
from detente.api.auth import actor, require_write
from detente.api.schemas import (
    ERRORS,
    AcceptanceIn,
    AcceptanceOut,
    Limit,
    Offset,
    PathId,
    ReasonIn,
    RenewIn,
    SignIn,
)
from detente.core.errors import InputError, NotFound
from detente.decisions.models import DecisionRecord
from detente.inventory.models import Asset
from detente.inventory.selectors import service_by_slug
from detente.people.models import Person

router = Router(tags=["acceptances"])


def _visible(person: Person) -> QuerySet[RiskAcceptance]:
    qs = RiskAcceptance.objects.select_related("requester").prefetch_related(
        "signatures__signer", "items"
    )
    if person.owner_scoped:
        qs = qs.filter(items__finding__asset__service__owner=person).distinct()
    return qs


def _get(request: HttpRequest, pk: int) -> RiskAcceptance:
    found = _visible(actor(request)).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"risk acceptance {pk} does not exist")
    return found


def acceptance_out(a: RiskAcceptance) -> dict[str, Any]:
    signatures = list(a.signatures.all())
    return {
        "id": a.pk, "title": a.title, "status": a.status, "scope": a.scope, "cve": a.cve,
        "rule_id": a.rule_id, "justification": a.justification,
        "compensating_controls": a.compensating_controls, "requested_until": a.requested_until,
        "expires_at": a.expires_at, "deadline_class": a.deadline_class,
        "required_roles": list(a.required_roles), "signed_roles": [s.role for s in signatures],
        "requester": a.requester.email, "decision_id": a.decision_id, "renewals": a.renewals,
        "findings": sorted(i.finding_id for i in a.items.all()),
        "signatures": [
            {"role": s.role, "signer": s.signer.email, "verdict": s.verdict, "comment": s.comment,
             "signed_at": s.signed_at, "facts": s.facts}
            for s in signatures
        ],
    }  # fmt: skip


def _fresh(pk: int, request: HttpRequest) -> dict[str, Any]:
    return acceptance_out(_get(request, pk))


@router.get(
    "/acceptances",
    response={200: list[AcceptanceOut], **ERRORS},
    summary="Acceptances, newest first",
)
def list_acceptances(
    request: HttpRequest, status: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> list[dict[str, Any]]:
    if not 1 <= limit <= 500 or not 0 <= offset <= 10**9:
        raise InputError("limit 1..500, offset 0..10^9", field="limit")
    qs = _visible(actor(request))
    if status and "\x00" in status:
        raise InputError("text must not contain NUL characters", field="status")
    if status:
        qs = qs.filter(status=status)
    return [acceptance_out(a) for a in qs[offset : offset + limit]]


@router.get("/acceptances/{acceptance_id}", response={200: AcceptanceOut, **ERRORS})
def get_acceptance(request: HttpRequest, acceptance_id: PathId) -> dict[str, Any]:
    return _fresh(acceptance_id, request)


@router.post("/acceptances", response={201: AcceptanceOut, **ERRORS}, summary="Request a deferral")
def request_acceptance(request: HttpRequest, body: AcceptanceIn) -> Status[dict[str, Any]]:
    person = require_write(request)
    decision = None
    if body.decision_id is not None:
        decision = DecisionRecord.objects.filter(pk=body.decision_id).first()
        if decision is None:
            raise NotFound(f"decision record {body.decision_id} does not exist")
    asset = None
    if body.asset_id is not None:
        asset = Asset.objects.filter(pk=body.asset_id).first()
        if asset is None:
            raise NotFound(f"asset {body.asset_id} does not exist")
    created = services.acceptance_request(
        actor=person, title=body.title, scope=body.scope, justification=body.justification,
        until=body.until, compensating_controls=body.compensating_controls,
        finding_ids=body.finding_ids, cve=body.cve, rule_id=body.rule_id,
        service=service_by_slug(body.service) if body.service else None, asset=asset,
        decision=decision, submit=body.submit,
    )  # fmt: skip
    return Status(201, _fresh(created.pk, request))


@router.post("/acceptances/{acceptance_id}/submit", response={200: AcceptanceOut, **ERRORS})
def submit(request: HttpRequest, acceptance_id: PathId) -> dict[str, Any]:
    services.acceptance_submit(
        actor=require_write(request), acceptance=_get(request, acceptance_id)
    )
    return _fresh(acceptance_id, request)


@router.post("/acceptances/{acceptance_id}/sign", response={200: AcceptanceOut, **ERRORS})
def sign(request: HttpRequest, acceptance_id: PathId, body: SignIn) -> dict[str, Any]:
    services.acceptance_sign(
        actor=require_write(request), acceptance=_get(request, acceptance_id), role=body.role,
        comment=body.comment,
    )  # fmt: skip
    return _fresh(acceptance_id, request)


@router.post("/acceptances/{acceptance_id}/reject", response={200: AcceptanceOut, **ERRORS})
def reject(request: HttpRequest, acceptance_id: PathId, body: ReasonIn) -> dict[str, Any]:
    services.acceptance_reject(
        actor=require_write(request), acceptance=_get(request, acceptance_id), reason=body.reason
    )
    return _fresh(acceptance_id, request)


@router.post("/acceptances/{acceptance_id}/revoke", response={200: AcceptanceOut, **ERRORS})
def revoke(request: HttpRequest, acceptance_id: PathId, body: ReasonIn) -> dict[str, Any]:
    services.acceptance_revoke(
        actor=require_write(request), acceptance=_get(request, acceptance_id), reason=body.reason
    )
    return _fresh(acceptance_id, request)


@router.post("/acceptances/{acceptance_id}/renew", response={201: AcceptanceOut, **ERRORS})
def renew(request: HttpRequest, acceptance_id: PathId, body: RenewIn) -> Status[dict[str, Any]]:
    created = services.acceptance_renew(
        actor=require_write(request), acceptance=_get(request, acceptance_id), until=body.until,
        justification=body.justification,
    )  # fmt: skip
    return Status(201, _fresh(created.pk, request))
