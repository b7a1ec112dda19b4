"""/api/decisions, /api/people, /api/audit."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from detente.api.auth import actor, require_write
from detente.api.schemas import (
    ERRORS,
    AuditEventOut,
    DecideIn,
    DecisionIn,
    DecisionOut,
    Limit,
    Offset,
    PathId,
    PersonOut,
    Since,
    VerifyOut,
)
from detente.audit.services import audit_verify
from detente.core.errors import InputError
from detente.decisions.models import DecisionRecord
from detente.decisions.principles import missing_of
from detente.decisions.selectors import decision_get, decisions_list
from detente.decisions.services import decision_create, decision_decide
from detente.people.models import Person
from detente.people.selectors import people_list
from detente.reports.audit_vouchers import VOUCHERS
from detente.reports.scoping import visible_audit_events

decisions = Router(tags=["decisions"])
people = Router(tags=["people"])
audit = Router(tags=["audit"])


def decision_out(d: DecisionRecord) -> dict[str, Any]:
    return {
        "id": d.pk, "title": d.title, "pressure_point": d.pressure_point, "question": d.question,
        "options": list(d.options), "company_first": d.company_first,
        "cio_position": d.cio_position, "ciso_position": d.ciso_position,
        "informed": list(d.informed), "win_win": d.win_win, "decision": d.decision,
        "chosen_option": d.chosen_option, "status": d.status,
        "escalation_level": d.escalation_level, "review_date": d.review_date,
        "acceptances": list(d.acceptances.values_list("id", flat=True)),
        "principles_missing": [p.key for p in missing_of(d)],
        "principles_waived": d.principles_waived,
    }  # fmt: skip


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= 500 or not 0 <= offset <= 10**9:
        raise InputError("limit 1..500, offset 0..10^9", field="limit")


@decisions.get("/decisions", response={200: list[DecisionOut], **ERRORS})
def list_decisions(
    request: HttpRequest, limit: Limit = 50, offset: Offset = 0
) -> list[dict[str, Any]]:
    _page(limit, offset)
    return [decision_out(d) for d in decisions_list()[offset : offset + limit]]


@decisions.get("/decisions/{decision_id}", response={200: DecisionOut, **ERRORS})
def get_decision(request: HttpRequest, decision_id: PathId) -> dict[str, Any]:
    return decision_out(decision_get(decision_id))


@decisions.post("/decisions", response={201: DecisionOut, **ERRORS})
def create_decision(request: HttpRequest, body: DecisionIn) -> Status[dict[str, Any]]:
    data = body.dict()
    record = decision_create(actor=require_write(request), **data)
    return Status(201, decision_out(record))


@decisions.post("/decisions/{decision_id}/decide", response={200: DecisionOut, **ERRORS})
def decide(request: HttpRequest, decision_id: PathId, body: DecideIn) -> dict[str, Any]:
    found = decision_get(decision_id)
    done = decision_decide(
        actor=require_write(request), record=found, decision=body.decision,
        chosen_option=body.chosen_option,
        ciso_recommendation_followed=body.ciso_recommendation_followed,
        why_blank=body.why_blank,
    )  # fmt: skip
    return decision_out(done)


def person_out(p: Person) -> dict[str, Any]:
    return {"id": p.pk, "name": p.name, "email": p.email, "role": p.role, "roles": list(p.roles)}


@people.get("/people", response={200: list[PersonOut], **ERRORS})
def list_people(request: HttpRequest) -> list[dict[str, Any]]:
    return [person_out(p) for p in people_list().prefetch_related("extra_roles")]


@people.get("/people/me", response={200: PersonOut, **ERRORS})
def me(request: HttpRequest) -> dict[str, Any]:
    return person_out(actor(request))


@audit.get(
    "/audit",
    response={200: list[AuditEventOut], **ERRORS},
    summary="Audit events after a sequence number",
)
def list_events(request: HttpRequest, since: Since = 0, limit: Limit = 100) -> list[dict[str, Any]]:
    _page(limit, 0)
    if not 0 <= since < 2**63:
        raise InputError("since is a sequence number ≥ 0", field="since")
    return [
        {"seq": e.seq, "occurred_at": e.occurred_at, "actor": e.actor_label, "verb": e.verb,
         "subject_type": e.subject_type, "subject_id": e.subject_id, "before": e.before,
         "after": e.after, "hash": e.hash}
        for e in visible_audit_events(actor(request)).filter(seq__gt=since).order_by("seq")[:limit]
    ]  # fmt: skip


@audit.get("/audit/verify", response={200: VerifyOut, **ERRORS}, summary="Recompute the hash chain")
def verify(request: HttpRequest) -> dict[str, Any]:
    result = audit_verify(vouchers=VOUCHERS)
    return {
        "ok": result.ok, "checked": result.checked, "broken_at": result.broken_at,
        "reason": result.reason,
    }  # fmt: skip
