"""Writes: propose, schedule and minute a decision meeting; run a facilitated reset.

Keyword-only, typed, atomic and audited. The leaders (CIO, CISO) run both; the system (``actor``
``None``) may propose a meeting when the radar is amber or red. A facilitator never writes here:
their reads go through ``reset_read``, which checks the access window on every call and audits it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from detente.audit.models import AuditEvent
from detente.audit.services import audit_record
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.decisions.models import DecisionRecord, EscalationLevel
from detente.decisions.services import decision_create, decision_decide
from detente.meetings.models import (
    Action,
    AgendaItem,
    Attendee,
    Checkin,
    ItemOutcome,
    Meeting,
    MeetingKind,
    MeetingStatus,
    ResetEngagement,
    ResetStatus,
)
from detente.people.models import Person, Role
from detente.tension.models import PulseResponse, TensionSnapshot
from detente.tension.selectors import leader, snapshot_get, snapshot_latest
from detente.tension.signals import Period

LEADERS = (Role.CIO, Role.CISO)
# The five principles, in the order an agenda item is framed on them.
PRINCIPLES: tuple[tuple[str, str], ...] = (
    ("company_first", "Company first: why does each option serve the company before either side?"),
    ("business_benefit", "Business benefit: what does each option bring the business?"),
    ("facts", "Fact-driven: which facts (the evidence listed) support or refute each option?"),
    ("informed", "Transparent, never offensive: who is informed of the outcome, and how?"),
    ("win_win", "Win-win: which option lets both organisations win?"),
)
# A proposed meeting's items are due this long after the proposal (the radar's action: within 10
# business days); scheduling later moves them to the meeting's day.
DECIDE_WITHIN = dt.timedelta(days=14)
TOP_SIGNALS = 3
# Which pressure point a decision taken on a signal's item records (others: patching).
PRESSURE_POINT = {
    "briefing_latency": "incident",
    "gate_override_rate": "devsecops",
    "gate_overrides_undecided": "devsecops",
}
SCOPES = ("radar", "pulse", "decisions", "acceptances", "incidents")
CHECKIN_DAYS = (30, 60, 90)
MAX_ACCESS_DAYS = 120


def _leader_only(actor: Person | None, what: str) -> Person:
    if actor is None or not actor.has_any_role(LEADERS):
        raise PermissionDenied(f"only the CIO or the CISO {what}")
    return actor


def _leaders() -> list[Person]:
    return [leader(Role.CIO), leader(Role.CISO)]


# ----------------------------------------------------------------------------- propose


def _framing(question: str, facts: list[str]) -> dict[str, Any]:
    cio, ciso = _leaders()
    return {
        "question": question,
        "prompts": dict(PRINCIPLES),
        "facts": facts,
        "informed": [cio.name, ciso.name],
    }


def _evidence_text(evidence: dict[str, list[int]]) -> str:
    return "; ".join(f"{kind} {', '.join(map(str, ids))}" for kind, ids in evidence.items() if ids)


def _agenda(snapshot: TensionSnapshot) -> list[dict[str, Any]]:
    """The items: the top signals with their records, the red lines, the open decisions."""
    items: list[dict[str, Any]] = []
    top = sorted(
        (s for s in snapshot.signals if (s.get("contribution") or 0) > 0),
        key=lambda s: -float(s["contribution"]),
    )[:TOP_SIGNALS]
    for s in top:
        evidence = {k: list(v) for k, v in (s.get("evidence") or {}).items() if v}
        facts = [f"{s['name']}: {s['value']} ({s['contribution']} index points)"]
        if evidence:
            facts.append(f"Evidence: {_evidence_text(evidence)}")
        items.append(
            {
                "title": f"Decide on {s['name'].lower()}",
                "signal": s["key"],
                "evidence": evidence,
                "framing": _framing(f"What do we decide about {s['name'].lower()}?", facts),
            }
        )
    for t in snapshot.triggers:
        evidence = {k: list(v) for k, v in (t.get("evidence") or {}).items() if v}
        facts = [f"Red line: {t['label']}"]
        if evidence:
            facts.append(f"Evidence: {_evidence_text(evidence)}")
        items.append(
            {
                "title": f"Red line: {t['label']}"[:300],
                "signal": t["key"],
                "evidence": evidence,
                "framing": _framing(f"How do we get back inside the line: {t['label']}?", facts),
            }
        )
    actions = snapshot.actions or {}
    pack = actions.get("briefing_pack") or {}
    for row in actions.get("open_decisions") or pack.get("open_decisions") or []:
        items.append(
            {
                "title": f"Decide DR-{row['id']}: {row['title']}"[:300],
                "signal": "",
                "evidence": {"decisions": [row["id"]]},
                "decision_id": row["id"],
                "framing": _framing(
                    f"DR-{row['id']}: {row['title']}", list(row.get("prompts") or [])
                ),
            }
        )
    if not items:
        items.append(
            {
                "title": "What does each of us need from the other this quarter?",
                "signal": "",
                "evidence": {},
                "framing": _framing("What does each of us need from the other this quarter?", []),
            }
        )
    return items


def _carry_deferred(meeting: Meeting, until: dt.date | None = None) -> list[AgendaItem]:
    """Deferred items of earlier decision meetings, not carried yet, join ``meeting``'s agenda
    (those deferred to ``until`` or before, or all): same question, evidence and decision record,
    due on the date they were deferred to, with their history (each meeting that deferred it)."""
    waiting = (
        AgendaItem.objects.filter(
            outcome=ItemOutcome.DEFERRED,
            carried_to__isnull=True,
            meeting__kind=MeetingKind.DECISION,
        )
        .exclude(meeting=meeting)
        .select_related("meeting")
        .order_by("deferred_to", "meeting_id", "position")
    )
    if until is not None:
        waiting = waiting.filter(deferred_to__lte=until)
    position = max(meeting.items.values_list("position", flat=True), default=0)
    carried = []
    for old in waiting:
        position += 1
        history = [
            *(old.framing.get("history") or []),
            {
                "meeting": old.meeting_id,
                "item": old.position,
                "deferred_to": old.deferred_to.isoformat() if old.deferred_to else None,
                "reason": old.deferred_reason,
                "at": old.closed_at.isoformat() if old.closed_at else None,
            },
        ]
        carried.append(
            AgendaItem.objects.create(
                meeting=meeting,
                position=position,
                title=old.title,
                signal=old.signal,
                evidence=old.evidence,
                framing={**old.framing, "history": history},
                decide_by=old.deferred_to or (clock.now() + DECIDE_WITHIN).date(),
                decision=old.decision,
                carried_from=old,
            )
        )
    return carried


def meeting_propose(
    *, actor: Person | None, period: Period | None = None, title: str = ""
) -> Meeting:
    """A structured decision meeting on the radar's evidence for ``period`` (default: the latest).

    The system proposes one when the zone is amber or red; either leader may ask for one in any
    zone. One meeting per radar month until it is held.
    """
    if actor is not None:
        _leader_only(actor, "asks for a decision meeting")
    snapshot = snapshot_get(period) if period is not None else snapshot_latest()
    if actor is None and snapshot.zone == "green":
        raise RuleViolation(
            f"the radar for {snapshot.period} is green: a leader asks for a meeting when needed"
        )
    now = clock.now()
    with transaction.atomic():
        pending = Meeting.objects.filter(kind=MeetingKind.DECISION, period=snapshot.period).exclude(
            status=MeetingStatus.HELD
        )
        if pending.exists():
            raise RuleViolation(
                f"M-{pending.first().pk} for {snapshot.period} is not held yet"  # type: ignore[union-attr]
            )
        meeting = Meeting.objects.create(
            kind=MeetingKind.DECISION,
            title=(title.strip() or f"Decision meeting on the {snapshot.period} radar")[:200],
            period=snapshot.period,
            zone=snapshot.zone,
            reason="radar" if actor is None else "asked",
            proposed_by=actor,
            proposed_at=now,
        )
        for person in _leaders():
            Attendee.objects.create(meeting=meeting, person=person)
        due = (now + DECIDE_WITHIN).date()
        decisions = {
            d.pk: d
            for d in DecisionRecord.objects.filter(
                pk__in=[i["decision_id"] for i in _agenda(snapshot) if "decision_id" in i]
            )
        }
        for position, item in enumerate(_agenda(snapshot), start=1):
            AgendaItem.objects.create(
                meeting=meeting,
                position=position,
                title=item["title"],
                signal=item["signal"],
                evidence=item["evidence"],
                framing=item["framing"],
                decide_by=due,
                decision=decisions.get(item.get("decision_id", 0)),
            )
        carried = _carry_deferred(meeting)
        audit_record(
            actor=actor,
            verb="meeting.proposed",
            subject_type="meeting",
            subject_id=meeting.pk,
            after={
                "period": snapshot.period,
                "zone": snapshot.zone,
                "reason": meeting.reason,
                "items": meeting.items.count(),
                "carried": [i.carried_from_id for i in carried],
            },
        )
        return meeting


# ----------------------------------------------------------------------------- schedule


def meeting_schedule(
    *,
    actor: Person,
    meeting: Meeting,
    starts_at: dt.datetime,
    minutes: int = 60,
    location: str = "",
    delegates: Sequence[Person] = (),
    reason: str = "",
) -> Meeting:
    """Set (or move) the meeting's time; a move is recorded and raises the ICS SEQUENCE."""
    _leader_only(actor, "schedules a decision meeting")
    if starts_at.tzinfo is None:
        raise InputError(
            "give the start with its time zone (e.g. 2026-12-08T10:00+01:00)", field="starts_at"
        )
    if starts_at <= clock.now():
        raise InputError("a meeting is scheduled in the future", field="starts_at")
    if not 15 <= minutes <= 480:
        raise InputError("a meeting lasts 15 to 480 minutes", field="minutes")
    for person in delegates:
        if not person.active or person.has_any_role((Role.AUDITOR, Role.FACILITATOR)):
            raise InputError(
                f"{person.email} cannot be a delegate (inactive, auditor or facilitator)",
                field="delegates",
            )
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status == MeetingStatus.HELD:
            raise RuleViolation(f"M-{locked.pk} was held on {locked.held_at:%Y-%m-%d}")
        before = None if locked.starts_at is None else locked.starts_at.isoformat()
        if locked.starts_at is not None:
            if not reason.strip():
                raise InputError("say why the meeting moves", field="reason")
            locked.reschedules = [
                *locked.reschedules,
                {
                    "from": before,
                    "to": starts_at.isoformat(),
                    "reason": reason.strip(),
                    "by": actor.email,
                    "at": clock.now().isoformat(),
                },
            ]
            locked.sequence += 1
        locked.starts_at = starts_at
        locked.ends_at = starts_at + dt.timedelta(minutes=minutes)
        if location:
            locked.location = location.strip()[:200]
        locked.status = MeetingStatus.SCHEDULED
        locked.save()
        for person in delegates:
            Attendee.objects.get_or_create(
                meeting=locked, person=person, defaults={"delegate": True}
            )
        # Deferred items whose date falls on or before the meeting's day join its agenda.
        day = starts_at.astimezone(dt.UTC).date()
        carried = _carry_deferred(locked, until=day) if locked.kind == MeetingKind.DECISION else []
        # The items are due on the meeting's day when it is later than their date.
        locked.items.filter(outcome=ItemOutcome.OPEN, decide_by__lt=day).update(decide_by=day)
        audit_record(
            actor=actor,
            verb="meeting.rescheduled" if before else "meeting.scheduled",
            subject_type="meeting",
            subject_id=locked.pk,
            before={"starts_at": before},
            after={
                "starts_at": starts_at.isoformat(),
                "sequence": locked.sequence,
                "delegates": [p.email for p in delegates],
                "reason": reason.strip(),
                "carried": [i.carried_from_id for i in carried],
            },
        )
        return locked


# ----------------------------------------------------------------------------- minutes


def _date(value: Any, record: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(
            f"a date is YYYY-MM-DD, not {value!r}", record=record, field=field
        ) from None


def _person(email: Any, record: str, field: str) -> Person:
    found = Person.objects.filter(email=str(email or "").strip().lower(), active=True).first()
    if found is None:
        raise InputError(f"no active person with e-mail {email!r}", record=record, field=field)
    return found


def _decide_item(
    actor: Person, meeting: Meeting, item: AgendaItem, raw: dict[str, Any], record: str
) -> DecisionRecord:
    text = str(raw.get("decision") or "").strip()
    if not text:
        raise InputError("state the decision", record=record, field="decision")
    chosen = raw.get("chosen_option")
    followed = raw.get("ciso_recommendation_followed")
    if followed is not None and not isinstance(followed, bool):
        raise InputError("true or false", record=record, field="ciso_recommendation_followed")
    why_blank = str(raw.get("why_blank") or "")
    try:
        if item.decision is not None:
            target = item.decision
        else:
            target = decision_create(
                actor=actor,
                title=item.title[:200],
                pressure_point=str(
                    raw.get("pressure_point") or PRESSURE_POINT.get(item.signal, "patching")
                ),
                question=str(item.framing.get("question") or item.title),
                options=list(raw.get("options") or []),
                company_first=str(raw.get("company_first") or ""),
                informed=[str(x) for x in raw.get("informed") or item.framing.get("informed", [])],
                win_win=str(raw.get("win_win") or ""),
                escalation_level=EscalationLevel.LEADERS,
            )
        return decision_decide(
            actor=actor,
            record=target,
            decision=text,
            chosen_option=None if chosen is None else int(chosen),
            ciso_recommendation_followed=followed,
            why_blank=why_blank,
        )
    except InputError as exc:
        raise InputError(
            exc.message, record=f"{record} {exc.record or ''}".strip(), field=exc.field
        ) from None
    except (TypeError, ValueError):
        raise InputError("a whole number", record=record, field="chosen_option") from None


def meeting_minutes(  # noqa: C901, PLR0912, PLR0915 - split pending (meetings branch edits this)
    *,
    actor: Person,
    meeting: Meeting,
    minutes: str,
    attended: Sequence[str],
    outcomes: Sequence[dict[str, Any]],
    actions: Sequence[dict[str, Any]] = (),
) -> Meeting:
    """Close a held meeting: who came, what was said, every item decided (a decision record) or
    deferred to a date, and the actions with owners and due dates. All or nothing."""
    _leader_only(actor, "records the minutes")
    if not minutes.strip():
        raise InputError("write the minutes", field="minutes")
    now = clock.now()
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status == MeetingStatus.HELD:
            raise RuleViolation(f"M-{locked.pk} already has its minutes")
        if locked.starts_at is None or locked.starts_at > now:
            raise RuleViolation(f"M-{locked.pk} has not taken place yet (schedule it first)")
        people = {a.person.email: a for a in locked.attendees.select_related("person")}
        present = {str(e).strip().lower() for e in attended}
        unknown = sorted(present - set(people))
        if unknown:
            raise InputError(f"not invited: {', '.join(unknown)}", field="attended")
        if not present:
            raise InputError("name who attended", field="attended")
        items = {i.position: i for i in locked.items.all()}
        seen: set[int] = set()
        for index, raw in enumerate(outcomes):
            record = f"outcomes[{index}]"
            if not isinstance(raw, dict):
                raise InputError("expected an object", record=record)
            position = raw.get("item")
            item = items.get(position) if isinstance(position, int) else None
            if item is None:
                raise InputError(f"no agenda item {position!r}", record=record, field="item")
            if position in seen:
                raise InputError(f"item {position} twice", record=record, field="item")
            seen.add(item.position)
            if item.outcome != ItemOutcome.OPEN:
                raise RuleViolation(f"item {position} is already {item.outcome}")
            if "defer_to" in raw:
                to = _date(raw["defer_to"], record, "defer_to")
                if to <= now.date():
                    raise InputError("defer to a later date", record=record, field="defer_to")
                why = str(raw.get("reason") or "").strip()
                if not why:
                    raise InputError("say why it is deferred", record=record, field="reason")
                item.outcome, item.deferred_to, item.deferred_reason = (
                    ItemOutcome.DEFERRED,
                    to,
                    why,
                )
            else:
                item.decision = _decide_item(actor, locked, item, raw, record)
                item.outcome = ItemOutcome.DECIDED
            item.closed_at = now
            item.save()
        missing = sorted(set(items) - seen)
        if missing:
            raise InputError(
                f"every agenda item ends decided or deferred; item(s) {missing} have no outcome",
                field="outcomes",
            )
        made = []
        for index, raw in enumerate(actions):
            record = f"actions[{index}]"
            if not isinstance(raw, dict):
                raise InputError("expected an object", record=record)
            title = str(raw.get("title") or "").strip()
            if not title:
                raise InputError("an action says what is done", record=record, field="title")
            owner = _person(raw.get("owner"), record, "owner")
            due = _date(raw.get("due"), record, "due")
            if due < now.date():
                raise InputError("an action is due today or later", record=record, field="due")
            linked = raw.get("item")
            if linked is not None and linked not in items:
                raise InputError(f"no agenda item {linked!r}", record=record, field="item")
            made.append(
                Action.objects.create(
                    meeting=locked,
                    item=items.get(linked) if linked is not None else None,
                    title=title[:300],
                    owner=owner,
                    due=due,
                )
            )
        for email, attendee in people.items():
            attendee.attended = email in present
            attendee.save(update_fields=["attended"])
        locked.minutes = minutes.strip()
        locked.status = MeetingStatus.HELD
        locked.held_at = now
        locked.save()
        audit_record(
            actor=actor,
            verb="meeting.minuted",
            subject_type="meeting",
            subject_id=locked.pk,
            after={
                "attended": sorted(present),
                "decided": [i.decision_id for i in items.values() if i.decision_id],
                "deferred": [
                    i.position for i in items.values() if i.outcome == ItemOutcome.DEFERRED
                ],
                "actions": [a.pk for a in made],
            },
        )
        return locked


def action_done(*, actor: Person, action: Action) -> Action:
    """Its owner (or a leader) marks an action done."""
    if actor.pk != action.owner_id and not actor.has_any_role(LEADERS):
        raise PermissionDenied("the action's owner or a leader marks it done")
    with transaction.atomic():
        locked = Action.objects.select_for_update().get(pk=action.pk)
        if locked.done_at is not None:
            raise RuleViolation(f"action {locked.pk} was done on {locked.done_at:%Y-%m-%d}")
        locked.done_at = clock.now()
        locked.save(update_fields=["done_at"])
        audit_record(
            actor=actor,
            verb="meeting.action_done",
            subject_type="meeting_action",
            subject_id=locked.pk,
            after={"meeting": locked.meeting_id},
        )
        return locked


# ----------------------------------------------------------------------------- reset


def _pulse_summary(period: str) -> dict[str, Any]:
    rows = {p.role: p.answers for p in PulseResponse.objects.filter(period=period)}
    return {"period": period, "answers": rows}


def _radar_now() -> dict[str, Any]:
    snap = TensionSnapshot.objects.order_by("-period").first()
    if snap is None:
        return {}
    return {"period": snap.period, "index": snap.index, "zone": snap.zone}


def reset_start(
    *,
    actor: Person,
    facilitator: Person,
    scope: Sequence[str],
    goals: str,
    access_days: int = 90,
) -> ResetEngagement:
    """Propose a reset: the facilitator, the evidence the pair shares, the goals. The proposing
    leader signs the scope; the other leader's signature (``reset_grant``) starts it."""
    _leader_only(actor, "starts a reset")
    if not facilitator.has_role(Role.FACILITATOR) or not facilitator.active:
        raise InputError(f"{facilitator.email} is not an active facilitator", field="facilitator")
    wrong = sorted(set(scope) - set(SCOPES))
    if wrong or not scope:
        raise InputError(
            f"the scope is some of {', '.join(SCOPES)}; not {wrong or 'empty'}", field="scope"
        )
    if not 1 <= access_days <= MAX_ACCESS_DAYS:
        raise InputError(f"access lasts 1 to {MAX_ACCESS_DAYS} days", field="access_days")
    if not goals.strip():
        raise InputError("state the reset's goals", field="goals")
    now = clock.now()
    with transaction.atomic():
        running = ResetEngagement.objects.exclude(status=ResetStatus.ENDED).first()
        if running is not None:
            raise RuleViolation(f"RS-{running.pk} is {running.status}; end it first")
        baseline = _radar_now()
        if baseline:
            baseline["pulse"] = _pulse_summary(baseline["period"])
        reset = ResetEngagement.objects.create(
            facilitator=facilitator,
            scope=sorted(set(scope)),
            goals=goals.strip(),
            started_by=actor,
            started_at=now,
            access_days=access_days,
            baseline=baseline,
            # one seat even for a person holding both roles: the other leader signs the other
            cio_signed_at=now if actor.leader_role == Role.CIO else None,
            ciso_signed_at=now if actor.leader_role == Role.CISO else None,
        )
        audit_record(
            actor=actor,
            verb="reset.started",
            subject_type="reset",
            subject_id=reset.pk,
            after={
                "facilitator": facilitator.email,
                "scope": reset.scope,
                "access_days": access_days,
                "baseline": baseline,
            },
        )
        return reset


def reset_grant(*, actor: Person, reset: ResetEngagement) -> ResetEngagement:
    """The other leader signs the scope: the reset starts, the facilitator's read-only access
    opens for ``access_days`` and the 30/60/90-day check-ins are set."""
    _leader_only(actor, "signs a reset's scope")
    now = clock.now()
    with transaction.atomic():
        locked = ResetEngagement.objects.select_for_update().get(pk=reset.pk)
        if locked.status != ResetStatus.PROPOSED:
            raise RuleViolation(f"RS-{locked.pk} is {locked.status}")
        if actor.pk == locked.started_by_id:
            raise RuleViolation(
                "separation of duties: the other leader signs the scope, not who proposed it"
            )
        mine = "cio_signed_at" if locked.cio_signed_at is None else "ciso_signed_at"
        if not actor.has_role(Role.CIO if mine == "cio_signed_at" else Role.CISO):
            raise PermissionDenied(f"RS-{locked.pk} waits for the other leader's signature")
        if getattr(locked, mine) is not None:
            raise RuleViolation(
                "separation of duties: the other leader signs the scope too "
                f"({actor.get_role_display()} already signed)"
            )
        setattr(locked, mine, now)
        locked.status = ResetStatus.ACTIVE
        locked.access_from = now
        locked.access_until = now + dt.timedelta(days=locked.access_days)
        locked.save()
        for day in CHECKIN_DAYS:
            Checkin.objects.create(
                reset=locked, day=day, due_on=(now + dt.timedelta(days=day)).date()
            )
        audit_record(
            actor=actor,
            verb="reset.granted",
            subject_type="reset",
            subject_id=locked.pk,
            after={
                "facilitator": locked.facilitator.email,
                "scope": locked.scope,
                "access_until": locked.access_until.isoformat(),
            },
        )
        return locked


def reset_charter_add(
    *, actor: Person, reset: ResetEngagement, record: DecisionRecord
) -> ResetEngagement:
    """An agreement of the reset (goals, decision rights, escalation protocol…) joins its
    charter; agreements are decision records."""
    _leader_only(actor, "adds to a reset's charter")
    with transaction.atomic():
        if reset.status != ResetStatus.ACTIVE:
            raise RuleViolation(f"RS-{reset.pk} is {reset.status}")
        reset.charter.add(record)
        audit_record(
            actor=actor,
            verb="reset.charter_added",
            subject_type="reset",
            subject_id=reset.pk,
            after={"decision": record.pk},
        )
        return reset


def reset_session_propose(
    *, actor: Person, reset: ResetEngagement, title: str, agenda: Sequence[str]
) -> Meeting:
    """A joint session of the reset: both leaders and the facilitator; schedule and minute it
    like a decision meeting."""
    _leader_only(actor, "proposes a joint session")
    if reset.status != ResetStatus.ACTIVE:
        raise RuleViolation(f"RS-{reset.pk} is {reset.status}")
    lines = [a.strip() for a in agenda if a.strip()]
    if not title.strip() or not lines:
        raise InputError("a joint session has a title and at least one agenda line", field="agenda")
    now = clock.now()
    with transaction.atomic():
        meeting = Meeting.objects.create(
            kind=MeetingKind.RESET_SESSION,
            title=title.strip()[:200],
            reason="reset",
            reset=reset,
            proposed_by=actor,
            proposed_at=now,
        )
        for person in [*_leaders(), reset.facilitator]:
            Attendee.objects.create(
                meeting=meeting, person=person, delegate=person.has_role(Role.FACILITATOR)
            )
        for position, line in enumerate(lines, start=1):
            AgendaItem.objects.create(
                meeting=meeting,
                position=position,
                title=line[:300],
                framing=_framing(line, []),
                decide_by=(now + DECIDE_WITHIN).date(),
            )
        audit_record(
            actor=actor,
            verb="reset.session_proposed",
            subject_type="meeting",
            subject_id=meeting.pk,
            after={"reset": reset.pk, "items": len(lines)},
        )
        return meeting


def reset_checkin(*, actor: Person, reset: ResetEngagement, day: int, notes: str = "") -> Checkin:
    """The 30/60/90-day check-in: needs this month's pulse from both leaders (retaken); stores
    the radar and the pulse before (the baseline) and now."""
    _leader_only(actor, "records a reset check-in")
    if day not in CHECKIN_DAYS:
        raise InputError(f"a check-in is on day {', '.join(map(str, CHECKIN_DAYS))}", field="day")
    now = clock.now()
    period = Period.of(now).label
    with transaction.atomic():
        locked = ResetEngagement.objects.select_for_update().get(pk=reset.pk)
        if locked.status != ResetStatus.ACTIVE:
            raise RuleViolation(f"RS-{locked.pk} is {locked.status}")
        checkin = Checkin.objects.select_for_update().get(reset=locked, day=day)
        if checkin.done_at is not None:
            raise RuleViolation(f"the {day}-day check-in was done on {checkin.done_at:%Y-%m-%d}")
        answered = set(PulseResponse.objects.filter(period=period).values_list("role", flat=True))
        missing = sorted({Role.CIO.value, Role.CISO.value} - answered)
        if missing:
            raise RuleViolation(
                f"retake the pulse first: {', '.join(m.upper() for m in missing)} has not "
                f"answered {period} (detente pulse answer)"
            )
        after = _radar_now()
        checkin.comparison = {
            "before": locked.baseline,
            "after": {**after, "pulse": _pulse_summary(period)},
            "index_change": (
                round(after["index"] - locked.baseline["index"], 1)
                if after and locked.baseline.get("index") is not None
                else None
            ),
        }
        checkin.done_at = now
        checkin.notes = notes.strip()
        checkin.save()
        audit_record(
            actor=actor,
            verb="reset.checkin",
            subject_type="reset",
            subject_id=locked.pk,
            after={"day": day, "index_change": checkin.comparison["index_change"]},
        )
        return checkin


def reset_end(*, actor: Person, reset: ResetEngagement) -> ResetEngagement:
    """Each leader signs the end; with both signatures the reset ends and the facilitator's
    access closes at once."""
    _leader_only(actor, "signs the end of a reset")
    now = clock.now()
    with transaction.atomic():
        locked = ResetEngagement.objects.select_for_update().get(pk=reset.pk)
        if locked.status != ResetStatus.ACTIVE:
            raise RuleViolation(f"RS-{locked.pk} is {locked.status}")
        signed_before = AuditEvent.objects.filter(
            verb="reset.end_signed", subject_type="reset", subject_id=str(locked.pk), actor=actor
        ).exists()
        if signed_before:  # one person, one signature, even holding both leaders' roles
            raise RuleViolation(
                "separation of duties: you already signed the end; the other leader signs too"
            )
        mine = "cio_end_signed_at" if actor.leader_role == Role.CIO else "ciso_end_signed_at"
        if (
            getattr(locked, mine) is not None
            and actor.has_role(Role.CIO)
            and actor.has_role(Role.CISO)
        ):
            mine = "ciso_end_signed_at" if mine == "cio_end_signed_at" else "cio_end_signed_at"
        if getattr(locked, mine) is not None:
            raise RuleViolation(
                f"the {actor.get_role_display()} already signed the end; the other leader signs too"
            )
        setattr(locked, mine, now)
        if locked.cio_end_signed_at and locked.ciso_end_signed_at:
            locked.status = ResetStatus.ENDED
            locked.ended_at = now
            if locked.access_until is None or locked.access_until > now:
                locked.access_until = now
        locked.save()
        audit_record(
            actor=actor,
            verb="reset.end_signed",
            subject_type="reset",
            subject_id=locked.pk,
            after={"status": locked.status},
        )
        return locked


def facilitator_reset(person: Person) -> ResetEngagement:
    """The reset whose access window is open for this facilitator now (checked on every read)."""
    if not person.has_role(Role.FACILITATOR):
        raise PermissionDenied("only the reset's facilitator reads through this door")
    now = clock.now()
    found = ResetEngagement.objects.filter(
        facilitator=person,
        status=ResetStatus.ACTIVE,
        access_from__lte=now,
        access_until__gt=now,
    ).first()
    if found is None:
        last = ResetEngagement.objects.filter(facilitator=person).first()
        when = (
            f" (it ended {last.access_until:%Y-%m-%d %H:%M} UTC)"
            if last is not None and last.access_until is not None
            else ""
        )
        raise PermissionDenied(f"no open facilitator access{when}")
    return found


def reset_read(*, actor: Person) -> dict[str, Any]:
    """What the facilitator may read, limited to the signed scope; each read is audited."""
    reset = facilitator_reset(actor)
    from detente.meetings.selectors import evidence_pack

    pack = evidence_pack(reset)
    with transaction.atomic():
        audit_record(
            actor=actor,
            verb="reset.facilitator_read",
            subject_type="reset",
            subject_id=reset.pk,
            after={"scope": reset.scope},
        )
    return pack
