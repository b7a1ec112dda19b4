"""Writing decision records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from detente.audit.services import audit_record
from detente.core import clock
from detente.core.errors import InputError, RuleViolation
from detente.decisions.models import DecisionRecord, DecisionStatus, EscalationLevel, PressurePoint
from detente.decisions.principles import missing_of
from detente.people.models import Person, Role

_OPTION_KEYS = {"title", "business_benefit", "facts", "findings"}


def _clean_options(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not options:
        raise InputError("a decision needs at least one option", field="options")
    cleaned = []
    for index, option in enumerate(options):
        record = f"options[{index}]"
        if not isinstance(option, dict):
            raise InputError("expected an object", record=record)
        unknown = set(option) - _OPTION_KEYS
        if unknown:
            raise InputError(f"unknown keys {sorted(unknown)}", record=record)
        title = str(option.get("title") or "").strip()
        benefit = str(option.get("business_benefit") or "").strip()
        if not title:
            raise InputError("every option needs a title", record=record, field="title")
        if not benefit:
            # Principle two: know the business benefit of every action.
            raise InputError(
                "every option states its business benefit", record=record, field="business_benefit"
            )
        facts = [str(f) for f in option.get("facts") or []]
        findings = [int(f) for f in option.get("findings") or []]
        cleaned.append(
            {"title": title, "business_benefit": benefit, "facts": facts, "findings": findings}
        )
    return cleaned


def decision_create(
    *,
    actor: Person,
    title: str,
    pressure_point: str,
    question: str,
    options: list[dict[str, Any]],
    company_first: str = "",
    cio_position: str = "",
    ciso_position: str = "",
    informed: list[str] | None = None,
    win_win: str = "",
    review_date: dt.date | None = None,
    escalation_level: str = EscalationLevel.TEAM,
) -> DecisionRecord:
    if actor.has_role(Role.AUDITOR):
        raise RuleViolation("auditors read; they do not record decisions")
    if pressure_point not in PressurePoint.values:
        raise InputError(f"unknown pressure point {pressure_point!r}", field="pressure_point")
    if escalation_level not in EscalationLevel.values:
        raise InputError(f"unknown escalation level {escalation_level!r}", field="escalation_level")
    if not title.strip() or not question.strip():
        raise InputError("a decision needs a title and a question", field="question")
    with transaction.atomic():
        record = DecisionRecord.objects.create(
            title=title.strip(),
            pressure_point=pressure_point,
            question=question.strip(),
            options=_clean_options(options),
            company_first=company_first,
            cio_position=cio_position,
            ciso_position=ciso_position,
            informed=list(informed or []),
            win_win=win_win,
            review_date=review_date,
            escalation_level=escalation_level,
            created_by=actor,
            created_at=clock.now(),
        )
        audit_record(
            actor=actor,
            verb="decision.created",
            subject_type="decision",
            subject_id=record.pk,
            after={"title": record.title, "pressure_point": pressure_point},
        )
        return record


def decision_decide(
    *,
    actor: Person,
    record: DecisionRecord,
    decision: str,
    chosen_option: int | None = None,
    ciso_recommendation_followed: bool | None = None,
    why_blank: str = "",
) -> DecisionRecord:
    """Record the outcome. A principle left blank (``decisions.principles``) needs the decider to
    say why (``why_blank``); the reason is kept on the record and in the audit trail."""
    if not actor.has_any_role((Role.CIO, Role.CISO)):
        raise RuleViolation("only the CIO or the CISO records the decision")
    if not decision.strip():
        raise InputError("state the decision", field="decision")
    with transaction.atomic():
        locked = DecisionRecord.objects.select_for_update().get(pk=record.pk)
        if locked.status != DecisionStatus.OPEN:
            raise RuleViolation(f"DR-{locked.pk} is already decided")
        if chosen_option is not None and not 0 <= chosen_option < len(locked.options):
            raise InputError(f"no option {chosen_option}", field="chosen_option")
        blank = missing_of(locked)
        if blank and not why_blank.strip():
            raise RuleViolation(
                f"DR-{locked.pk} still lacks {', '.join(p.name for p in blank)}: fill "
                "it in, or say why it stays blank (why_blank)"
            )
        locked.principles_waived = why_blank.strip() if blank else ""
        locked.decision = decision.strip()
        locked.chosen_option = chosen_option
        locked.ciso_recommendation_followed = ciso_recommendation_followed
        locked.status = DecisionStatus.DECIDED
        locked.decided_at = clock.now()
        locked.save()
        audit_record(
            actor=actor,
            verb="decision.decided",
            subject_type="decision",
            subject_id=locked.pk,
            before={"status": DecisionStatus.OPEN},
            after={
                "status": DecisionStatus.DECIDED,
                "chosen_option": chosen_option,
                "principles_blank": [p.key for p in blank],
                "why_blank": locked.principles_waived,
            },
        )
        return locked
