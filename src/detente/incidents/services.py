"""Incident writes: declare, move, set the facts that start clocks, brief, acknowledge, file,
add to the timeline, review, and remind.

Every write locks the incident row, checks the move against ``ALLOWED`` where there is one, writes
its audit event and timeline entry in the same transaction, queues notifications in that
transaction too (the outbox), and raises a domain error — changing nothing — when refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from django.db import transaction

from detente.audit.services import audit_record
from detente.core import clock
from detente.core.errors import InputError, NotFound, PermissionDenied, RuleViolation
from detente.decisions.models import DecisionRecord
from detente.incidents import clocks
from detente.incidents.briefings import render_markdown
from detente.incidents.models import (
    ALLOWED,
    HANDLING,
    Briefing,
    BriefingForm,
    ClockFiling,
    Confidence,
    DoraEntityType,
    EntryKind,
    GdprRole,
    Incident,
    IncidentStatus,
    IncidentType,
    Nis2Entity,
    RegimeProfile,
    Review,
    ReviewAction,
    Severity,
    TimelineEntry,
)
from detente.incidents.selectors import (
    BriefingState,
    briefing_status,
    cadence_interval,
    incident_clocks,
)
from detente.inventory.models import BusinessService
from detente.notifications.services import notify
from detente.people.models import Person, Role
from detente.policy.services import active_policy

S = IncidentStatus
# Who may brief, move or file: the incident's own roles, and the security leadership.
RESPONDER_ROLES = frozenset({Role.CISO, Role.SECURITY_LEAD})
# Who may lead an incident: the people who run a response (not the CIO who is briefed, not an
# auditor, not a service owner or change manager who are consulted).
LEAD_ROLES = frozenset({Role.CISO, Role.SECURITY_LEAD, Role.IT_LEAD, Role.ENGINEER})


@dataclass(frozen=True)
class Unknown:
    text: str
    confidence: str = Confidence.LOW


@dataclass(frozen=True)
class ActionItem:
    text: str
    owner: Person
    due: dt.date


def _move(incident: Incident, to: str) -> None:
    if to not in ALLOWED[incident.status]:
        raise RuleViolation(f"INC-{incident.pk} is {incident.status}; it cannot become {to}")
    incident.status = to


def _locked(incident: Incident | int) -> Incident:
    pk = incident if isinstance(incident, int) else incident.pk
    found = Incident.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(f"incident {pk} does not exist")
    return found


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError("give a timezone-aware time", field=field)
    if value > clock.now():
        raise InputError("must not lie in the future", field=field)
    return value


def _entry(incident: Incident, author: Person | None, kind: str, text: str) -> TimelineEntry:
    now = clock.now()
    return TimelineEntry.objects.create(
        incident=incident, at=now, author=author, kind=kind, text=text, recorded_at=now
    )


def _responder(incident: Incident, actor: Person, what: str) -> None:
    ids = {incident.lead_id, incident.ciso_id, incident.liaison_id, incident.scribe_id}
    if actor.pk not in ids and not actor.has_any_role(RESPONDER_ROLES):
        raise PermissionDenied(f"{actor} holds no role on INC-{incident.pk} and cannot {what}")


def _leaders(incident: Incident) -> list[Person]:
    people = [incident.lead, incident.ciso, incident.cio]
    return [p for p in people if p is not None]


def _first_with_role(role: Role) -> Person | None:
    return Person.objects.holding(role).filter(active=True).order_by("id").first()


# ----------------------------------------------------------------------------- regimes


def regimes_configure(
    *,
    actor: Person,
    sec_registrant: bool | None = None,
    gdpr_role: str | None = None,
    nis2_entity: str | None = None,
    dora_entity_type: str | None = None,
    eu_timezone: str | None = None,
    eu_calendar: str | None = None,
    us_timezone: str | None = None,
) -> RegimeProfile:
    """Configure the organisation's regimes once (CISO or CIO); ``None`` leaves a field alone."""
    if not actor.has_any_role((Role.CISO, Role.CIO)):
        raise PermissionDenied("only the CISO or the CIO configures the regulatory regimes")
    checks: list[tuple[str, str | None, Sequence[str]]] = [
        ("gdpr_role", gdpr_role, GdprRole.values),
        ("nis2_entity", nis2_entity, Nis2Entity.values),
        ("dora_entity_type", dora_entity_type, DoraEntityType.values),
    ]
    for name, value, allowed in checks:
        if value is not None and value not in allowed:
            raise InputError(f"{value!r} is not one of {', '.join(allowed)}", field=name)
    for name, zone in (("eu_timezone", eu_timezone), ("us_timezone", us_timezone)):
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise InputError(f"unknown time zone {zone!r}", field=name) from None
    if (
        eu_calendar is not None
        and eu_calendar.upper() != "TARGET"
        and eu_calendar.upper() not in holidays.list_supported_countries()
    ):
        raise InputError(f"unknown holiday calendar {eu_calendar!r}", field="eu_calendar")
    changes: dict[str, Any] = {
        "sec_registrant": sec_registrant,
        "gdpr_role": gdpr_role,
        "nis2_entity": nis2_entity,
        "dora_entity_type": dora_entity_type,
        "eu_timezone": eu_timezone,
        "eu_calendar": eu_calendar.upper() if eu_calendar else None,
        "us_timezone": us_timezone,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    with transaction.atomic():
        profile, _ = RegimeProfile.objects.select_for_update().get_or_create(pk=1)
        before = {k: getattr(profile, k) for k in changes}
        for key, value in changes.items():
            setattr(profile, key, value)
        profile.updated_at = clock.now()
        profile.save()
        audit_record(
            actor=actor,
            verb="incidents.regimes_configured",
            subject_type="regime_profile",
            subject_id=1,
            before=before,
            after=changes,
        )
        return profile


# ----------------------------------------------------------------------------- declare and move


def incident_declare(  # noqa: PLR0913 - keyword-only service: one argument per field of the incident
    *,
    actor: Person,
    title: str,
    type: str,
    severity: str,
    lead: Person,
    summary: str = "",
    detected_at: dt.datetime | None = None,
    aware_at: dt.datetime | None = None,
    services: Sequence[BusinessService] = (),
    personal_data: bool = False,
    data_categories: Sequence[str] = (),
    ciso: Person | None = None,
    cio: Person | None = None,
    liaison: Person | None = None,
    scribe: Person | None = None,
) -> Incident:
    """Declare an incident now. Awareness defaults to now; detection to awareness."""
    if actor.has_role(Role.AUDITOR):
        raise PermissionDenied("an auditor does not declare incidents")
    if not title.strip():
        raise InputError("an incident needs a title", field="title")
    if not type:
        raise InputError("choose the incident type", field="type")
    if type not in IncidentType.values:
        raise InputError(f"unknown type {type!r}", field="type")
    if not lead.has_any_role(LEAD_ROLES):
        raise InputError(
            f"{lead} cannot lead an incident (a CISO, security lead, IT lead or engineer can)",
            field="lead",
        )
    if severity not in Severity.values:
        raise InputError(f"severity is one of {', '.join(Severity.values)}", field="severity")
    now = clock.now()
    aware = _aware(aware_at, "aware_at") if aware_at else now
    detected = _aware(detected_at, "detected_at") if detected_at else aware
    if detected > aware:
        raise InputError("detection cannot come after awareness", field="detected_at")
    with transaction.atomic():
        incident = Incident.objects.create(
            title=title.strip(),
            type=type,
            severity=severity,
            summary=summary.strip(),
            detected_at=detected,
            declared_at=now,
            aware_at=aware,
            personal_data=personal_data,
            data_categories=sorted({c.strip() for c in data_categories if c.strip()}),
            lead=lead,
            ciso=ciso or _first_with_role(Role.CISO),
            cio=cio or _first_with_role(Role.CIO),
            liaison=liaison,
            scribe=scribe,
            declared_by=actor,
            status_changed_at=now,
        )
        incident.services.set(services)
        _entry(
            incident,
            actor,
            EntryKind.DECLARED,
            f"{incident.get_severity_display()} {incident.get_type_display()} declared; "
            f"lead {lead.name}",
        )
        audit_record(
            actor=actor,
            verb="incident.declared",
            subject_type="incident",
            subject_id=incident.pk,
            after={
                "title": incident.title,
                "type": type,
                "severity": severity,
                "aware_at": aware.isoformat(),
                "lead": lead.pk,
                "services": [s.slug for s in services],
                "personal_data": personal_data,
            },
        )
        notify(
            event="incident.declared",
            title=f"INC-{incident.pk} declared ({incident.get_severity_display()}): "
            f"{incident.title}",
            text=summary.strip() or incident.title,
            people=_leaders(incident),
            facts={
                "incident": incident.pk,
                "severity": severity,
                "lead": lead.email,
                "declared_at": now.isoformat(),
            },
        )
        return incident


def incident_transition(
    *, actor: Person, incident: Incident | int, to: str, note: str = ""
) -> Incident:
    """Move an incident along ``ALLOWED`` (the lead, the CISO or a security lead)."""
    if to not in S.values:
        raise InputError(f"unknown status {to!r}", field="to")
    with transaction.atomic():
        locked = _locked(incident)
        _responder(locked, actor, "change its status")
        before = locked.status
        _move(locked, to)
        now = clock.now()
        locked.status_changed_at = now
        fields = ["status", "status_changed_at"]
        if to == S.RECOVERED and locked.handled_at is None:
            locked.handled_at = now
            fields.append("handled_at")
        if to == S.CLOSED:
            locked.closed_at = now
            fields.append("closed_at")
        locked.save(update_fields=fields)
        text = f"{before} → {to}" + (f": {note.strip()}" if note.strip() else "")
        _entry(locked, actor, EntryKind.STATUS, text)
        audit_record(
            actor=actor,
            verb="incident.status",
            subject_type="incident",
            subject_id=locked.pk,
            before={"status": before},
            after={"status": to, "note": note.strip()},
        )
        return locked


def incident_set_facts(
    *,
    actor: Person,
    incident: Incident | int,
    severity: str | None = None,
    classified_major_at: dt.datetime | None = None,
    material_determined_at: dt.datetime | None = None,
    sec_details_available_at: dt.datetime | None = None,
    nis2_significant: bool | None = None,
    personal_data: bool | None = None,
    high_risk_to_subjects: bool | None = None,
    data_categories: Sequence[str] | None = None,
) -> Incident:
    """Record the facts that start or stop clocks. ``None`` leaves a fact alone; a recorded
    determination time is history and is not moved."""
    if severity is not None and severity not in Severity.values:
        raise InputError(f"severity is one of {', '.join(Severity.values)}", field="severity")
    moments = {
        "classified_major_at": classified_major_at,
        "material_determined_at": material_determined_at,
        "sec_details_available_at": sec_details_available_at,
    }
    with transaction.atomic():
        locked = _locked(incident)
        _responder(locked, actor, "change its facts")
        if locked.status == S.CLOSED:
            raise RuleViolation(f"INC-{locked.pk} is closed")
        changes: dict[str, Any] = {}
        for name, value in moments.items():
            if value is None:
                continue
            _aware(value, name)
            if getattr(locked, name) is not None:
                raise RuleViolation(f"INC-{locked.pk} already has {name} recorded")
            if value < locked.aware_at and name != "material_determined_at":
                raise InputError("cannot come before awareness", field=name)
            changes[name] = value
        if sec_details_available_at and not (
            locked.material_determined_at or material_determined_at
        ):
            raise RuleViolation("an 8-K/A follows a materiality determination; record it first")
        flags = {
            "severity": severity,
            "nis2_significant": nis2_significant,
            "personal_data": personal_data,
            "high_risk_to_subjects": high_risk_to_subjects,
            "data_categories": (
                sorted({c.strip() for c in data_categories if c.strip()})
                if data_categories is not None
                else None
            ),
        }
        changes |= {k: v for k, v in flags.items() if v is not None and getattr(locked, k) != v}
        if not changes:
            return locked
        before = {k: getattr(locked, k) for k in changes}
        for key, value in changes.items():
            setattr(locked, key, value)
        locked.save(update_fields=list(changes))
        shown = ", ".join(
            f"{k} = {v.isoformat() if isinstance(v, dt.datetime) else v}"
            for k, v in changes.items()
        )
        _entry(locked, actor, EntryKind.FACTS, shown)
        audit_record(
            actor=actor,
            verb="incident.facts",
            subject_type="incident",
            subject_id=locked.pk,
            before=before,
            after=changes,
        )
        return locked


# ----------------------------------------------------------------------------- briefings


def _clean(items: Sequence[str]) -> list[str]:
    return [i.strip() for i in items if i.strip()]


def briefing_issue(
    *,
    actor: Person,
    incident: Incident | int,
    form: str = BriefingForm.EXECUTIVE,
    status_summary: str,
    overview: str = "",
    knowns: Sequence[str] = (),
    unknowns: Sequence[Unknown] = (),
    actions: Sequence[str] = (),
    asks: Sequence[str] = (),
    next_steps: Sequence[str] = (),
    next_update_due: dt.datetime | None = None,
) -> Briefing:
    """Issue a briefing and queue it to its audience: executive → CIO, CISO and lead; tactical
    → the responders. The next update falls due by policy cadence, or earlier if promised."""
    if form not in BriefingForm.values:
        raise InputError(f"form is one of {', '.join(BriefingForm.values)}", field="form")
    if not status_summary.strip():
        raise InputError("say where things stand", field="status_summary")
    for unknown in unknowns:
        if unknown.confidence not in Confidence.values:
            raise InputError(
                f"confidence is one of {', '.join(Confidence.values)}", field="unknowns"
            )
    doc, _ = active_policy()
    now = clock.now()
    with transaction.atomic():
        locked = _locked(incident)
        _responder(locked, actor, "brief on it")
        if locked.status == S.CLOSED:
            raise RuleViolation(f"INC-{locked.pk} is closed; the review is the last word")
        interval = cadence_interval(doc, locked.severity)
        latest_allowed = now + interval if interval and locked.status in HANDLING else None
        if next_update_due is not None:
            if next_update_due.tzinfo is None or next_update_due <= now:
                raise InputError(
                    "the next update must be a future, aware time", field="next_update_due"
                )
            if latest_allowed is not None and next_update_due > latest_allowed:
                raise RuleViolation(
                    f"policy wants a {locked.get_severity_display()} update at least every "
                    f"{interval}; the next is due by {latest_allowed.isoformat()}"
                )
        number = (
            locked.briefings.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        briefing = Briefing.objects.create(
            incident=locked,
            number=number,
            form=form,
            status_summary=status_summary.strip(),
            overview=overview.strip(),
            knowns=_clean(knowns),
            unknowns=[
                {"text": u.text.strip(), "confidence": u.confidence}
                for u in unknowns
                if u.text.strip()
            ],
            actions=_clean(actions),
            asks=_clean(asks),
            next_steps=_clean(next_steps),
            next_update_due=next_update_due or latest_allowed,
            author=actor,
            issued_at=now,
            incident_status=locked.status,
        )
        _entry(
            locked,
            actor,
            EntryKind.BRIEFING,
            f"{briefing.get_form_display()} briefing #{number}: {briefing.status_summary}",
        )
        audit_record(
            actor=actor,
            verb="incident.briefed",
            subject_type="incident",
            subject_id=locked.pk,
            after={
                "briefing": briefing.pk,
                "number": number,
                "form": form,
                "next_update_due": briefing.next_update_due.isoformat()
                if briefing.next_update_due
                else None,
            },
        )
        if form == BriefingForm.EXECUTIVE:
            audience = _leaders(locked)
        else:
            audience = [p for p in (locked.lead, locked.liaison, locked.scribe, locked.ciso) if p]
        notify(
            event=f"incident.briefing.{form}",
            title=f"INC-{locked.pk} {form} briefing #{number}: {locked.title}",
            text=render_markdown(briefing, clocks=incident_clocks(locked, now=now)),
            people=audience,
            facts={
                "incident": locked.pk,
                "briefing": briefing.pk,
                "status": locked.status,
                "severity": locked.severity,
                "next_update_due": briefing.next_update_due.isoformat()
                if briefing.next_update_due
                else None,
            },
        )
        return briefing


def briefing_acknowledge(*, actor: Person, briefing: Briefing | int) -> Briefing:
    """The CIO acknowledges a briefing; the first acknowledgement marks the CIO informed."""
    pk = briefing if isinstance(briefing, int) else briefing.pk
    with transaction.atomic():
        found = Briefing.objects.filter(pk=pk).values_list("incident_id", flat=True).first()
        if found is None:
            raise NotFound(f"briefing {pk} does not exist")
        incident = _locked(found)
        locked = Briefing.objects.select_for_update().get(pk=pk)
        if incident.cio_id is not None:
            if actor.pk != incident.cio_id:
                raise PermissionDenied(f"only INC-{incident.pk}'s CIO acknowledges its briefings")
        elif not actor.has_role(Role.CIO):
            raise PermissionDenied("only a CIO acknowledges briefings")
        if locked.acknowledged_at is not None:
            raise RuleViolation(f"briefing {pk} was already acknowledged")
        now = clock.now()
        locked.acknowledged_by = actor
        locked.acknowledged_at = now
        locked.save(update_fields=["acknowledged_by", "acknowledged_at"])
        first = incident.cio_informed_at is None
        if first:
            incident.cio_informed_at = now
            incident.save(update_fields=["cio_informed_at"])
        _entry(
            incident, actor, EntryKind.ACK, f"{actor.name} acknowledged briefing #{locked.number}"
        )
        audit_record(
            actor=actor,
            verb="incident.briefing_acknowledged",
            subject_type="incident",
            subject_id=incident.pk,
            after={"briefing": pk, "first": first, "at": now.isoformat()},
        )
        return locked


def briefing_answer(*, actor: Person, briefing: Briefing | int, ask: int, answer: str) -> Briefing:
    """The CIO answers one of a briefing's asks (``ask`` is 1-based): once per ask, while the
    incident is open; the answer goes on the timeline as a decision."""
    pk = briefing if isinstance(briefing, int) else briefing.pk
    text = answer.strip()
    with transaction.atomic():
        found = Briefing.objects.filter(pk=pk).values_list("incident_id", flat=True).first()
        if found is None:
            raise NotFound(f"briefing {pk} does not exist")
        incident = _locked(found)
        locked = Briefing.objects.select_for_update().get(pk=pk)
        if incident.cio_id is not None:
            if actor.pk != incident.cio_id:
                raise PermissionDenied(f"only INC-{incident.pk}'s CIO answers its briefings' asks")
        elif not actor.has_role(Role.CIO):
            raise PermissionDenied("only a CIO answers a briefing's asks")
        if incident.status == IncidentStatus.CLOSED:
            raise RuleViolation(f"INC-{incident.pk} is closed")
        if not 1 <= ask <= len(locked.asks):
            raise InputError(
                f"briefing #{locked.number} has {len(locked.asks)} ask(s), not {ask}", field="ask"
            )
        if not text:
            raise InputError("write the answer", field="answer")
        if len(text) > 2000:
            raise InputError("an answer is at most 2000 characters", field="answer")
        if any(a.get("ask") == ask for a in locked.answers):
            raise RuleViolation(f"ask {ask} of briefing #{locked.number} is already answered")
        now = clock.now()
        locked.answers = [
            *locked.answers,
            {"ask": ask, "text": text, "by": actor.name, "at": now.isoformat()},
        ]
        locked.save(update_fields=["answers"])
        question = locked.asks[ask - 1]
        _entry(
            incident,
            actor,
            EntryKind.DECISION,
            f"{actor.name} answered briefing #{locked.number}'s ask “{question}”: {text}",
        )
        audit_record(
            actor=actor,
            verb="incident.briefing_answered",
            subject_type="incident",
            subject_id=incident.pk,
            after={"briefing": pk, "ask": ask, "question": question, "answer": text},
        )
        return locked


# ----------------------------------------------------------------------------- clocks


def clock_met(
    *,
    actor: Person,
    incident: Incident | int,
    clock_key: str,
    filed_at: dt.datetime | None = None,
    reference: str = "",
    note: str = "",
) -> ClockFiling:
    """Record a filing against a regulatory clock; its state follows from due vs filed time."""
    spec = clocks.CLOCKS.get(clock_key)
    if spec is None:
        raise InputError(
            f"unknown clock {clock_key!r}; clocks: {', '.join(clocks.CLOCKS)}", field="clock"
        )
    when = _aware(filed_at, "filed_at") if filed_at else clock.now()
    with transaction.atomic():
        locked = _locked(incident)
        _responder(locked, actor, "record filings")
        current = {c.key: c for c in incident_clocks(locked)}[clock_key]
        if current.state == clocks.ClockState.NOT_APPLICABLE:
            raise RuleViolation(f"{spec.regime} {spec.label} does not apply: {current.basis}")
        if current.filed_at is not None and not spec.repeatable:
            raise RuleViolation(
                f"{spec.regime} {spec.label} was already filed at {current.filed_at.isoformat()}"
            )
        if when < locked.aware_at and clock_key not in ("sec_8k", "sec_8k_a"):
            raise InputError("a filing cannot come before awareness", field="filed_at")
        filing = ClockFiling.objects.create(
            incident=locked,
            clock=clock_key,
            filed_at=when,
            reference=reference.strip(),
            note=note.strip(),
            recorded_by=actor,
            recorded_at=clock.now(),
        )
        after = {c.key: c for c in incident_clocks(locked)}[clock_key]
        _entry(
            locked,
            actor,
            EntryKind.CLOCK,
            f"{spec.regime} {spec.label} filed ({after.state})"
            + (f", ref {filing.reference}" if filing.reference else ""),
        )
        audit_record(
            actor=actor,
            verb="incident.clock_met",
            subject_type="incident",
            subject_id=locked.pk,
            after={
                "clock": clock_key,
                "filed_at": when.isoformat(),
                "state": after.state,
                "due": after.due.isoformat() if after.due else None,
                "reference": filing.reference,
            },
        )
        return filing


# ----------------------------------------------------------------------------- timeline, review

MANUAL_KINDS = frozenset({EntryKind.NOTE, EntryKind.DECISION, EntryKind.ACTION})


def timeline_add(
    *,
    actor: Person,
    incident: Incident | int,
    text: str,
    kind: str = EntryKind.NOTE,
    at: dt.datetime | None = None,
) -> TimelineEntry:
    """Append to the timeline (there is no service to change or remove an entry)."""
    if kind not in MANUAL_KINDS:
        raise InputError(f"kind is one of {', '.join(sorted(MANUAL_KINDS))}", field="kind")
    if not text.strip():
        raise InputError("an entry needs text", field="text")
    with transaction.atomic():
        locked = _locked(incident)
        _responder(locked, actor, "write its timeline")
        moment = _aware(at, "at") if at else clock.now()
        entry = TimelineEntry.objects.create(
            incident=locked,
            at=moment,
            author=actor,
            kind=kind,
            text=text.strip(),
            recorded_at=clock.now(),
        )
        audit_record(
            actor=actor,
            verb="incident.timeline",
            subject_type="incident",
            subject_id=locked.pk,
            after={"entry": entry.pk, "kind": kind, "at": moment.isoformat()},
        )
        return entry


def review_record(
    *,
    actor: Person,
    incident: Incident | int,
    what_happened: str,
    went_well: str = "",
    went_badly: str = "",
    actions: Sequence[ActionItem] = (),
    decisions: Sequence[DecisionRecord] = (),
) -> Review:
    """Write (or revise) the post-incident review once the incident is recovered or closed.
    Actions and linked decisions accumulate across revisions."""
    if not what_happened.strip():
        raise InputError("say what happened", field="what_happened")
    for item in actions:
        if not item.text.strip():
            raise InputError("an action needs text", field="actions")
    with transaction.atomic():
        locked = _locked(incident)
        _responder(locked, actor, "review it")
        if locked.status in HANDLING:
            raise RuleViolation(f"INC-{locked.pk} is {locked.status}; review after recovery")
        now = clock.now()
        review, created = Review.objects.select_for_update().get_or_create(
            incident=locked,
            defaults={
                "what_happened": what_happened.strip(),
                "author": actor,
                "created_at": now,
                "updated_at": now,
            },
        )
        review.what_happened = what_happened.strip()
        review.went_well = went_well.strip()
        review.went_badly = went_badly.strip()
        review.updated_at = now
        review.save()
        ReviewAction.objects.bulk_create(
            [
                ReviewAction(review=review, text=a.text.strip(), owner=a.owner, due=a.due)
                for a in actions
            ]
        )
        review.decisions.add(*decisions)
        _entry(
            locked,
            actor,
            EntryKind.REVIEW,
            ("review written" if created else "review revised")
            + f"; {len(actions)} action(s) added",
        )
        audit_record(
            actor=actor,
            verb="incident.reviewed",
            subject_type="incident",
            subject_id=locked.pk,
            after={
                "created": created,
                "actions": [a.text for a in actions],
                "decisions": [d.pk for d in decisions],
            },
        )
        return review


# ----------------------------------------------------------------------------- reminders


def incidents_send_reminders(*, now: dt.datetime | None = None) -> list[tuple[int, str]]:
    """Remind the lead before a CIO briefing falls due, and tell both leaders once it is overdue.
    Each (kind, due time) goes out once. Returns (incident id, kind) pairs sent."""
    moment = now or clock.now()
    doc, _ = active_policy()
    sent: list[tuple[int, str]] = []
    for pk in Incident.objects.filter(status__in=HANDLING).values_list("id", flat=True):
        with transaction.atomic():
            locked = _locked(pk)
            status = briefing_status(locked, now=moment, doc=doc)
            if status.state not in (BriefingState.REMINDER, BriefingState.OVERDUE):
                continue
            assert status.due is not None
            kind = "overdue" if status.state == BriefingState.OVERDUE else "reminder"
            mark = f"{kind}:{status.due.isoformat()}"
            if mark in locked.reminders_sent:
                continue
            locked.reminders_sent = [*locked.reminders_sent, mark]
            locked.save(update_fields=["reminders_sent"])
            if kind == "overdue":
                people = _leaders(locked)
                title = f"INC-{locked.pk}: CIO briefing overdue since {status.due:%H:%M} UTC"
            else:
                people = [p for p in (locked.lead, locked.scribe) if p]
                title = f"INC-{locked.pk}: CIO briefing due at {status.due:%H:%M} UTC"
            notify(
                event=f"incident.briefing_{kind}",
                title=title,
                text=f"{locked.title}: the next briefing is due {status.due.isoformat()}.",
                people=people,
                facts={
                    "incident": locked.pk,
                    "due": status.due.isoformat(),
                    "severity": locked.severity,
                },
            )
            audit_record(
                actor=None,
                verb=f"incident.briefing_{kind}",
                subject_type="incident",
                subject_id=locked.pk,
                after={"due": status.due.isoformat()},
            )
            sent.append((locked.pk, kind))
    return sent
